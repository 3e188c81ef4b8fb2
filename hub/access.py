"""Who is asking, and what they may see: the one place access rules live.

A dataset version is visible to the principals in its ``visible_to`` list:
``"public"`` (everyone, anonymous included), ``"user:<name>"`` or
``"group:<name>"``.  A bare name is a user name.  The owner and hub admins
always see their datasets; a version waiting for curation is seen only by its
owner and the curators.  Every read in the catalog goes through
:func:`visible_clause`, so no path can forget the rule.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, or_, select

from hub.db.models import DatasetACL, DatasetRow
from hub.exceptions import ValidationError

PUBLIC = "public"
ADMIN_GROUP = "admin"
CURATOR_GROUP = "curators"
PUBLISHED = "published"
PENDING_CURATION = "pending_curation"
#: The longest user name or ACL entry the catalog holds (its columns are VARCHAR(200)).
MAX_PRINCIPAL = 200


def normalize_principal(entry: str) -> str:
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
    """A user and their groups; ``user=None`` is anonymous."""

    user: str | None
    groups: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.user is not None and len(self.user) > MAX_PRINCIPAL:
            raise ValidationError(
                f"user name {self.user[:40]!r}... is {len(self.user)} characters long; "
                f"at most {MAX_PRINCIPAL}"
            )

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
        return ADMIN_GROUP in self.groups

    @property
    def is_curator(self) -> bool:
        return self.is_admin or CURATOR_GROUP in self.groups

    @property
    def name(self) -> str:
        return self.user or "anonymous"

    def tokens(self) -> list[str]:
        """The ACL entries that match this principal."""
        out = [PUBLIC]
        if self.user:
            out.append(f"user:{self.user}")
        out += [f"group:{g}" for g in sorted(self.groups)]
        return out

    def can_see(self, visible_to: Iterable[str], owner: str | None = None, status: str = PUBLISHED) -> bool:
        """The rule of :func:`visible_clause`, for a document already in hand."""
        if self.is_admin or (self.user is not None and owner == self.user):
            return True
        if status == PENDING_CURATION:
            return self.is_curator
        return bool(set(self.tokens()) & set(visible_to))


def visible_clause(principal: Principal) -> ColumnElement[bool]:
    """SQL condition on :class:`DatasetRow` selecting the versions ``principal`` may see."""
    if principal.is_admin:
        return DatasetRow.source_id.is_not(None)
    acl = select(DatasetACL.source_id).where(DatasetACL.principal.in_(principal.tokens()))
    conds: list[ColumnElement[bool]] = [and_(DatasetRow.status == PUBLISHED, DatasetRow.source_id.in_(acl))]
    if principal.user:
        conds.append(DatasetRow.owner == principal.user)
    if principal.is_curator:
        conds.append(DatasetRow.status == PENDING_CURATION)
    return or_(*conds)


def index_acl(visible_to: Iterable[str], owner: str, status: str) -> list[str]:
    """The ACL entries an indexed document carries: the same rule as :func:`visible_clause`
    (admins are not listed: they bypass the filter)."""
    if status == PENDING_CURATION:
        return sorted({f"user:{owner}", f"group:{CURATOR_GROUP}"})
    return sorted({*visible_to, f"user:{owner}"})
