"""The access policy: every access rule of the hub, in one table.

Each rule answers "may this principal see / run / change / curate / administer this?".

:data:`POLICY` maps a kind of object and an action to the grants that allow it; a
principal may do the action when any grant admits it.  A grant names who
(:class:`Who`: admins, curators, the object's owner, signed-in users, the principals the
object's ACL lists for a right, anonymous callers) and, optionally, the status the
object must be in for the grant to hold.

The rules read from the table:

- A dataset version is seen by admins and its owner; once published, by the
  principals its ACL lists (``visible_to``); while it waits for curation, by the
  curators.  Its records and files are seen with it.  Its owner and admins change it
  (a new version).
- Signed-in users submit datasets.  A submission is seen by its owner and the curators;
  curators accept or reject it.
- Publishing servables (code the hub runs) is open to every signed-in user of an embedded
  hub (``OPEN``); a shared hub restricts it (``RESTRICTED``) to admins and the principals
  it lists, the ``servable-publishers`` group by default (``matterhub serve
  --servable-publishers``).
- A servable version is seen by admins, its owner and the principals its ``see`` ACL
  lists (``visible_to``), run by admins, its owner and those its ``run`` ACL lists
  (``runnable_by``, else ``visible_to``), and changed (deprecated, deleted) by admins
  and its owner.
- A task is seen by admins and the principal that ran it; anonymous callers share one
  name, so a task run anonymously is seen by anonymous callers.
- A user is seen by admins and by themselves; admins administer users and the hub.
  Tokens are listed, made and revoked by admins and by the user they belong to.
- A name (a dataset's ``source_name``, a servable's ``owner/name``) is claimed by the
  first signed-in user to publish under it, for themselves or for a group they belong
  to; after that, only its owner, the members of its owning group (its ``claim`` ACL)
  and admins publish under it (:mod:`hub.access.names`).
- A blob (the bytes of a file, an artifact) is read through what holds it
  (:data:`BLOB_HOLDERS`): a file of a dataset version one may see, or the artifact of
  a servable version one may see; the executed notebook of a notebook servable's run
  is read with the artifact it ran from (:mod:`hub.notebooks.provenance`).

Datasets and servables share one ACL shape: for each right (``see``, ``run``) the
entries (:mod:`hub.access.principal`) it lists.  The same table is turned into SQL
(:mod:`hub.access.sql`) and into the search index's filter (:mod:`hub.access.index`);
:func:`allowed` is the rule for an object already in hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from types import MappingProxyType

from hub.access.principal import ANONYMOUS, Principal
from hub.exceptions import AccessDeniedError

#: Dataset statuses: published, or waiting for a curator.
PUBLISHED = "published"
PENDING_CURATION = "pending_curation"
#: Who publishes servables on a hub: any signed-in user, or those the hub lists.
OPEN = "open"
RESTRICTED = "restricted"
#: The group a shared hub lets publish servables unless told otherwise.
SERVABLE_PUBLISHERS = "servable-publishers"
#: Name statuses: no one has published under it yet, or someone has (it has an owner).
FREE = "free"
CLAIMED = "claimed"


class Kind(StrEnum):
    """The kinds of object the policy has rules for."""

    DATASET = "dataset"
    RECORD = "record"
    FILE = "file"
    SUBMISSION = "submission"
    SERVABLE = "servable"
    TASK = "task"
    USER = "user"
    TOKEN = "token"
    #: A name datasets or servables are published under (a ``source_name``, an ``owner/name``).
    NAME = "name"
    #: The hub itself (its index, its users as a whole).
    HUB = "hub"


class Action(StrEnum):
    """What a principal may do to an object; ``see``, ``run`` and ``claim`` are also ACL rights."""

    SEE = "see"
    RUN = "run"
    CREATE = "create"
    CHANGE = "change"
    CURATE = "curate"
    ADMINISTER = "administer"
    #: Publish under a name: claim it (the first publication) or add a version under it.
    CLAIM = "claim"


class Who(Enum):
    """Whom a grant admits (the value says it in words, for error messages)."""

    ADMIN = "admins"
    CURATOR = "curators (members of 'curators' or 'admin')"
    OWNER = "its owner"
    SIGNED_IN = "signed-in users"
    LISTED = "those its ACL lists"
    ANONYMOUS = "anonymous callers, for what an anonymous caller made"


#: An object's ACL: for each right (``Action.SEE``, ``Action.RUN``), the entries it lists.
ACL = Mapping[str, frozenset[str]]


@dataclass(frozen=True)
class Grant:
    """One way to be allowed to do an action.

    A grant admits ``who``, for ``right`` (used with ``Who.LISTED``: the ACL right whose
    entries count), while the object is in ``status`` (None: any status).
    """

    who: Who
    right: Action | None = None
    status: str | None = None

    def when(self, status: str) -> Grant:
        """The same grant, holding only for objects in ``status``."""
        return Grant(self.who, self.right, status)

    def __str__(self) -> str:
        text = self.who.value
        if self.right is not None:
            text += f" for {self.right.value!r}"
        return text + (f" (while {self.status})" if self.status else "")


def listed(right: Action) -> Grant:
    """The principals an object's ACL lists for ``right``."""
    return Grant(Who.LISTED, right)


ADMIN = Grant(Who.ADMIN)
CURATORS = Grant(Who.CURATOR)
OWNER = Grant(Who.OWNER)
SIGNED_IN = Grant(Who.SIGNED_IN)
ANONYMOUS_CALLERS = Grant(Who.ANONYMOUS)

#: Who sees a dataset version (and its records and files).
SEE_DATASET = (ADMIN, OWNER, listed(Action.SEE).when(PUBLISHED), CURATORS.when(PENDING_CURATION))

#: Every rule: (kind, action) -> the grants that allow it.  What is not here is allowed to no one.
POLICY: Mapping[tuple[Kind, Action], tuple[Grant, ...]] = MappingProxyType(
    {
        (Kind.DATASET, Action.SEE): SEE_DATASET,
        (Kind.RECORD, Action.SEE): SEE_DATASET,
        (Kind.FILE, Action.SEE): SEE_DATASET,
        (Kind.DATASET, Action.CHANGE): (ADMIN, OWNER),
        (Kind.SUBMISSION, Action.CREATE): (SIGNED_IN,),
        (Kind.SUBMISSION, Action.SEE): (CURATORS, OWNER),
        (Kind.SUBMISSION, Action.CURATE): (CURATORS,),
        (Kind.SERVABLE, Action.CREATE): (SIGNED_IN.when(OPEN), ADMIN, listed(Action.CREATE).when(RESTRICTED)),
        (Kind.SERVABLE, Action.SEE): (ADMIN, OWNER, listed(Action.SEE)),
        (Kind.SERVABLE, Action.RUN): (ADMIN, OWNER, listed(Action.RUN)),
        (Kind.SERVABLE, Action.CHANGE): (ADMIN, OWNER),
        (Kind.TASK, Action.SEE): (ADMIN, OWNER, ANONYMOUS_CALLERS),
        (Kind.USER, Action.SEE): (ADMIN, OWNER),
        (Kind.USER, Action.ADMINISTER): (ADMIN,),
        (Kind.TOKEN, Action.SEE): (ADMIN, OWNER),
        (Kind.TOKEN, Action.CREATE): (ADMIN, OWNER),
        (Kind.TOKEN, Action.CHANGE): (ADMIN, OWNER),
        (Kind.NAME, Action.CLAIM): (ADMIN, OWNER, listed(Action.CLAIM), SIGNED_IN.when(FREE)),
        (Kind.HUB, Action.ADMINISTER): (ADMIN,),
    }
)

#: A blob is read by whoever may see one of its holders: a dataset file, a servable (its artifact).
BLOB_HOLDERS = (Kind.FILE, Kind.SERVABLE)


@dataclass(frozen=True)
class Resource:
    """What the policy needs to know of one object.

    Parameters
    ----------
    kind
        What it is.
    owner
        The id it is recorded under (:attr:`hub.access.principal.Principal.owner_id`: a
        dataset's or servable's owner, a task's runner, a user's own id, a token's user, a
        name's owner); None for an object not made yet.
    status
        Its status (``published``, ``pending_curation``, ``deprecated``, a name's ``free``
        or ``claimed``, ...).
    acl
        Its ACL: right -> entries.
    """

    kind: Kind
    owner: str | None = None
    status: str | None = None
    acl: ACL = field(default_factory=dict)


def publishing(publishers: frozenset[str] | None) -> Resource:
    """The resource a new servable is checked against on a hub whose publishers are ``publishers``.

    None: publishing is open to every signed-in user; else only admins and the ACL entries
    listed (``group:servable-publishers``, ``user:NAME``) may publish.
    """
    if publishers is None:
        return Resource(Kind.SERVABLE, status=OPEN)
    return Resource(Kind.SERVABLE, status=RESTRICTED, acl={Action.CREATE: publishers})


def rule(kind: Kind, action: Action) -> tuple[Grant, ...]:
    """The grants that allow ``action`` on ``kind`` (none: allowed to no one)."""
    return POLICY.get((kind, action), ())


def admits(grant: Grant, principal: Principal, resource: Resource) -> bool:
    """Whether ``grant`` lets ``principal`` act on ``resource``."""
    if grant.status is not None and resource.status != grant.status:
        return False
    match grant.who:
        case Who.ADMIN:
            return principal.is_admin
        case Who.CURATOR:
            return principal.is_curator
        case Who.OWNER:
            return principal.id is not None and resource.owner == principal.id
        case Who.SIGNED_IN:
            return principal.user is not None
        case Who.LISTED:
            assert grant.right is not None
            return not resource.acl.get(grant.right, frozenset()).isdisjoint(principal.tokens())
        case Who.ANONYMOUS:
            return principal.user is None and resource.owner == ANONYMOUS


def allowed(principal: Principal, action: Action, resource: Resource) -> bool:
    """Whether ``principal`` may do ``action`` to ``resource``."""
    return any(admits(g, principal, resource) for g in rule(resource.kind, action))


def possible(principal: Principal, action: Action, kind: Kind, status: str | None = None) -> bool:
    """Whether ``principal`` may do ``action`` to some object of ``kind`` (in ``status``).

    False when no grant could admit it, whatever the object; True when one could, for
    some object (its owner, its ACL).  ``status`` None considers grants for any status.
    """
    for grant in rule(kind, action):
        if grant.status is not None and status is not None and grant.status != status:
            continue
        match grant.who:
            case Who.ADMIN:
                could = principal.is_admin
            case Who.CURATOR:
                could = principal.is_curator
            case Who.OWNER | Who.SIGNED_IN:
                could = principal.user is not None
            case Who.LISTED:
                could = True
            case Who.ANONYMOUS:
                could = principal.user is None
        if could:
            return True
    return False


def explain(kind: Kind, action: Action) -> str:
    """Who may do ``action`` to ``kind``, in words (for error messages)."""
    grants = rule(kind, action)
    if not grants:
        return "no one may"
    names = [str(g) for g in grants]
    return (", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]) + " may"


def require(principal: Principal, action: Action, resource: Resource, message: str | None = None) -> None:
    """Raise unless ``principal`` may do ``action`` to ``resource``.

    Raises
    ------
    AccessDeniedError
        With ``message``, or one saying who may.
    """
    if not allowed(principal, action, resource):
        raise AccessDeniedError(
            message
            or f"{principal.name} may not {action.value} this {resource.kind.value}: "
            f"{explain(resource.kind, action)}"
        )
