"""Who is asking, and what they may do: the one place access rules live.

- :mod:`hub.access.principal`: :class:`Principal` (a user and their groups, or an
  anonymous caller) and ACL entries (``public``, ``user:NAME``, ``group:NAME``).
- :mod:`hub.access.policy`: every rule, as one table (:data:`POLICY`), and
  :func:`allowed` / :func:`require` for an object in hand.
- :mod:`hub.access.sql`: the rules as SQL conditions (every catalog read).
- :mod:`hub.access.index`: the rules as the search index's filter (hits, totals,
  facets, scroll, fields).
- :mod:`hub.access.identities`: users' immutable ids (what owner columns, stored ACL
  entries and tokens name) and the names people see.
- :mod:`hub.access.names`: names belong to their owners (who may publish under a
  ``source_name`` or an ``owner/name``).
- :mod:`hub.access.users`: users, groups and tokens; deleting a user.
"""

from hub.access.policy import (
    ACL,
    BLOB_HOLDERS,
    CLAIMED,
    FREE,
    PENDING_CURATION,
    POLICY,
    PUBLISHED,
    SERVABLE_PUBLISHERS,
    Action,
    Grant,
    Kind,
    Resource,
    Who,
    allowed,
    explain,
    possible,
    publishing,
    require,
    rule,
)
from hub.access.principal import (
    ADMIN_GROUP,
    ANONYMOUS,
    CURATOR_GROUP,
    MAX_PRINCIPAL,
    PUBLIC,
    Principal,
    normalize_principal,
    normalize_visible_to,
)

__all__ = [
    "ACL",
    "ADMIN_GROUP",
    "ANONYMOUS",
    "BLOB_HOLDERS",
    "CLAIMED",
    "CURATOR_GROUP",
    "FREE",
    "MAX_PRINCIPAL",
    "PENDING_CURATION",
    "POLICY",
    "PUBLIC",
    "PUBLISHED",
    "SERVABLE_PUBLISHERS",
    "Action",
    "Grant",
    "Kind",
    "Principal",
    "Resource",
    "Who",
    "allowed",
    "explain",
    "normalize_principal",
    "normalize_visible_to",
    "possible",
    "publishing",
    "require",
    "rule",
]
