"""The access policy as SQL: the condition selecting the rows a principal may act on.

:func:`clause` turns :data:`hub.access.policy.POLICY`'s grants for a kind and an action
into one SQLAlchemy condition on the kind's table (:data:`STORED`), so a query carries
the access rule and no read can forget it.  Grants that depend only on the principal
(admins, curators, signed-in users) are decided here, in Python, so an admin's query
has no condition at all; the others become conditions on the owner and status columns
and an ``IN (subquery)`` over the kind's ACL table (``dataset_acl``, ``servable_acl``:
one row per object, right and entry).

Records and files are seen through their dataset version: their queries join
:class:`~hub.db.models.DatasetRow` and apply the dataset's condition.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select, true, tuple_

from hub.access.policy import BLOB_HOLDERS, Action, Grant, Kind, Who, rule
from hub.access.principal import ANONYMOUS, Principal
from hub.db.models import (
    ACLEntry,
    DatasetACL,
    DatasetRow,
    FileRow,
    ServableACL,
    ServableRow,
    ServableTaskRow,
    SubmissionRow,
    TokenRow,
    UserRow,
)


@dataclass(frozen=True)
class Stored:
    """Where the objects of one kind are stored.

    Parameters
    ----------
    owner, status
        The columns holding an object's owner (a user id) and status (None: no status).
    acl
        The ACL table (None: the kind has no ACL).
    keys
        Pairs ``(ACL column, object column)`` that join an ACL row to its object.
    """

    owner: ColumnElement[str]
    status: ColumnElement[str] | None = None
    acl: type[ACLEntry] | None = None
    keys: tuple[tuple[ColumnElement[Any], ColumnElement[Any]], ...] = ()


_DATASETS = Stored(
    DatasetRow.owner.expression,
    DatasetRow.status.expression,
    DatasetACL,
    ((DatasetACL.source_id.expression, DatasetRow.source_id.expression),),
)

#: The table of each kind the SQL adapter serves.
STORED: dict[Kind, Stored] = {
    Kind.DATASET: _DATASETS,
    Kind.RECORD: _DATASETS,
    Kind.FILE: _DATASETS,
    Kind.SERVABLE: Stored(
        ServableRow.owner.expression,
        ServableRow.status.expression,
        ServableACL,
        (
            (ServableACL.servable_id.expression, ServableRow.id.expression),
            (ServableACL.version.expression, ServableRow.version.expression),
        ),
    ),
    Kind.SUBMISSION: Stored(SubmissionRow.owner.expression, SubmissionRow.status.expression),
    Kind.TASK: Stored(ServableTaskRow.owner.expression, ServableTaskRow.status.expression),
    Kind.USER: Stored(UserRow.id.expression),
    Kind.TOKEN: Stored(TokenRow.user.expression),
}


@functools.lru_cache(maxsize=4096)
def clause(principal: Principal, action: Action, kind: Kind) -> ColumnElement[bool]:
    """The condition on ``kind``'s table selecting the rows ``principal`` may ``action``.

    Built once per principal, action and kind (an SQL expression is immutable, so every
    query may share it): reads pay no rebuilding of the rule.
    """
    stored = STORED[kind]
    conds: list[ColumnElement[bool]] = []
    for grant in rule(kind, action):
        cond = _grant_clause(grant, principal, stored)
        if cond is False:
            continue
        if grant.status is not None:
            if stored.status is None:
                raise ValueError(f"the rule for {kind} {action} names a status, but {kind} rows have none")
            in_status = stored.status == grant.status
            conds.append(in_status if isinstance(cond, bool) else and_(in_status, cond))
        elif isinstance(cond, bool):
            return true()
        else:
            conds.append(cond)
    return or_(*conds) if conds else false()


def _grant_clause(grant: Grant, principal: Principal, stored: Stored) -> ColumnElement[bool] | bool:
    """One grant as a condition on a row (True: every row; False: none)."""
    match grant.who:
        case Who.ADMIN:
            return principal.is_admin
        case Who.CURATOR:
            return principal.is_curator
        case Who.SIGNED_IN:
            return principal.user is not None
        case Who.OWNER:
            return stored.owner == principal.id if principal.id is not None else False
        case Who.ANONYMOUS:
            return stored.owner == ANONYMOUS if principal.user is None else False
        case Who.LISTED:
            assert grant.right is not None
            return _listed(stored, grant.right, principal.tokens())


def _listed(stored: Stored, right: Action, tokens: Sequence[str]) -> ColumnElement[bool]:
    """Rows whose ACL lists one of ``tokens`` for ``right``."""
    assert stored.acl is not None
    acl_keys = [a for a, _ in stored.keys]
    row_keys = [r for _, r in stored.keys]
    entries = select(*acl_keys).where(stored.acl.right == right.value, stored.acl.principal.in_(tokens))
    if len(row_keys) == 1:
        return row_keys[0].in_(entries)
    return tuple_(*row_keys).in_(entries)


def blob_readable(principal: Principal, sha256: str) -> Select[tuple[bool]]:
    """A query answering whether ``principal`` may read blob ``sha256``.

    The blob is readable when a holder of it (:data:`~hub.access.policy.BLOB_HOLDERS`: a
    dataset file copied into the store, a servable's artifact) is one ``principal`` may
    see.  A file published by reference holds no blob: its sha256 (which a ``SHA256SUMS``
    at the source may merely declare) opens nothing in the store.

    Raises
    ------
    ValueError
        When a kind in ``BLOB_HOLDERS`` has no table holding blobs.
    """
    held: list[ColumnElement[bool]] = []
    for kind in BLOB_HOLDERS:
        if kind is Kind.FILE:
            held.append(
                exists()
                # a file published by reference holds no blob (its sha256 may be only declared)
                .where(
                    FileRow.sha256 == sha256, FileRow.url.is_(None), DatasetRow.source_id == FileRow.source_id
                )
                .where(clause(principal, Action.SEE, Kind.FILE))
            )
        elif kind is Kind.SERVABLE:
            held.append(
                exists()
                .where(ServableRow.artifact_sha == sha256)
                .where(clause(principal, Action.SEE, Kind.SERVABLE))
            )
        else:
            raise ValueError(f"no table holds the blobs of {kind}")
    return select(or_(*held))
