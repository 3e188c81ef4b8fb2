"""Hub documents as Globus Search entries: subjects, entry ids, and file URLs.

A Globus *subject* may hold several *entries*, each with its own visibility.  Here
the subject of a dataset is its ``source_name`` and the subject of a record is
``<source_name>.<scroll_id>``: the same across the versions of a dataset.  The hub's
index holds a dataset's latest published version and any newer version waiting for
curation, so the owner and the curators may see two entries under one subject (the
published one, public; the pending one, theirs), while everyone else sees one.  The
entry id is the version's ``source_id``.  A servable's subject is its id
(``owner/name``) and it has one entry.

Each record's ``files[]`` entries get a ``url`` the hub serves
(``GET /api/datasets/{source_id}/files/{path}``, ETag = sha256, Range requests), so
Forge's ``http_download`` and ``http_stream`` fetch real files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from hub.index.results import Hit
from hub.service.globus import scrollid

#: The version of the result documents (GMetaResult) this endpoint writes by default.
RESULT_VERSION = "2019-08-27"
LEGACY_VERSION = "2017-09-01"


def subject_of(hit: Hit) -> str:
    """The Globus subject of a hit (the same for every version of a dataset's entry)."""
    mdf = hit.document.get("mdf") if hit.kind in ("dataset", "record") else None
    if not isinstance(mdf, dict):
        return hit.id
    if hit.kind == "dataset":
        return str(mdf.get("source_name", hit.id))
    return f"{mdf.get('source_name')}.{mdf.get('scroll_id')}"


def entry_id_of(hit: Hit) -> str | None:
    """The entry id of a hit within its subject: the dataset version's ``source_id``."""
    mdf = hit.document.get("mdf")
    if hit.kind in ("dataset", "record") and isinstance(mdf, dict):
        return str(mdf.get("source_id"))
    return None


def file_url(base_url: str, source_id: str, path: str) -> str:
    """The absolute URL the hub serves a dataset file at."""
    return f"{base_url.rstrip('/')}/api/datasets/{quote(source_id, safe='')}/files/{quote(path, safe='/')}"


def content_of(hit: Hit, base_url: str) -> dict[str, Any]:
    """A hit's document as the Globus index shows it.

    Records get a ``url`` on each of their ``files[]``; datasets get ``mdf.scroll_id``
    0 (see :mod:`hub.service.globus.scrollid`); other documents are left as they are.

    The hit's document is changed in place (each search decodes its own copy; a
    10,000-hit page is not copied again).
    """
    doc = hit.document
    if hit.kind == "dataset":
        return scrollid.stamp(doc)
    files = doc.get("files")
    mdf = doc.get("mdf")
    if hit.kind != "record" or not isinstance(files, list) or not isinstance(mdf, dict):
        return doc
    source_id = str(mdf.get("source_id"))
    for f in files:
        if isinstance(f, dict) and f.get("path"):
            f["url"] = file_url(base_url, source_id, str(f["path"]))
    return doc


@dataclass
class Subject:
    """One subject of a result page and the entries of it the caller may see."""

    subject: str
    hits: list[Hit] = field(default_factory=list)

    def to_gmeta(self, base_url: str, version: str = RESULT_VERSION) -> dict[str, Any]:
        """The subject as a GMetaResult of result format ``version``.

        The 2019-08-27 format holds ``entries`` (each a ``content`` and its ``entry_id``);
        the 2017-09-01 one parallel ``content`` and ``entry_ids`` lists.  File URLs are
        made absolute with ``base_url``; the hits' documents are changed in place (see
        :func:`content_of`).
        """
        contents = [content_of(h, base_url) for h in self.hits]
        ids = [entry_id_of(h) for h in self.hits]
        if version == LEGACY_VERSION:
            return {
                "@datatype": "GMetaResult",
                "@version": LEGACY_VERSION,
                "subject": self.subject,
                "content": contents,
                "entry_ids": ids,
            }
        return {
            "@datatype": "GMetaResult",
            "@version": RESULT_VERSION,
            "subject": self.subject,
            "entries": [
                {"content": c, "entry_id": i, "matched_principal_sets": []}
                for c, i in zip(contents, ids, strict=True)
            ],
        }


def single_subjects(hits: list[Hit]) -> list[Subject]:
    """Each hit as its own subject (when no subject can have two visible entries)."""
    return [Subject(subject_of(h), [h]) for h in hits]
