"""Names belong to their owners (hub/access/names.py and the policy's NAME rule), on SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest

from hub.access import CLAIMED, FREE, Action, Kind, Principal, Resource, allowed
from hub.access.names import Names
from hub.db.database import Database
from hub.exceptions import AccessDeniedError, NameNotAvailableError

ALICE = Principal("alice", frozenset({"lab"}), "a" * 32)
BOB = Principal("bob", frozenset(), "b" * 32)
CAROL = Principal("carol", frozenset({"lab"}), "c" * 32)
ROOT = Principal("root", frozenset({"admin"}), "r" * 32)
CURATOR = Principal("cur", frozenset({"curators"}), "d" * 32)


@pytest.fixture()
def names(catalog_url: str) -> Iterator[Names]:
    catalog = Database(catalog_url)
    yield Names(catalog)
    catalog.close()


def test_the_rule() -> None:
    """A free name: any signed-in user; a claimed one: its owner, its group's members, admins."""
    free = Resource(Kind.NAME, status=FREE)
    assert allowed(BOB, Action.CLAIM, free) and not allowed(Principal(None), Action.CLAIM, free)
    mine = Resource(Kind.NAME, ALICE.id, CLAIMED)
    assert allowed(ALICE, Action.CLAIM, mine) and allowed(ROOT, Action.CLAIM, mine)
    assert not allowed(BOB, Action.CLAIM, mine) and not allowed(CURATOR, Action.CLAIM, mine)
    assert not allowed(Principal("alice", frozenset({"lab"}), "e" * 32), Action.CLAIM, mine), "a new alice"
    lab = Resource(Kind.NAME, ALICE.id, CLAIMED, {Action.CLAIM: frozenset({"group:lab"})})
    assert allowed(CAROL, Action.CLAIM, lab) and not allowed(BOB, Action.CLAIM, lab)


def test_the_first_publisher_owns_a_name(names: Names) -> None:
    names.claim(ALICE, Kind.DATASET, "zebra")
    names.claim(ALICE, Kind.DATASET, "zebra")  # her new versions
    names.claim(ROOT, Kind.DATASET, "zebra")  # admins act on others' datasets, as today
    with pytest.raises(NameNotAvailableError) as taken:
        names.claim(BOB, Kind.DATASET, "zebra")
    assert str(taken.value) == "name not available: 'zebra'; choose another source_name"
    assert taken.value.status_code == 409
    with pytest.raises(NameNotAvailableError):
        names.claim(CAROL, Kind.DATASET, "zebra", group="lab")  # a group given later changes nothing
    names.claim(BOB, Kind.SERVABLE, "zebra")  # kinds have names of their own
    with pytest.raises(NameNotAvailableError, match="choose another servable name"):
        names.claim(ALICE, Kind.SERVABLE, "zebra")


def test_a_name_claimed_for_a_group_is_its_members(names: Names) -> None:
    with pytest.raises(AccessDeniedError, match="not a member of group 'lab'"):
        names.claim(BOB, Kind.SERVABLE, "lab/model", group="lab")
    names.claim(ALICE, Kind.SERVABLE, "lab/model", group="lab")
    names.claim(CAROL, Kind.SERVABLE, "lab/model")
    with pytest.raises(NameNotAvailableError):
        names.claim(BOB, Kind.SERVABLE, "lab/model")


def test_one_of_many_claiming_a_free_name_at_once_wins(names: Names) -> None:
    people = [Principal(f"u{i}", frozenset(), f"{i:032x}") for i in range(6)]
    barrier = Barrier(len(people))

    def claim(p: Principal) -> bool:
        barrier.wait()
        try:
            names.claim(p, Kind.DATASET, "race")
            return True
        except NameNotAvailableError:
            return False

    with ThreadPoolExecutor(len(people)) as pool:
        assert sorted(pool.map(claim, people)) == [False] * 5 + [True]
