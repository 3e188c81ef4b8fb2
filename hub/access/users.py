"""Users, groups and bearer tokens of a shared hub.

A token is 32 random bytes shown once, when it is made; the catalog keeps only
its sha256, so a copy of the database gives no one a way in.  A token resolves to
a :class:`~hub.access.Principal` (the user, their id and their groups), and from there
the rules of :mod:`hub.access` apply exactly as in the embedded hub.  Who may manage
users and tokens is the access policy's rule too (:data:`hub.access.POLICY`: admins
administer users; a user's tokens are theirs and the admins').

Users have immutable ids (:mod:`hub.access.identities`).  Deleting a user revokes their
tokens at once and either hands what they own to another user
(:func:`hub.access.transfer.transfer`: datasets, servables, submissions, name claims and
the ACL entries naming them) or leaves it owned by the deleted id, which no one can act
as: a user created later under the same name is someone new.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy import exc as sa_exc

from hub.access.identities import live, new_id
from hub.access.policy import Action, Kind, Resource, allowed, require
from hub.access.principal import ANONYMOUS, Principal
from hub.access.transfer import Transferred, transfer
from hub.db.database import Database
from hub.db.models import TokenRow, UserRow, utcnow
from hub.db.notify import AUTH_CHANNEL, notify
from hub.exceptions import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    ValidationError,
)

#: Tokens start with this prefix so that they are easy to spot in logs and secret scanners.
TOKEN_PREFIX = "mh_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,199}$")


def hash_token(token: str) -> str:
    """The hex sha256 of a token: what the catalog stores and looks tokens up by."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class User:
    """A user of a shared hub: name, groups (sorted) and creation time (ISO 8601, UTC)."""

    name: str
    groups: tuple[str, ...]
    created_at: str

    def to_dict(self) -> dict[str, Any]:
        """The user as JSON: ``name``, ``groups`` (a list) and ``created_at``."""
        return {"name": self.name, "groups": list(self.groups), "created_at": self.created_at}


@dataclass(frozen=True)
class TokenInfo:
    """What the hub knows of a token, never the token itself.

    Its ``id`` (to revoke it by), ``user``, ``label``, and times in ISO 8601 (UTC):
    ``created_at``, ``expires_at`` (None: never) and ``last_used_at`` (None: never used;
    updated at most once a minute).
    """

    id: str
    user: str
    label: str
    created_at: str
    expires_at: str | None
    last_used_at: str | None

    def to_dict(self) -> dict[str, Any]:
        """The token's information as JSON, one key per field."""
        return dict(self.__dict__)


def _iso(t: _dt.datetime | None) -> str | None:
    if t is None:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=_dt.UTC)
    return t.isoformat()


def _user(row: UserRow) -> User:
    return User(row.name, tuple(row.groups or ()), _iso(row.created_at) or "")


def _token(row: TokenRow, user: str) -> TokenInfo:
    return TokenInfo(
        row.id, user, row.label, _iso(row.created_at) or "", _iso(row.expires_at), _iso(row.last_used_at)
    )


#: Names no user may take: "anonymous" is what callers without a token are called.
RESERVED = frozenset({"anonymous"})


def _check_name(kind: str, name: str) -> str:
    if kind == "user" and name in RESERVED:
        raise ValidationError(f"{name!r} is reserved (callers without a token are called so)")
    if not _NAME.match(name or ""):
        raise ValidationError(
            f"{kind} name {name!r} is not allowed: use letters, digits and . _ @ - (up to 200), "
            "starting with a letter or digit"
        )
    return name


class Users:
    """The user directory over a :class:`~hub.db.database.Database`.

    Every method that reads or changes something takes the acting principal and asks
    the access policy (admins administer users; users read themselves and make, list
    and revoke their own tokens).  Users are named by their names here; the catalog
    keys them by their ids.

    Parameters
    ----------
    catalog
        The catalog holding the users.
    on_transfer
        Called after a deletion handed a user's things to another user (the embedded hub
        updates its search index there).
    """

    def __init__(self, catalog: Database, on_transfer: Callable[[Transferred], None] | None = None) -> None:
        self._catalog = catalog
        self._on_transfer = on_transfer

    # -- users and groups -----------------------------------------------------------

    def create_user(self, actor: Principal, name: str, groups: Iterable[str] = ()) -> User:
        """Create the user ``name`` in ``groups`` (admins).

        The user gets a new id, or the one the name already has when it was used before
        the user was created (an ACL entry naming them, an embedded hub acting as them);
        never the id of a deleted user.

        Raises
        ------
        AccessDeniedError
            When ``actor`` is not an admin.
        ValidationError
            For a reserved name, or a user or group name of characters not allowed.
        ConflictError
            When the user exists already.
        """
        _require_admin(actor)
        _check_name("user", name)
        gs = sorted({_check_name("group", g) for g in groups})
        try:
            with self._catalog.transaction() as s:
                row = live(s, name)
                if row is not None and row.registered:
                    raise ConflictError(f"user {name!r} exists already")
                if row is None:
                    row = UserRow(id=new_id(), name=name)
                    s.add(row)
                row.groups, row.created_at, row.registered = gs, utcnow(), True
        except sa_exc.IntegrityError:  # made at the same moment by someone else
            raise ConflictError(f"user {name!r} exists already") from None
        return _user(row)

    def ensure_user(self, name: str, groups: Iterable[str] = ()) -> User:
        """Create ``name`` if missing, adding ``groups`` to theirs (bootstrap of a new service).

        Safe when several processes bootstrap at once: the row is locked (touched by an
        UPDATE, which both SQLite and PostgreSQL serialize) before its groups are read.
        """
        _check_name("user", name)
        for attempt in range(10):
            try:
                with self._catalog.transaction() as s:
                    locked = cast(
                        "CursorResult[Any]",
                        s.execute(
                            update(UserRow)
                            .where(UserRow.name == name, UserRow.deleted_at.is_(None))
                            .values(groups=UserRow.groups)
                        ),
                    ).rowcount
                    row = live(s, name)
                    if row is None:
                        row = UserRow(id=new_id(), name=name, groups=sorted(set(groups)), created_at=utcnow())
                        s.add(row)
                    elif not locked:
                        # committed by another bootstrap after our UPDATE looked: it is not
                        # locked, so merging now could lose that bootstrap's groups
                        raise _Retry
                    else:
                        row.groups = sorted(set(row.groups or ()) | set(groups))
                        row.registered = True
                return _user(row)
            except (sa_exc.IntegrityError, _Retry):  # created concurrently: now it exists, merge into it
                if attempt == 9:
                    raise
        raise AssertionError("unreachable")

    def principal(self, uid: str) -> Principal:
        """The principal a stored id (an owner column) stands for.

        It has the groups the catalog gives that user now: none for a deleted user's id
        (or an id the catalog does not know); :data:`~hub.access.principal.ANONYMOUS` is
        the anonymous caller.
        """
        if uid == ANONYMOUS:
            return Principal(None)
        with self._catalog.session() as s:
            row = s.get(UserRow, uid)
        if row is None:
            return Principal(uid, frozenset(), uid)
        groups = frozenset(row.groups or ()) if row.deleted_at is None else frozenset()
        return Principal(row.name, groups, row.id)

    def _registered(self, name: str) -> UserRow | None:
        with self._catalog.session() as s:
            row = live(s, name)
        return row if row is not None and row.registered else None

    def user(self, actor: Principal, name: str) -> User:
        """The user ``name`` (themselves, or admins).

        Raises
        ------
        AccessDeniedError
            When ``actor`` may not read that user.
        NotFoundError
            When there is no such user.
        """
        row = self._registered(name)
        require(
            actor,
            Action.SEE,
            Resource(Kind.USER, row.id if row is not None else None),
            f"{actor.name} may not read user {name!r}",
        )
        if row is None:
            raise NotFoundError(f"no user {name!r}")
        return _user(row)

    def users(self, actor: Principal) -> list[User]:
        """Every user, by name (admins; others get :class:`~hub.exceptions.AccessDeniedError`)."""
        _require_admin(actor)
        with self._catalog.session() as s:
            rows = s.scalars(
                select(UserRow)
                .where(UserRow.registered.is_(True), UserRow.deleted_at.is_(None))
                .order_by(UserRow.name)
            )
            return [_user(r) for r in rows]

    def set_groups(self, actor: Principal, name: str, groups: Iterable[str]) -> User:
        """Replace the groups of user ``name`` (admins).

        Their tokens carry the new groups at once in this process, and in the other
        processes of a shared deployment when they hear the catalog's notification (at
        most :data:`AUTH_CACHE_S` seconds).

        Raises
        ------
        AccessDeniedError
            When ``actor`` is not an admin.
        ValidationError
            For a group name of characters not allowed.
        NotFoundError
            When there is no such user.
        """
        _require_admin(actor)
        gs = sorted({_check_name("group", g) for g in groups})
        with self._catalog.transaction() as s:
            row = live(s, name)
            if row is None or not row.registered:
                raise NotFoundError(f"no user {name!r}")
            row.groups = gs
            notify(s, AUTH_CHANNEL)
        forget_authentications()
        return _user(row)

    def delete_user(self, actor: Principal, name: str, transfer_to: str | None = None) -> None:
        """Delete user ``name`` and revoke their tokens (admins).

        With ``transfer_to`` (another user's name), what they own passes to that user in
        the same transaction: their datasets, servables, submissions and name claims, and
        the ACL entries naming them (:func:`hub.access.transfer.transfer`).  Without it,
        it stays owned by the deleted id, which no one can act as: a user created later
        under the same name gets a new id, owns nothing of it and sees nothing it lists.
        Their tokens stop working at once in this process, and in the other processes of
        a shared deployment when they hear the catalog's notification (at most :data:`AUTH_CACHE_S` seconds).

        Raises
        ------
        AccessDeniedError
            When ``actor`` is not an admin.
        NotFoundError
            When there is no such user, or no user ``transfer_to``.
        ValidationError
            When ``transfer_to`` is ``name`` itself.
        """
        _require_admin(actor)
        if transfer_to == name:
            raise ValidationError(f"transfer {name!r}'s things to another user, not to {name!r}")
        moved: Transferred | None = None
        with self._catalog.transaction() as s:
            row = live(s, name)
            if row is None:
                raise NotFoundError(f"no user {name!r}")
            heir = live(s, transfer_to) if transfer_to is not None else None
            if transfer_to is not None and (heir is None or not heir.registered):
                raise NotFoundError(f"no user {transfer_to!r} to transfer {name!r}'s things to")
            s.execute(delete(TokenRow).where(TokenRow.user == row.id))
            row.deleted_at = utcnow()
            if heir is not None:
                moved = transfer(s, row, heir)
            notify(s, AUTH_CHANNEL)
        forget_authentications()
        if moved is not None and self._on_transfer is not None:
            self._on_transfer(moved)

    def groups(self, actor: Principal) -> dict[str, list[str]]:
        """``{group: [members]}`` over every user."""
        out: dict[str, list[str]] = {}
        for u in self.users(actor):
            for g in u.groups:
                out.setdefault(g, []).append(u.name)
        return dict(sorted(out.items()))

    # -- tokens ---------------------------------------------------------------------

    def create_token(
        self,
        actor: Principal,
        user: str | None = None,
        label: str = "",
        expires_in: _dt.timedelta | None = None,
    ) -> tuple[str, TokenInfo]:
        """A new token for ``user`` (default: the actor); returns ``(token, info)``.

        The token itself is returned only here; the hub keeps its sha256.

        Raises
        ------
        AuthenticationError
            For an anonymous caller.
        AccessDeniedError
            When ``user`` is someone else and ``actor`` is not an admin.
        NotFoundError
            When there is no such user.
        """
        user = user or actor.user
        if not user:
            raise AuthenticationError("anonymous callers cannot make tokens")
        row = self._registered(user)
        uid = row.id if row is not None else None
        require(actor, Action.CREATE, Resource(Kind.TOKEN, uid), f"{actor.name} is not an admin of this hub")
        if row is None:
            raise NotFoundError(f"no user {user!r}; an admin creates users first")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = utcnow()
        with self._catalog.transaction() as s:
            made = TokenRow(
                id=secrets.token_hex(8),
                user=row.id,
                label=label[:200],
                token_sha256=hash_token(token),
                created_at=now,
                expires_at=now + expires_in if expires_in else None,
            )
            s.add(made)
        return token, _token(made, row.name)

    def tokens(self, actor: Principal, user: str | None = None) -> list[TokenInfo]:
        """The tokens of ``user`` (default: the actor), oldest first; an anonymous caller has none.

        Raises
        ------
        AccessDeniedError
            When ``user`` is someone else and ``actor`` is not an admin.
        NotFoundError
            When an admin names a user the hub does not know.
        """
        user = user or actor.user
        if user is None:
            return []  # an anonymous caller has no tokens
        row = self._registered(user)
        uid = row.id if row is not None else None
        require(actor, Action.SEE, Resource(Kind.TOKEN, uid), f"{actor.name} is not an admin of this hub")
        if row is None:
            if user != actor.user:  # an admin naming someone the hub does not know
                raise NotFoundError(f"no user {user!r}; `matterhub user list` lists them")
            return []
        with self._catalog.session() as s:
            rows = s.scalars(select(TokenRow).where(TokenRow.user == row.id).order_by(TokenRow.created_at))
            return [_token(r, row.name) for r in rows]

    def revoke_token(self, actor: Principal, token_id: str) -> None:
        """Revoke a token by its id (the token's user, or an admin).

        It stops working at once in this process, and in the other processes of a shared
        deployment when they hear the catalog's notification (at most :data:`AUTH_CACHE_S` seconds).

        Raises
        ------
        NotFoundError
            When there is no such token, or ``actor`` may not revoke it.
        """
        with self._catalog.transaction() as s:
            row = s.get(TokenRow, token_id)
            if row is None or not allowed(actor, Action.CHANGE, Resource(Kind.TOKEN, row.user)):
                raise NotFoundError(f"no token {token_id!r} that you may revoke")
            s.delete(row)
            notify(s, AUTH_CHANNEL)
        forget_authentications()

    def cached(self, token: str) -> Principal | None:
        """The principal of a token this process checked in the last :data:`AUTH_CACHE_S` seconds.

        None when it has not (then :meth:`authenticate` asks the catalog).
        """
        key = (id(self._catalog), hash_token(token))
        with _CACHE_LOCK:
            hit = _AUTH_CACHE.get(key)
        if hit is None or hit[1] <= time.monotonic():
            return None
        return hit[0]

    def authenticate(self, token: str | None) -> Principal:
        """The principal a bearer token stands for; no token is the anonymous principal.

        Answers are kept for :data:`AUTH_CACHE_S` seconds (never past the token's expiry);
        revoking a token, deleting a user or changing their groups in this process
        forgets them at once, and in other processes of a shared deployment within that time.
        """
        if not token:
            return Principal(None)
        hit = self.cached(token)
        if hit is not None:
            return hit
        principal, expires = self._authenticate(token)
        ttl = AUTH_CACHE_S
        if expires is not None:
            ttl = min(ttl, (expires - utcnow()).total_seconds())
        with _CACHE_LOCK:
            if len(_AUTH_CACHE) > 10_000:
                _AUTH_CACHE.clear()
            _AUTH_CACHE[(id(self._catalog), hash_token(token))] = (principal, time.monotonic() + ttl)
        return principal

    def _authenticate(self, token: str) -> tuple[Principal, _dt.datetime | None]:
        digest = hash_token(token)
        now = utcnow()
        with self._catalog.transaction() as s:
            row = s.scalars(select(TokenRow).where(TokenRow.token_sha256 == digest)).first()
            if row is None:
                raise AuthenticationError("unknown or revoked token")
            expires = row.expires_at
            if expires is not None and expires.tzinfo is None:
                expires = expires.replace(tzinfo=_dt.UTC)
            if expires is not None and expires <= now:
                raise AuthenticationError("this token has expired; make a new one")
            user = s.get(UserRow, row.user)
            if user is None or user.deleted_at is not None:
                raise AuthenticationError("the user of this token no longer exists")
            # last use, at most once a minute per token (keeps reads from turning into writes)
            last = row.last_used_at
            if last is not None and last.tzinfo is None:
                last = last.replace(tzinfo=_dt.UTC)
            if last is None or now - last > _dt.timedelta(minutes=1):
                s.execute(update(TokenRow).where(TokenRow.id == row.id).values(last_used_at=now))
            return Principal(user.name, frozenset(user.groups or ()), user.id), expires


class _Retry(Exception):
    """The row to update appeared unlocked: run the transaction again."""


#: Seconds an authenticated token's principal is remembered in this process.
AUTH_CACHE_S = 5.0
_AUTH_CACHE: dict[tuple[int, str], tuple[Principal, float]] = {}
_CACHE_LOCK = threading.Lock()


def forget_authentications() -> None:
    """Drop every remembered token (after a revocation or a change of users or groups).

    Also when another process announces one (:data:`hub.db.notify.AUTH_CHANNEL`).
    """
    with _CACHE_LOCK:
        _AUTH_CACHE.clear()


def _require_admin(actor: Principal) -> None:
    require(actor, Action.ADMINISTER, Resource(Kind.USER), f"{actor.name} is not an admin of this hub")
