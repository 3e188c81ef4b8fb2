"""Users' immutable ids: who bears a name now, and the name an id is shown as.

Every user has an id, given when the name is first used and never given again.  The
catalog records everything under it: owner columns, the user entries of stored ACLs
(``user:<id>``), tokens and name claims.  So a user who is deleted and created again
under the same name is a new user: the new id owns nothing of the old one and is
listed in none of its ACLs, and the old id is one no one can act as.

An identity is made the first time its name is used: when an admin creates the user
(:meth:`hub.access.users.Users.create_user`), when an embedded hub acts as the name
(``Hub(path, user=...)``, :meth:`Identities.resolve`) or when an ACL entry names it
(:meth:`Identities.acl`).  One made by use is not *registered* (not listed as a user,
no tokens) until an admin creates the user, who then keeps it (so sharing with a user
before their account exists still shares with them).

People see names, never ids: :meth:`Identities.names` gives the name of each id (a
deleted user's as ``"<name> (deleted)"``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import exc as sa_exc
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.access.principal import ANONYMOUS, Principal
from hub.db.database import Database
from hub.db.models import UserRow, utcnow

#: What a deleted user's name is shown with.
DELETED = " (deleted)"
#: The prefix of an ACL entry naming a user.
USER_ENTRY = "user:"


def new_id() -> str:
    """A new user id: 32 random hex digits (never given twice)."""
    return uuid.uuid4().hex


def live(s: Session, name: str) -> UserRow | None:
    """The live (not deleted) identity named ``name`` in session ``s``, if any."""
    return s.scalars(select(UserRow).where(UserRow.name == name, UserRow.deleted_at.is_(None))).first()


class Identities:
    """Users' ids in one catalog.

    Parameters
    ----------
    catalog
        The catalog whose ``users`` table holds the identities.
    """

    def __init__(self, catalog: Database) -> None:
        self._catalog = catalog

    def identify(self, name: str) -> str:
        """The id of whoever bears ``name`` now; an unregistered identity is made when no one does.

        Safe when several processes name a new user at once: they all get the one id.
        """
        for _ in range(10):
            with self._catalog.session() as s:
                row = live(s, name)
            if row is not None:
                return row.id
            try:
                with self._catalog.transaction() as s:
                    uid = new_id()
                    s.add(UserRow(id=uid, name=name, groups=[], created_at=utcnow(), registered=False))
                return uid
            except sa_exc.IntegrityError:  # made at the same moment by someone else: read theirs
                continue
        raise RuntimeError(f"could not read or make the identity of {name!r}")

    def resolve(self, principal: Principal) -> Principal:
        """``principal`` as the identity bearing its name now (its id; made if new); anonymous as it is."""
        if principal.user is None:
            return principal
        return Principal(principal.user, principal.groups, self.identify(principal.user))

    def acl(self, entries: Iterable[str]) -> list[str]:
        """ACL entries as the catalog stores them: each ``user:NAME`` as ``user:<id>`` (sorted, unique).

        ``entries`` are normalized entries (:func:`hub.access.principal.normalize_visible_to`);
        ``public`` and ``group:NAME`` stay as they are.
        """
        out = {
            USER_ENTRY + self.identify(e.removeprefix(USER_ENTRY)) if e.startswith(USER_ENTRY) else e
            for e in entries
        }
        return sorted(out)

    def names(self, ids: Iterable[str]) -> dict[str, str]:
        """The name each of ``ids`` is shown as.

        A user's name; ``"<name> (deleted)"`` for a deleted user's id; :data:`ANONYMOUS`
        for anonymous callers' work; an id the catalog does not know, as it is.
        """
        wanted = set(ids)
        out = {i: i for i in wanted}
        lookup = wanted - {ANONYMOUS}
        if lookup:
            with self._catalog.session() as s:
                rows = s.execute(
                    select(UserRow.id, UserRow.name, UserRow.deleted_at).where(UserRow.id.in_(lookup))
                )
                for uid, name, deleted in rows:
                    out[uid] = name + DELETED if deleted is not None else name
        return out

    def name(self, uid: str) -> str:
        """The name ``uid`` is shown as (see :meth:`names`)."""
        return self.names([uid])[uid]
