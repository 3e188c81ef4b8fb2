"""The policy table's fixed points (hub/access/policy.py), written from its docstring."""

from __future__ import annotations

import pytest

from hub.access import (
    ANONYMOUS,
    PENDING_CURATION,
    POLICY,
    PUBLISHED,
    Action,
    Kind,
    Principal,
    Resource,
    allowed,
    explain,
    possible,
    publishing,
    require,
    rule,
)
from hub.access.index import INDEXED
from hub.access.policy import ADMIN
from hub.access.sql import STORED
from hub.exceptions import AccessDeniedError

ROOT = Principal("root", frozenset({"admin"}))
CORA = Principal("cora", frozenset({"curators"}))
ALICE = Principal("alice")
BOB = Principal("bob")
DAN = Principal("dan", frozenset({"lab"}))
NOBODY = Principal(None)
SEE, RUN, CHANGE = Action.SEE, Action.RUN, Action.CHANGE


def dataset(status: str = PUBLISHED, *see: str) -> Resource:
    return Resource(Kind.DATASET, "alice", status, {SEE: frozenset(see)})


def servable(see: tuple[str, ...], run: tuple[str, ...]) -> Resource:
    return Resource(Kind.SERVABLE, "alice", "published", {SEE: frozenset(see), RUN: frozenset(run)})


def test_datasets() -> None:
    lab = dataset(PUBLISHED, "group:lab", "user:bob")
    assert [allowed(p, SEE, lab) for p in (ROOT, CORA, ALICE, BOB, DAN, NOBODY)] == [
        True,
        False,
        True,
        True,
        True,
        False,
    ]
    waiting = dataset(PENDING_CURATION, "public")
    assert [allowed(p, SEE, waiting) for p in (ROOT, CORA, ALICE, BOB, NOBODY)] == [
        True,
        True,
        True,
        False,
        False,
    ]
    assert allowed(NOBODY, SEE, dataset(PUBLISHED, "public"))
    for kind in (Kind.RECORD, Kind.FILE):  # seen with their dataset version
        assert rule(kind, SEE) == rule(Kind.DATASET, SEE)
    assert allowed(ALICE, CHANGE, lab) and allowed(ROOT, CHANGE, lab) and not allowed(BOB, CHANGE, lab)


def test_servables_see_and_run_separately() -> None:
    sv = servable(("public",), ("group:lab",))
    assert allowed(BOB, SEE, sv) and not allowed(BOB, RUN, sv)
    assert allowed(DAN, RUN, sv) and allowed(ALICE, RUN, sv) and allowed(ROOT, RUN, sv)
    assert not allowed(BOB, CHANGE, sv) and allowed(ALICE, CHANGE, sv)
    hidden = servable(("user:alice",), ("public",))  # listed to run but not to see: runs need both
    assert not allowed(BOB, SEE, hidden) and allowed(BOB, RUN, hidden)


def test_submissions_tasks_users_tokens() -> None:
    sub = Resource(Kind.SUBMISSION, "alice")
    assert allowed(ALICE, SEE, sub) and allowed(CORA, SEE, sub) and not allowed(BOB, SEE, sub)
    assert allowed(CORA, Action.CURATE, sub) and allowed(ROOT, Action.CURATE, sub)
    assert not allowed(ALICE, Action.CURATE, sub)
    assert not allowed(NOBODY, Action.CREATE, Resource(Kind.SUBMISSION))
    # publishing servables: open to every signed-in user (embedded), or to those a shared hub lists
    assert allowed(BOB, Action.CREATE, publishing(None))
    assert not allowed(NOBODY, Action.CREATE, publishing(None))
    restricted = publishing(frozenset({"group:servable-publishers"}))
    assert not allowed(BOB, Action.CREATE, restricted) and allowed(ROOT, Action.CREATE, restricted)
    assert allowed(Principal("pat", frozenset({"servable-publishers"})), Action.CREATE, restricted)
    assert not allowed(BOB, Action.CREATE, Resource(Kind.SERVABLE))  # no setting given: no one but admins
    task = Resource(Kind.TASK, "alice")
    assert allowed(ALICE, SEE, task) and allowed(ROOT, SEE, task) and not allowed(CORA, SEE, task)
    anonymous_task = Resource(Kind.TASK, ANONYMOUS)
    assert allowed(NOBODY, SEE, anonymous_task) and not allowed(ALICE, SEE, anonymous_task)
    assert allowed(BOB, SEE, Resource(Kind.USER, "bob")) and not allowed(
        BOB, SEE, Resource(Kind.USER, "alice")
    )
    assert not allowed(BOB, Action.ADMINISTER, Resource(Kind.USER)) and allowed(
        ROOT, Action.ADMINISTER, Resource(Kind.USER)
    )
    token = Resource(Kind.TOKEN, "bob")
    for action in (SEE, Action.CREATE, CHANGE):
        assert (
            allowed(BOB, action, token) and allowed(ROOT, action, token) and not allowed(ALICE, action, token)
        )
    assert allowed(ROOT, Action.ADMINISTER, Resource(Kind.HUB)) and not allowed(
        CORA, Action.ADMINISTER, Resource(Kind.HUB)
    )


def test_what_is_not_in_the_table_is_allowed_to_no_one() -> None:
    assert (Kind.DATASET, RUN) not in POLICY
    assert not allowed(ROOT, RUN, dataset(PUBLISHED, "public"))
    assert explain(Kind.DATASET, RUN) == "no one may"


def test_possible_says_whether_any_object_could_be_allowed() -> None:
    assert not possible(NOBODY, SEE, Kind.DATASET, PENDING_CURATION)  # neither owner nor curator
    assert possible(BOB, SEE, Kind.DATASET, PENDING_CURATION)  # bob may own one
    assert possible(NOBODY, SEE, Kind.DATASET, PUBLISHED)
    assert not possible(BOB, Action.ADMINISTER, Kind.HUB) and possible(ROOT, Action.ADMINISTER, Kind.HUB)


def test_refusals_say_who_may() -> None:
    with pytest.raises(AccessDeniedError, match="bob may not curate this submission: curators"):
        require(BOB, Action.CURATE, Resource(Kind.SUBMISSION))
    with pytest.raises(AccessDeniedError, match="only the owner"):
        require(BOB, CHANGE, servable(("public",), ()), "only the owner of alice/x may change it")
    assert explain(Kind.SERVABLE, RUN) == "admins, its owner or those its ACL lists for 'run' may"


def test_the_adapters_cover_the_table() -> None:
    """Every kind with object rules has a table in the SQL adapter, and admins see every
    indexed kind (the index skips its filter for them).  The hub and names are decided on
    the one object in hand, never as a query (names: hub/access/names.py)."""
    for kind, _ in POLICY:
        assert kind in STORED or kind in (Kind.HUB, Kind.NAME)
    for kind in INDEXED:
        assert ADMIN in rule(kind, SEE)
