"""Handing a deleted user's things to another user (``delete_user(..., transfer_to=...)``).

In the transaction that deletes the user, everything recorded under their id passes to
the heir's: the owner of their datasets, servables and submissions, their name claims,
and the ACL entries naming them (an entry the heir already had on the same object is
dropped, not doubled).  Documents say it too: a dataset's ``mdf.owner`` and a servable's
``dlhub.owner`` become the heir's name, and ``user:<old name>`` becomes ``user:<heir>``
in the ``visible_to`` (and ``runnable_by``) of each version whose ACL named the user,
records included.  Their tasks stay theirs (a deleted id's: admins see them).

The caller updates the search index afterwards from :class:`Transferred`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Table, delete, exists, select, update
from sqlalchemy.orm import Session

from hub.db.models import (
    Base,
    DatasetACL,
    DatasetRow,
    NameClaimRow,
    RecordRow,
    ServableACL,
    ServableRow,
    SubmissionRow,
    UserRow,
    utcnow,
)

#: Records rewritten per statement.
BATCH = 1000


@dataclass(frozen=True)
class Transferred:
    """What a transfer changed, for the search index to follow.

    ``source_names``: the datasets with a version whose owner or ACL changed;
    ``servable_ids``: the servables with such a version.
    """

    source_names: tuple[str, ...]
    servable_ids: tuple[str, ...]


def transfer(s: Session, old: UserRow, heir: UserRow) -> Transferred:
    """Move what ``old`` owns and every ACL entry naming ``old`` to ``heir``, in session ``s``."""
    entry, heir_entry = f"user:{old.id}", f"user:{heir.id}"
    shown = (f"user:{old.name}", f"user:{heir.name}")

    listed = set(s.scalars(select(DatasetACL.source_id).where(DatasetACL.principal == entry)))
    owned = set(s.scalars(select(DatasetRow.source_id).where(DatasetRow.owner == old.id)))
    _move_entries(
        s, Base.metadata.tables[DatasetACL.__tablename__], ("source_id", "right"), entry, heir_entry
    )
    s.execute(update(DatasetRow).where(DatasetRow.owner == old.id).values(owner=heir.id))
    names = set()
    for row in s.scalars(select(DatasetRow).where(DatasetRow.source_id.in_(listed | owned))):
        mdf = dict(row.document["mdf"])
        if row.source_id in owned:
            mdf["owner"] = heir.name
        if row.source_id in listed:
            mdf["visible_to"] = _renamed(mdf.get("visible_to", []), *shown)
        row.document = {**row.document, "mdf": mdf}
        names.add(row.source_name)
    _rename_in_records(s, sorted(listed), *shown)

    key = (ServableACL.servable_id, ServableACL.version)
    listed_sv = set(s.execute(select(*key).where(ServableACL.principal == entry)).tuples())
    owned_sv = set(
        s.execute(select(ServableRow.id, ServableRow.version).where(ServableRow.owner == old.id)).tuples()
    )
    _move_entries(
        s,
        Base.metadata.tables[ServableACL.__tablename__],
        ("servable_id", "version", "right"),
        entry,
        heir_entry,
    )
    s.execute(update(ServableRow).where(ServableRow.owner == old.id).values(owner=heir.id))
    for sid, version in sorted(listed_sv | owned_sv):
        sv = s.get(ServableRow, (sid, version))
        if sv is None:
            continue
        dlhub = dict(sv.document["dlhub"])
        if (sid, version) in owned_sv:
            dlhub["owner"] = heir.name
        if (sid, version) in listed_sv:
            for right in ("visible_to", "runnable_by"):
                if dlhub.get(right) is not None:
                    dlhub[right] = _renamed(dlhub[right], *shown)
        sv.document = {**sv.document, "dlhub": dlhub}
        sv.updated_at = utcnow()  # a run's cached view of the version is stale now

    s.execute(update(SubmissionRow).where(SubmissionRow.owner == old.id).values(owner=heir.id))
    s.execute(update(NameClaimRow).where(NameClaimRow.owner == old.id).values(owner=heir.id))
    return Transferred(tuple(sorted(names)), tuple(sorted({sid for sid, _ in listed_sv | owned_sv})))


def _move_entries(s: Session, table: Table, keys: Sequence[str], entry: str, heir_entry: str) -> None:
    """Make ``entry`` rows of an ACL table ``heir_entry`` rows, dropping those the heir has already."""
    twin = table.alias("twin")
    principal: Column[str] = table.c.principal
    already = exists().where(*(twin.c[k] == table.c[k] for k in keys), twin.c.principal == heir_entry)
    s.execute(delete(table).where(principal == entry, already))
    s.execute(update(table).where(principal == entry).values(principal=heir_entry))


def _renamed(entries: Iterable[str], old: str, new: str) -> list[str]:
    """ACL entries as documents show them, with ``old`` made ``new`` (sorted, unique)."""
    return sorted({new if e == old else e for e in entries})


def _rename_in_records(s: Session, source_ids: list[str], old: str, new: str) -> None:
    """Rename ``old`` in the ``mdf.visible_to`` of every record of ``source_ids``, a batch at a time."""
    for source_id in source_ids:
        after = 0
        while True:
            rows = s.execute(
                select(RecordRow.record_id, RecordRow.scroll_id, RecordRow.document)
                .where(RecordRow.source_id == source_id, RecordRow.scroll_id > after)
                .order_by(RecordRow.scroll_id)
                .limit(BATCH)
            ).all()
            if not rows:
                break
            changes: list[dict[str, Any]] = []
            for record_id, _, doc in rows:
                mdf = doc.get("mdf", {})
                if old in mdf.get("visible_to", []):
                    visible = _renamed(mdf["visible_to"], old, new)
                    changes.append(
                        {"record_id": record_id, "document": {**doc, "mdf": {**mdf, "visible_to": visible}}}
                    )
            if changes:
                s.execute(update(RecordRow), changes)
            after = rows[-1][1]
