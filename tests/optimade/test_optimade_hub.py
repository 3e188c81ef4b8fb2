"""``Hub.optimade_search``: the endpoint's search from Python, the same for the embedded hub
and the remote client of the service (needs the wiring in hub/hubs/embedded.py and hub/hubs/remote.py)."""

from __future__ import annotations

from typing import Any

import pytest

from hub.optimade.errors import FilterError, NotImplementedFilter, PageLimitError

pytestmark = pytest.mark.shared_data

FILTERS = ['elements HAS ALL "C","O" AND nperiodic_dimensions=0', "nsites<=4", "_exmpl_x=1 OR nelements=1"]


@pytest.fixture(params=["embedded", "remote"])
def alice_hub(request: pytest.FixtureRequest, structure_hub: Any, live_optimade: str) -> Any:
    if request.param == "embedded":
        return structure_hub.as_user("alice")
    from hub import Hub

    remote = Hub(live_optimade.removesuffix("/optimade"), token=structure_hub.tokens["alice"], progress=False)
    request.addfinalizer(remote.close)
    return remote


@pytest.mark.parametrize("text", FILTERS)
def test_optimade_search_is_the_endpoints_search(alice_hub: Any, structure_hub: Any, text: str) -> None:
    visible = structure_hub.ids_visible_to({"lab"}, "alice")
    everything = alice_hub.optimade_search(text, limit=1000, response_fields=["nsites", "elements"])
    first = alice_hub.optimade_search(text, limit=2, offset=0, sort="nsites")
    assert everything.total == len(everything.ids) > 0
    assert first.total == everything.total and set(first.ids) <= set(everything.ids)
    assert set(everything.ids) <= visible
    assert all(set(s["attributes"]) == {"nsites", "elements"} for s in everything)
    assert [s["attributes"]["nsites"] for s in first] == sorted(s["attributes"]["nsites"] for s in first)
    assert first.more == (everything.total > 2)
    if text.startswith("_exmpl"):
        assert everything.warnings


def test_optimade_search_errors(alice_hub: Any) -> None:
    with pytest.raises(FilterError, match="not a property"):
        alice_hub.optimade_search("crazyfield = 2")
    with pytest.raises(NotImplementedFilter):
        alice_hub.optimade_search('elements:elements_ratios HAS "Si":>0.3')
    with pytest.raises(PageLimitError, match="Max allowed page_limit is 1000, you requested 5000"):
        alice_hub.optimade_search("", limit=5000)


def test_embedded_and_remote_agree(structure_hub: Any, live_optimade: str) -> None:
    from hub import Hub

    with Hub(
        live_optimade.removesuffix("/optimade"), token=structure_hub.tokens["bob"], progress=False
    ) as remote:
        embedded = structure_hub.as_user("bob")
        for text in FILTERS:
            a = embedded.optimade_search(text, limit=1000)
            b = remote.optimade_search(text, limit=1000)
            assert (a.total, a.ids, a.structures) == (b.total, b.ids, b.structures)
