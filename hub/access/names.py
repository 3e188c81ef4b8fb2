"""Names belong to their owners: who may publish under a dataset's or a servable's name.

A dataset's ``source_name`` and a servable's ``owner/name`` are claimed by the first
publication under them (a submission claims its name when it is made, before any work):
for the user who made it, or for a group they belong to (``group=``).  After that the
access policy's rule ``(Kind.NAME, Action.CLAIM)`` says who may publish a new version
under it: its owner, the members of its owning group and admins.

Anyone else is refused with :class:`~hub.exceptions.NameNotAvailableError` and the same
message whether the name is theirs to see or not, published or only in a pending
submission: a refusal says nothing of what holds the name.  A claim stays when its
versions are deleted or its owner is (it passes to an heir with ``transfer_to``); the
name of a deleted user's thing is never free again.
"""

from __future__ import annotations

from sqlalchemy import exc as sa_exc

from hub.access.policy import ACL, CLAIMED, FREE, Action, Kind, Resource, allowed
from hub.access.principal import Principal
from hub.db.database import Database
from hub.db.models import NameClaimRow, utcnow
from hub.exceptions import AccessDeniedError, NameNotAvailableError

#: What each kind of name is called in a refusal's hint.
HINTS = {Kind.DATASET: "source_name", Kind.SERVABLE: "servable name"}


def not_available(kind: Kind, name: str) -> NameNotAvailableError:
    """The one refusal for a name someone else holds (its text depends on the name alone)."""
    return NameNotAvailableError(f"name not available: {name!r}; choose another {HINTS[kind]}")


def claim_resource(row: NameClaimRow | None) -> Resource:
    """What the policy knows of a name: free, or claimed by its owner (and its owning group)."""
    if row is None:
        return Resource(Kind.NAME, status=FREE)
    acl: ACL = {Action.CLAIM: frozenset({f"group:{row.owner_group}"})} if row.owner_group else {}
    return Resource(Kind.NAME, row.owner, CLAIMED, acl)


class Names:
    """The claims on names in one catalog.

    Parameters
    ----------
    catalog
        The catalog holding the claims (``name_claims``).
    """

    def __init__(self, catalog: Database) -> None:
        self._catalog = catalog

    def claim(self, principal: Principal, kind: Kind, name: str, group: str | None = None) -> None:
        """Let ``principal`` publish under ``name`` (a ``kind`` name), claiming it when it is free.

        ``group`` is the group a free name is claimed for (the caller must belong to it);
        a name claimed already keeps its owner and group.

        Raises
        ------
        AccessDeniedError
            When ``group`` is given and ``principal`` is not a member of it.
        NameNotAvailableError
            When the name belongs to someone else (the same error whatever holds it).
        """
        if group is not None and group not in principal.groups:
            raise AccessDeniedError(f"{principal.name} is not a member of group {group!r}")
        for _ in range(3):
            with self._catalog.session() as s:
                row = s.get(NameClaimRow, (kind.value, name))
            if not allowed(principal, Action.CLAIM, claim_resource(row)):
                raise not_available(kind, name)
            if row is not None:
                return
            try:
                with self._catalog.transaction() as s:
                    s.add(
                        NameClaimRow(
                            kind=kind.value,
                            name=name,
                            owner=principal.owner_id,
                            owner_group=group,
                            created_at=utcnow(),
                        )
                    )
                return
            except sa_exc.IntegrityError:  # claimed at the same moment by someone else: ask again
                continue
        raise not_available(kind, name)
