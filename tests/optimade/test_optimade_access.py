"""Access control through OPTIMADE: a caller never learns of structures they may not see,
not in hits, totals (``data_returned``, ``data_available``), pages or single entries,
whether they search from Python or through the endpoint."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from hub.optimade.search import count_structures, get_structure, search_structures

pytestmark = pytest.mark.shared_data

#: (caller, the groups and user whose records they may see)
CALLERS: list[tuple[str | None, set[str]]] = [
    (None, set()),
    ("alice", {"lab"}),
    ("bob", set()),
    ("carol", set()),
]


def _hidden_from(structure_hub: Any, user: str | None, groups: set[str]) -> set[str]:
    return set(structure_hub.facts) - structure_hub.ids_visible_to(groups, user)


def test_the_fixture_has_hidden_structures(structure_hub: Any) -> None:
    assert _hidden_from(structure_hub, None, set()), (
        "no private structures: the tests below would prove nothing"
    )
    assert _hidden_from(structure_hub, None, set()) - _hidden_from(structure_hub, "alice", {"lab"})
    assert _hidden_from(structure_hub, None, set()) - _hidden_from(structure_hub, "bob", set())


@pytest.mark.parametrize(("user", "groups"), CALLERS, ids=[str(c[0]) for c in CALLERS])
def test_python_search_sees_exactly_what_the_caller_may(
    structure_hub: Any, user: str | None, groups: set[str]
) -> None:
    hub = structure_hub.as_user(user)
    visible = structure_hub.ids_visible_to(groups, user)
    everything = search_structures(hub, "nsites>0 OR NOT nsites>0", limit=1000)
    assert set(everything.ids) == visible
    assert everything.total == len(visible) == count_structures(hub)
    for rid in _hidden_from(structure_hub, user, groups):
        facts = structure_hub.facts[rid]
        assert get_structure(hub, rid) is None
        # a filter naming exactly the hidden structure finds nothing
        probe = search_structures(hub, f'id="{rid}"', limit=10)
        assert (probe.total, probe.ids) == (0, [])
        same_formula = search_structures(hub, f'chemical_formula_reduced="{facts.reduced}"', limit=1000)
        assert rid not in same_formula.ids
        assert same_formula.total == len(same_formula.ids)


def _get(url: str, token: str | None = None, **params: Any) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.get(url, params=params, headers=headers, timeout=60)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize(("user", "groups"), CALLERS, ids=[str(c[0]) for c in CALLERS])
def test_endpoint_sees_exactly_what_the_caller_may(
    structure_hub: Any, live_optimade: str, user: str | None, groups: set[str]
) -> None:
    token = structure_hub.tokens[user] if user else None
    visible = structure_hub.ids_visible_to(groups, user)
    body = _get(f"{live_optimade}/v1/structures", token, page_limit=1000, response_fields="nsites")
    assert {d["id"] for d in body["data"]} == visible
    assert body["meta"]["data_returned"] == body["meta"]["data_available"] == len(visible)
    for rid in _hidden_from(structure_hub, user, groups):
        single = _get(f"{live_optimade}/v1/structures/{rid}", token)
        assert single["data"] is None
        assert single["meta"]["data_returned"] == 0
        probe = _get(f"{live_optimade}/v1/structures", token, filter=f'id="{rid}"')
        assert probe["data"] == [] and probe["meta"]["data_returned"] == 0


def test_hidden_and_missing_entries_look_the_same(structure_hub: Any, live_optimade: str) -> None:
    hidden = sorted(_hidden_from(structure_hub, None, set()))[0]
    a = _get(f"{live_optimade}/v1/structures/{hidden}")
    b = _get(f"{live_optimade}/v1/structures/{hidden}x")
    for body in (a, b):
        body["meta"].pop("time_stamp")
        body["meta"]["query"].pop("representation")
    assert a == b


def test_a_bad_token_is_an_optimade_error(live_optimade: str) -> None:
    response = httpx.get(
        f"{live_optimade}/v1/structures", headers={"Authorization": "Bearer nope"}, timeout=60
    )
    assert response.status_code == 401
    assert response.json()["errors"][0]["status"] == "401"
    assert response.headers["www-authenticate"] == "Bearer"
