"""Who is asking: a principal and the ACL entries that name principals.

A principal is a user and their groups, or an anonymous caller.

An ACL entry is ``"public"`` (everyone, anonymous callers included), ``"user:<name>"``
or ``"group:<name>"``; a bare name given by a caller is a user name.  A principal
matches the entries :meth:`Principal.tokens` lists.  Two groups give roles: ``admin``
(administers the hub) and ``curators`` (accept or reject submissions waiting for
curation; admins are curators too).

A principal is made from a user name and that user's groups, always: the embedded hub
from its ``user=``/``groups=`` arguments, the service from a token's user
(:meth:`hub.access.users.Users.authenticate`), and a stored owner's name (a queued
submission, an interrupted task) through :meth:`hub.access.users.Users.principal`, which
reads the groups the catalog gives that user now.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterable
from dataclasses import dataclass, field

from hub.exceptions import ValidationError

PUBLIC = "public"
ADMIN_GROUP = "admin"
CURATOR_GROUP = "curators"
#: The name anonymous callers go by (what they make is recorded under it; no user may take it).
ANONYMOUS = "anonymous"
#: The longest user name or ACL entry the catalog holds (its columns are VARCHAR(200)).
MAX_PRINCIPAL = 200


def normalize_principal(entry: str) -> str:
    """One ACL entry in its stored form: ``public``, ``user:NAME`` or ``group:NAME``.

    Raises
    ------
    ValidationError
        For an empty entry, one longer than :data:`MAX_PRINCIPAL`, or one with an unknown prefix.
    """
    entry = entry.strip()
    if not entry:
        raise ValidationError("visible_to entries must not be empty")
    if len(entry) > MAX_PRINCIPAL:
        raise ValidationError(
            f"visible_to entry {entry[:40]!r}... is {len(entry)} characters long; at most {MAX_PRINCIPAL}"
        )
    if entry == PUBLIC or entry.startswith(("user:", "group:")):
        return entry
    if ":" in entry:
        raise ValidationError(
            f"visible_to entry {entry!r} is not understood: use 'public', 'user:NAME' or 'group:NAME'"
        )
    return f"user:{entry}"


def normalize_visible_to(entries: Iterable[str] | str | None) -> list[str]:
    """An ACL as stored: its entries normalized, sorted and unique (None: ``["public"]``).

    Raises
    ------
    ValidationError
        For an empty list or a bad entry (see :func:`normalize_principal`).
    """
    if entries is None:
        return [PUBLIC]
    if isinstance(entries, str):
        entries = [entries]
    out = sorted({normalize_principal(e) for e in entries})
    if not out:
        raise ValidationError("visible_to must name at least one principal, e.g. ['public']")
    return out


@dataclass(frozen=True)
class Principal:
    """A user and their groups; ``user=None`` is an anonymous caller."""

    user: str | None
    groups: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.user is not None and len(self.user) > MAX_PRINCIPAL:
            raise ValidationError(
                f"user name {self.user[:40]!r}... is {len(self.user)} characters long; "
                f"at most {MAX_PRINCIPAL}"
            )

    @classmethod
    def named(cls, name: str, groups: Iterable[str] = ()) -> Principal:
        """The principal a stored name stands for (an owner column), with ``groups``.

        :data:`ANONYMOUS` gives the anonymous principal (and ``groups`` are dropped).
        """
        if name == ANONYMOUS:
            return cls(None)
        return cls(name, frozenset(groups))

    @classmethod
    def local(cls) -> Principal:
        """The person who owns an embedded hub directory: its admin."""
        try:
            name = getpass.getuser()
        except Exception:
            name = "local"
        return cls(name, frozenset({ADMIN_GROUP}))

    @property
    def is_admin(self) -> bool:
        """Whether the principal administers the hub (a member of ``admin``)."""
        return ADMIN_GROUP in self.groups

    @property
    def is_curator(self) -> bool:
        """Whether the principal curates submissions (a member of ``curators`` or ``admin``)."""
        return self.is_admin or CURATOR_GROUP in self.groups

    @property
    def name(self) -> str:
        """The user name, or :data:`ANONYMOUS`: what the principal's work is recorded under."""
        return self.user or ANONYMOUS

    def tokens(self) -> list[str]:
        """The ACL entries that match this principal."""
        out = [PUBLIC]
        if self.user:
            out.append(f"user:{self.user}")
        out += [f"group:{g}" for g in sorted(self.groups)]
        return out
