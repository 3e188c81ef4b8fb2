"""The OPTIMADE fields of a record (hub/optimade/fields.py): what the index carries for
every structure, whatever extractor wrote the record."""

from __future__ import annotations

from typing import Any

from hub.index.engine import IndexDoc, SearchIndex
from hub.optimade.fields import optimade_fields, with_optimade_fields


def _record(**blocks: Any) -> dict[str, Any]:
    return {"mdf": {"source_id": "s_v1", "record_id": "s_v1.1", "resource_type": "record"}, **blocks}


def test_sites_give_the_counts() -> None:
    doc = _record(
        material={"composition": "Al2O3", "elements": ["Al", "O"]},
        crystal_structure={
            "number_of_atoms": 10,
            "species_at_sites": ["Al"] * 4 + ["O"] * 6,
            "cartesian_site_positions": [[0.0, 0.0, float(i)] for i in range(10)],
            "dimension_types": [1, 1, 1],
            "lattice": [[4.0, 0, 0], [0, 4.0, 0], [0, 0, 12.0]],
        },
    )
    assert optimade_fields(doc) == {
        "elements": ["Al", "O"],
        "nelements": 2,
        "elements_ratios": [0.4, 0.6],
        "chemical_formula_reduced": "Al2O3",
        "chemical_formula_anonymous": "A3B2",
        "chemical_formula_descriptive": "Al2O3",
        "nsites": 10,
        "dimension_types": [1, 1, 1],
        "nperiodic_dimensions": 3,
        "sites": True,
    }


def test_a_molecule_keeps_its_molecular_formula_as_the_descriptive_one() -> None:
    doc = _record(
        material={"composition": "C6H6"},
        crystal_structure={
            "species_at_sites": ["C"] * 6 + ["H"] * 6,
            "cartesian_site_positions": [[0.0, 0.0, 0.0]] * 12,
            "pbc": [False, False, False],
        },
    )
    fields = optimade_fields(doc)
    assert fields is not None
    assert (fields["chemical_formula_reduced"], fields["chemical_formula_descriptive"]) == ("CH", "C6H6")
    assert (fields["dimension_types"], fields["nperiodic_dimensions"]) == ([0, 0, 0], 0)


def test_without_sites_the_composition_and_atom_count_are_enough() -> None:
    doc = _record(
        material={"composition": "SiO2"},  # not alphabetical: the reduced formula is
        crystal_structure={"number_of_atoms": 9, "lattice": [[5.0, 0, 0], [0, 5.0, 0], [0, 0, 5.0]]},
    )
    fields = optimade_fields(doc)
    assert fields is not None
    assert fields["chemical_formula_reduced"] == "O2Si"
    assert fields["nsites"] == 9
    assert fields["dimension_types"] == [1, 1, 1]  # a lattice and no periodicity: a bulk crystal
    assert "sites" not in fields


def test_positions_that_do_not_match_the_sites_are_not_sites() -> None:
    doc = _record(
        crystal_structure={"species_at_sites": ["Fe", "Fe"], "cartesian_site_positions": [[0, 0, 0]]}
    )
    fields = optimade_fields(doc)
    assert fields is not None and fields["nsites"] == 2 and "sites" not in fields
    assert "dimension_types" not in fields  # unknown, not guessed


def test_a_long_site_list_counts_as_a_short_one() -> None:
    """Short site lists have their counts cached, long ones are counted each time: the same fields."""
    short = optimade_fields(_record(crystal_structure={"species_at_sites": ["O", "Fe", "O"]}))
    long = optimade_fields(_record(crystal_structure={"species_at_sites": ["O", "Fe", "O"] * 1000}))
    assert short is not None and long is not None
    assert long["nsites"] == 3000 and short["nsites"] == 3
    assert long["chemical_formula_descriptive"] == "Fe1000O2000"
    per_site = ("nsites", "chemical_formula_descriptive")
    assert {k: v for k, v in long.items() if k not in per_site} == {
        k: v for k, v in short.items() if k not in per_site
    }
    assert long["chemical_formula_reduced"] == "FeO2" and long["elements"] == ["Fe", "O"]
    assert optimade_fields(_record(crystal_structure={"species_at_sites": ["Fe"] * 2000 + [["O"]]})) is None


def test_not_structures() -> None:
    assert optimade_fields(_record(material={"composition": "Fe"})) is None  # no structure block
    assert optimade_fields(_record(crystal_structure={"species_at_sites": ["Zq"]})) is None  # not an element
    assert optimade_fields(_record(crystal_structure={"species_at_sites": [["Fe"]]})) is None  # malformed
    assert (
        optimade_fields(
            _record(material={"composition": "(CH3)2O"}, crystal_structure={"number_of_atoms": 9})
        )
        is None
    )
    dataset = {"mdf": {"resource_type": "dataset"}, "crystal_structure": {"species_at_sites": ["Fe"]}}
    assert optimade_fields(dataset) is None


def test_the_index_carries_the_fields_and_stores_the_record_unchanged(tmp_path: Any) -> None:
    from hub.access import Principal

    doc = _record(
        material={"composition": "CoO"},
        crystal_structure={
            "species_at_sites": ["Co", "O"],
            "cartesian_site_positions": [[0, 0, 0], [1, 1, 1]],
        },
    )
    assert with_optimade_fields(doc)["optimade"]["chemical_formula_reduced"] == "CoO"
    index = SearchIndex(tmp_path / "ix")
    index.replace_sources([], [IndexDoc("s_v1.1", "record", "s_v1", ["public"], doc)])
    anyone = Principal(None)
    hit = index.search("optimade.nelements:2 AND optimade.sites:true", anyone).hits[0]
    assert hit.document == doc  # the stored document is the record
    assert index.search('optimade.chemical_formula_reduced:["CoO" TO "CoO"]', anyone).total == 1
    assert index.search('optimade.chemical_formula_reduced:["CO" TO "CO"]', anyone).total == 0
    assert "optimade.nsites" in index.fields()
