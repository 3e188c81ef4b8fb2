"""Who is asking: a principal and the ACL entries that name principals.

A principal is a user (their name and immutable id) and their groups, or an anonymous
caller.

An ACL entry is ``"public"`` (everyone, anonymous callers included), ``"user:<name>"``
or ``"group:<name>"``; a bare name given by a caller is a user name.  The catalog
stores a user entry with the user's id instead (``"user:<id>"``,
:mod:`hub.access.identities`), so a principal matches the entries
:meth:`Principal.tokens` lists: ``public``, ``user:<its id>`` and its groups.  Two
groups give roles: ``admin`` (administers the hub) and ``curators`` (accept or reject
submissions waiting for curation; admins are curators too).

A principal working on a catalog comes from it, always: the embedded hub's from its
``user=``/``groups=`` arguments through :meth:`hub.access.identities.Identities.resolve`
(the id of whoever bears that name now), the service's from a token's user
(:meth:`hub.access.users.Users.authenticate`), and a stored owner's (a queued
submission, an interrupted task) from its id through
:meth:`hub.access.users.Users.principal`, with the groups the catalog gives that user now.
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
    """A user and their groups; ``user=None`` is an anonymous caller.

    Parameters
    ----------
    user
        The user's name (what people see), None for an anonymous caller.
    groups
        The user's groups.
    id
        The user's immutable id (:mod:`hub.access.identities`): what the catalog records
        their work under and what stored ACL entries name.  A principal made without one
        (not read from a catalog: a remote hub's view of itself, a test's) goes by its
        name; an anonymous caller has none.
    """

    user: str | None
    groups: frozenset[str] = field(default_factory=frozenset)
    id: str | None = None

    def __post_init__(self) -> None:
        if self.user is not None and len(self.user) > MAX_PRINCIPAL:
            raise ValidationError(
                f"user name {self.user[:40]!r}... is {len(self.user)} characters long; "
                f"at most {MAX_PRINCIPAL}"
            )
        # frozen: the id is settled here, once (an anonymous caller has none)
        object.__setattr__(self, "id", (self.id or self.user) if self.user is not None else None)

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
        """The user name, or :data:`ANONYMOUS` (for messages and what people see)."""
        return self.user or ANONYMOUS

    @property
    def owner_id(self) -> str:
        """What the principal's work is recorded under (owner columns): its id, or :data:`ANONYMOUS`."""
        return self.id or ANONYMOUS

    def tokens(self) -> list[str]:
        """The stored ACL entries that match this principal (``user:<id>`` for its user)."""
        out = [PUBLIC]
        if self.id:
            out.append(f"user:{self.id}")
        out += [f"group:{g}" for g in sorted(self.groups)]
        return out
