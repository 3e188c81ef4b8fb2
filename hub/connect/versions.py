"""Dataset versions: the one builder of a version and the one way it reaches the catalog.

A submission (and its retry), a metadata update and a curator's verdict all end here.
A new version is first a :class:`Draft`: its dataset document, files and records,
written for whatever version number was next when they were made.
:meth:`VersionBuilder.publish` stamps the draft with the number the catalog gives it
(``source_id``, ``version``, ``previous_version``, the manifest, each record's id) and
inserts it in one transaction, stamping it again when a concurrent publisher took that
number first.  A curator's verdict publishes or removes a pending version, in one
transaction too.  Each transaction also records the submission's outcome, so a
submission is reported done exactly when its version is durable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hub.access import PUBLISHED
from hub.access.identities import Identities
from hub.connect.origin import files_location
from hub.db.database import Database
from hub.records.dataset import source_id_of
from hub.store.blobs import BlobStore
from hub.store.manifest import ManifestEntry, store_manifest

#: The columns of a version's files, as each file's entry names them (``url``: None for a
#: file copied into the blob store, its source for one published by reference).
FILE_FIELDS = ("path", "filename", "sha256", "length", "mime_type", "data_type", "url")


@dataclass(frozen=True)
class Draft:
    """A dataset version before its number is known.

    Parameters
    ----------
    document
        The validated dataset document; its version fields are replaced when stamped.
    files
        The version's files (the :data:`FILE_FIELDS` of each).
    records
        The validated records; their version fields are replaced when stamped.
    owner
        The id of the user who owns the dataset.
    derived_from
        The ``source_id`` this version was made from (a metadata update's); None for
        a submission, whose previous version is the one numbered before it.
    acl
        The version's ACL entries as stored (``user:<id>``), when kept from the version
        it was made from; None: made from ``visible_to`` (each user named as who bears
        that name now).
    """

    document: dict[str, Any]
    files: list[dict[str, Any]]
    records: list[dict[str, Any]]
    owner: str
    derived_from: str | None = None
    acl: list[str] | None = None

    @property
    def source_name(self) -> str:
        """The dataset's name, common to all its versions."""
        return str(self.document["mdf"]["source_name"])

    @property
    def status(self) -> str:
        """``published`` or ``pending_curation``."""
        return str(self.document["mdf"]["status"])

    @property
    def visible_to(self) -> list[str]:
        """The principals who may see the version."""
        return list(self.document["mdf"]["visible_to"])


def manifest_entries(files: list[dict[str, Any]]) -> list[ManifestEntry]:
    """Return the manifest's entry of each of a version's files."""
    return [ManifestEntry(f["path"], f["sha256"], f["length"], f.get("url")) for f in files]


def stamp_record(record: dict[str, Any], dataset_mdf: dict[str, Any]) -> dict[str, Any]:
    """Stamp a draft's record with the version its dataset's ``mdf`` block names.

    A record already written for that version is completed in place (a large
    submission's records are not copied); any other is copied with its ids renewed.
    """
    mdf = record["mdf"]
    if mdf["source_id"] == dataset_mdf["source_id"] and mdf["visible_to"] == dataset_mdf["visible_to"]:
        mdf["ingest_date"] = dataset_mdf["ingest_date"]
        return record
    sid = dataset_mdf["source_id"]
    stamped = {
        **mdf,
        "source_id": sid,
        "version": dataset_mdf["version"],
        "record_id": f"{sid}.{mdf['scroll_id']}",
        "visible_to": dataset_mdf["visible_to"],
        "ingest_date": dataset_mdf["ingest_date"],
    }
    return {**record, "mdf": stamped}


class VersionBuilder:
    """Builds dataset versions into one catalog, their manifests into one blob store.

    Parameters
    ----------
    catalog
        Where versions are published (the truth).
    store
        Where each version's manifest is written.
    """

    def __init__(self, catalog: Database, store: BlobStore) -> None:
        self.catalog = catalog
        self.store = store

    def stamp(self, draft: Draft, version: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Return the dataset document and records of ``draft`` as version ``version``.

        Writes the version's manifest into the blob store (content-addressed: a
        stamp that is not published leaves an unnamed blob, nothing visible).
        """
        name = draft.source_name
        sid = source_id_of(name, version)
        mdf = {**draft.document["mdf"], "source_id": sid, "version": version}
        previous = draft.derived_from or (source_id_of(name, version - 1) if version > 1 else None)
        if previous is not None:
            mdf["previous_version"] = previous
        data = {
            **draft.document["data"],
            "location": files_location(sid),
            "manifest": store_manifest(self.store, sid, manifest_entries(draft.files)),
            "records": len(draft.records),
        }
        doc = {**draft.document, "mdf": mdf, "data": data}
        return doc, [stamp_record(r, mdf) for r in draft.records]

    def publish(self, draft: Draft, *, submission_id: str, submission_values: dict[str, Any]) -> str:
        """Insert ``draft`` as the next version of its dataset; returns its ``source_id``.

        One transaction holds the version, its files, records and access list (its users
        by id, :mod:`hub.access.identities`) and the submission's ``submission_values``;
        if a concurrent publisher took the version number, the draft is stamped again
        with the next one (:meth:`hub.db.database.Database.publish`).
        """
        acl = draft.acl if draft.acl is not None else Identities(self.catalog).acl(draft.visible_to)
        return self.catalog.publish(
            source_name=draft.source_name,
            owner=draft.owner,
            status=draft.status,
            visible_to=acl,
            files=draft.files,
            stamp=lambda version: self.stamp(draft, version),
            submission_id=submission_id,
            submission_values=submission_values,
        )

    def accept(self, source_id: str, *, submission_id: str, submission_values: dict[str, Any]) -> None:
        """Publish a version waiting for curation, and record the submission's outcome, at once."""
        self.catalog.set_status(
            source_id, PUBLISHED, submission_id=submission_id, submission_values=submission_values
        )

    def reject(self, source_id: str, *, submission_id: str, submission_values: dict[str, Any]) -> None:
        """Remove a version waiting for curation, and record the submission's outcome, at once."""
        self.catalog.delete_version(
            source_id, submission_id=submission_id, submission_values=submission_values
        )
