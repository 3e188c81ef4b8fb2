"""Keeping the index in step with the catalog (the source of truth).

The index holds, for each dataset name, its latest published version and any
newer version waiting for curation: the dataset document and its records.
"""

from __future__ import annotations

from collections.abc import Iterator

from tqdm.auto import tqdm

from hub.access import PENDING_CURATION, PUBLISHED, Action, Kind, Resource
from hub.access.index import document_acl
from hub.db.database import Database
from hub.db.models import DatasetRow
from hub.index.engine import IndexDoc, SearchIndex

BATCH = 5_000


def indexed_versions(rows: list[DatasetRow]) -> list[DatasetRow]:
    """Of one name's versions: the latest published one and newer pending ones."""
    published = [r for r in rows if r.status == PUBLISHED]
    latest = max((r.version for r in published), default=0)
    return [
        r
        for r in rows
        if (r.status == PUBLISHED and r.version == latest)
        or (r.status == PENDING_CURATION and r.version > latest)
    ]


def documents(catalog: Database, row: DatasetRow) -> Iterator[IndexDoc]:
    """The index documents of dataset version ``row``: its dataset document, then its records.

    All carry the version's ACL (its owner, its stored ``see`` entries once published,
    the curators while it waits for curation), users by id.
    """
    acl = document_acl(
        Resource(Kind.DATASET, row.owner, row.status, {Action.SEE: catalog.acl(row.source_id)})
    )
    yield IndexDoc(row.source_id, "dataset", row.source_id, acl, row.document)
    for rec in catalog.iter_records(row.source_id, batch=BATCH):
        yield IndexDoc(rec["mdf"]["record_id"], "record", row.source_id, acl, rec)


def sync_name(catalog: Database, index: SearchIndex, source_name: str) -> int:
    """Make the index hold exactly the right versions of ``source_name``."""
    rows = catalog.versions(source_name)
    keep = indexed_versions(rows)
    remove = [r.source_id for r in rows]

    def docs() -> Iterator[IndexDoc]:
        for row in keep:
            yield from documents(catalog, row)

    return index.replace_sources(remove, docs(), remove_name=source_name)


def rebuild(catalog: Database, index: SearchIndex, progress: bool = True) -> int:
    """Rebuild the whole index from the catalog; returns the number of documents."""
    index.clear()
    names = catalog.source_names()
    total = 0
    with tqdm(names, desc="index", unit="dataset", disable=not progress, leave=False) as bar:
        for name in bar:
            total += sync_name(catalog, index, name)
    index.mark_fresh()
    return total
