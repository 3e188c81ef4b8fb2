"""Filter conformance: each OPTIMADE filter returns exactly the structures a predicate over
the structures themselves (read with plain ASE, spglib for space groups) selects, as
seen by an anonymous caller, an admin, and through the live endpoint's pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from hub.optimade.search import search_structures
from hub.optimade.translate import translate

pytestmark = pytest.mark.shared_data

Pred = Callable[[Any], bool]

#: (filter, which structures it selects).  Facts: see tests/optimade/conftest.py.
TABLE: list[tuple[str, Pred]] = [
    ('elements HAS ALL "Co","V"', lambda f: {"Co", "V"} <= set(f.elements)),
    ('elements HAS ALL "Co","S"', lambda f: {"Co", "S"} <= set(f.elements)),
    ('elements HAS ALL "O","V"', lambda f: {"O", "V"} <= set(f.elements)),
    ('elements HAS "Si"', lambda f: "Si" in f.elements),
    ('elements HAS ANY "Ni","Na"', lambda f: bool({"Ni", "Na"} & set(f.elements))),
    ('elements HAS ONLY "C","H","O"', lambda f: set(f.elements) <= {"C", "H", "O"}),
    ("elements LENGTH 3", lambda f: len(f.elements) == 3),
    ("nelements=2", lambda f: len(f.elements) == 2),
    ("nelements>=4", lambda f: len(f.elements) >= 4),
    ("2 < nelements", lambda f: len(f.elements) > 2),
    ('chemical_formula_reduced="O2Si"', lambda f: f.reduced == "O2Si"),
    ('"O2Si" = chemical_formula_reduced', lambda f: f.reduced == "O2Si"),
    ('chemical_formula_reduced!="O2Si"', lambda f: f.reduced != "O2Si"),
    ('chemical_formula_anonymous="AB"', lambda f: f.anonymous == "AB"),
    ('chemical_formula_anonymous STARTS WITH "A2"', lambda f: f.anonymous.startswith("A2")),
    # case-sensitive: "Co" and "Mo" contain "o", "O" does not
    ('chemical_formula_reduced CONTAINS "o"', lambda f: "o" in f.reduced),
    ('chemical_formula_reduced CONTAINS "O"', lambda f: "O" in f.reduced),
    ('chemical_formula_reduced ENDS WITH "S"', lambda f: f.reduced.endswith("S")),
    ('chemical_formula_reduced STARTS "c"', lambda f: f.reduced.startswith("c")),
    ("nsites>10 AND NOT elements HAS \"O\"", lambda f: f.nsites > 10 and "O" not in f.elements),
    ("nsites>=8 AND nsites<=12", lambda f: 8 <= f.nsites <= 12),
    ("nsites<=4 OR nelements>=5", lambda f: f.nsites <= 4 or len(f.elements) >= 5),
    ("NOT (nsites<=4 OR nelements>=5)", lambda f: not (f.nsites <= 4 or len(f.elements) >= 5)),
    ("species_at_sites LENGTH 15", lambda f: f.nsites == 15),
    ('species_at_sites HAS "N"', lambda f: "N" in f.symbols),
    ("nperiodic_dimensions=0", lambda f: f.nperiodic == 0),
    ("NOT nperiodic_dimensions=3", lambda f: f.nperiodic != 3),
    ("dimension_types HAS 0", lambda f: f.nperiodic < 3),
    ("elements_ratios HAS > 0.7", lambda f: max(f.ratios) > 0.7),
    ('elements HAS "C" AND nsites>=20 AND nperiodic_dimensions=0',
     lambda f: "C" in f.elements and f.nsites >= 20 and f.nperiodic == 0),
    ("space_group_it_number=227", lambda f: f.space_group == 227),
    ("space_group_it_number IS UNKNOWN", lambda f: f.space_group is None),
    ('last_modified >= "2000-01-01T00:00:00Z"', lambda f: True),
    ('last_modified < "2000-01-01T00:00:00Z"', lambda f: False),
    ("structure_features LENGTH 0", lambda f: True),
    ('structure_features HAS "disorder"', lambda f: False),
    ("_exmpl_band_gap < 2 OR nelements=1", lambda f: len(f.elements) == 1),
    ("NOT _exmpl_band_gap < 2", lambda f: True),
    ("_exmpl_band_gap IS UNKNOWN AND nsites<3", lambda f: f.nsites < 3),
    ('_matterhub_dataset="{minerals}"', lambda f: f.source == "minerals"),
    ('id STARTS WITH "{cifs}."', lambda f: f.source == "cifs"),
    ("", lambda f: True),
]  # fmt: skip


def _filter(structure_hub: Any, text: str) -> str:
    return text.format(**structure_hub.source_ids)


@pytest.mark.parametrize(("text", "pred"), TABLE, ids=[t for t, _ in TABLE])
def test_filter_selects_what_the_structures_say(structure_hub: Any, text: str, pred: Pred) -> None:
    anonymous = structure_hub.as_user(None)
    visible = structure_hub.public_ids()
    expected = {rid for rid in visible if pred(structure_hub.facts[rid])}
    result = search_structures(anonymous, _filter(structure_hub, text), limit=1000)
    assert set(result.ids) == expected
    assert result.total == len(expected) == len(result.ids)


def test_table_covers_matches_and_misses(structure_hub: Any) -> None:
    """The table is not vacuous: most filters select some structures and leave out others."""
    visible = structure_hub.public_ids()
    both = [t for t, pred in TABLE if 0 < sum(pred(structure_hub.facts[r]) for r in visible) < len(visible)]
    assert len(visible) >= 30
    assert len(both) >= 25


def test_admin_sees_every_structure_through_the_same_filters(structure_hub: Any) -> None:
    result = search_structures(structure_hub.hub, "nsites>=1", limit=1000)
    assert set(result.ids) == set(structure_hub.facts)
    assert set(result.ids) > structure_hub.public_ids()


def test_resources_agree_with_the_structures(structure_hub: Any) -> None:
    result = search_structures(structure_hub.as_user(None), "", limit=1000)
    for resource in result:
        facts = structure_hub.facts[resource["id"]]
        a = resource["attributes"]
        assert a["elements"] == facts.elements
        assert a["nsites"] == facts.nsites
        assert a["species_at_sites"] == list(facts.symbols)
        assert a["chemical_formula_reduced"] == facts.reduced
        assert a["chemical_formula_anonymous"] == facts.anonymous
        assert a["elements_ratios"] == pytest.approx(facts.ratios)
        assert a["dimension_types"] == [int(p) for p in facts.periodic]
        assert a["nperiodic_dimensions"] == facts.nperiodic
        assert a["space_group_it_number"] == facts.space_group
        assert len(a["cartesian_site_positions"]) == facts.nsites
        if facts.nperiodic == 0:
            assert a["lattice_vectors"] == [[None] * 3] * 3


def test_molecules_are_structures_periodic_in_no_direction(structure_hub: Any) -> None:
    result = search_structures(structure_hub.as_user(None), "nperiodic_dimensions=0", limit=1000)
    molecules = {r for r, f in structure_hub.facts.items() if f.source == "molecules"}
    assert set(result.ids) == molecules
    atoms = result.to_atoms()
    assert all(not a.pbc.any() for a in atoms)
    assert sorted(len(a) for a in atoms) == sorted(structure_hub.facts[r].nsites for r in result.ids)


def test_pages_of_the_endpoint_cover_the_result_once(structure_hub: Any, live_optimade: str) -> None:
    text = "nelements>=2 AND NOT nsites=2"
    expected = {r for r in structure_hub.public_ids() if len(structure_hub.facts[r].elements) >= 2
                and structure_hub.facts[r].nsites != 2}  # fmt: skip
    url: str | None = f"{live_optimade}/v1/structures"
    params: dict[str, Any] | None = {"filter": text, "page_limit": 7, "response_fields": "nsites"}
    seen: list[str] = []
    pages = 0
    while url:
        body = httpx.get(url, params=params, timeout=60).json()
        params = None  # the next link carries them
        assert body["meta"]["data_returned"] == len(expected)
        seen += [d["id"] for d in body["data"]]
        url = body["links"]["next"]
        pages += 1
    assert pages == -(-len(expected) // 7)
    assert sorted(seen) == sorted(expected)


def test_sort_orders_by_the_property(structure_hub: Any) -> None:
    result = search_structures(structure_hub.as_user(None), "nsites>4", limit=1000, sort="-nsites")
    sizes = [structure_hub.facts[r].nsites for r in result.ids]
    assert sizes == sorted(sizes, reverse=True)
    assert len(sizes) == sum(1 for r in structure_hub.public_ids() if structure_hub.facts[r].nsites > 4)


def test_translations_are_hub_queries_over_the_indexed_fields() -> None:
    assert translate('elements HAS ALL "Co","V"').query == "optimade.elements:Co AND optimade.elements:V"
    assert translate("nelements=2").query == "optimade.nelements:2"
    assert (
        translate("nsites>10 AND NOT nelements=1").query == "optimade.nsites:>10 AND NOT optimade.nelements:1"
    )
    # a filter on fields outside the optimade block is restricted to structures
    assert (
        translate('id="cifs_v1.1"').query
        == '_exists_:optimade.nsites AND mdf.record_id:["cifs_v1.1" TO "cifs_v1.1"]'
    )
    assert translate('elements HAS "Xx"').query is None  # not an element: matches nothing
    assert translate("_exmpl_x > 1").warnings
