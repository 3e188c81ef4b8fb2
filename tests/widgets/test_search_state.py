"""The search panel's logic as plain Python: query composition, drill-down semantics, field
suggestions, the periodic table's layout and colour levels, histogram bounds, field paths."""

from __future__ import annotations

from hub.widgets.docpath import short, value_at, values_at
from hub.widgets.periodic_table import LEVELS, SYMBOLS, PeriodicTable, level, table_position
from hub.widgets.query_box import suggest
from hub.widgets.range_facet import nice_bounds
from hub.widgets.state import SearchState


def test_query_combines_text_elements_and_ranges() -> None:
    s = SearchState()
    assert s.query() == "*"
    s.set_text("dft.code:VASP OR dft.code:Gaussian")
    s.toggle_element("Co")
    s.toggle_element("O")
    s.set_range("crystal_structure.volume", (200.0, 10.5))  # given backwards
    assert s.query() == (
        "(dft.code:VASP OR dft.code:Gaussian) AND material.elements:Co AND material.elements:O "
        "AND crystal_structure.volume:[10.5 TO 200]"
    )
    assert s.toggle_element("Co") is False  # a second click deselects
    s.set_range("crystal_structure.volume", None)
    assert s.query() == "(dft.code:VASP OR dft.code:Gaussian) AND material.elements:O"
    s.set_range("dft.total_energy", (-50.25, -1e-3))
    assert "dft.total_energy:[-50.25 TO -0.001]" in s.query()


def test_ticked_values_are_alternatives_and_reset_the_page() -> None:
    s = SearchState(page_size=5)
    s.page = 3
    s.toggle("dft.code", "VASP", True)
    s.toggle("dft.code", "Gaussian", True)
    s.toggle("mdf.source_name", "mio", True)
    assert s.page == 0
    kw = s.search_kwargs(["material.elements"])
    assert kw["filters"] == {"dft.code": ["VASP", "Gaussian"], "mdf.source_name": ["mio"]}
    assert kw["limit"] == 5 and kw["offset"] == 0 and kw["facets"] == ["material.elements"]
    assert s.without_filter("dft.code") == {"mdf.source_name": ["mio"]}
    s.toggle("dft.code", "VASP", False)
    s.toggle("dft.code", "Gaussian", False)
    assert "dft.code" not in s.filters
    s.clear()
    assert s.search_kwargs()["filters"] is None and s.query() == "*"


def test_sort_cycles_ascending_descending_none() -> None:
    s = SearchState()
    s.set_sort("material.composition")
    assert s.sort == "material.composition"
    s.set_sort("material.composition")
    assert s.sort == "-material.composition"
    s.set_sort("material.composition")
    assert s.sort is None
    s.set_sort("a.b")
    s.set_sort("c.d")
    assert s.sort == "c.d"


def test_describe_is_the_python_call() -> None:
    s = SearchState(kinds=["record"])
    s.toggle_element("Fe")
    s.toggle("dft.code", "VASP", True)
    assert s.describe() == (
        "hub.search('material.elements:Fe', filters={'dft.code': ['VASP']}, kinds=['record'])"
    )
    assert s.pages(0) == 1 and s.pages(10) == 1 and s.pages(11) == 2


def test_field_suggestions_complete_the_last_word() -> None:
    fields = [
        "crystal_structure.volume",
        "crystal_structure.space_group_number",
        "dft.code",
        "material.elements",
    ]
    assert suggest("crystal_st", fields) == [
        "crystal_structure.space_group_number:",
        "crystal_structure.volume:",
    ]
    assert suggest("dft.code:VASP AND mat", fields) == ["dft.code:VASP AND material.elements:"]
    assert suggest("volume", fields) == ["crystal_structure.volume:"]  # contained, not only prefix
    assert suggest("dft.code:", fields) == []
    assert suggest("", fields) == []
    assert suggest("dft.code", fields) == []  # already complete


def test_periodic_table_layout_is_the_real_one() -> None:
    positions = {sym: table_position(z) for z, sym in enumerate(SYMBOLS, start=1)}
    assert len(set(positions.values())) == 118  # no two elements share a cell
    assert positions["H"] == (1, 1) and positions["He"] == (1, 18)
    assert positions["B"] == (2, 13) and positions["Al"] == (3, 13)
    assert positions["Sc"] == (4, 3) and positions["Zn"] == (4, 12) and positions["Kr"] == (4, 18)
    assert positions["Hf"] == (6, 4) and positions["Og"] == (7, 18)
    assert positions["La"] == (9, 3) and positions["Lu"] == (9, 17) and positions["Lr"] == (10, 17)


def test_one_stylesheet_colours_the_table() -> None:
    table = PeriodicTable()
    other = PeriodicTable()
    assert table.update({"O": 100, "Fe": 10, "H": 1}, {"Fe"}) == 3
    css = table.css.value
    assert css.count(f".{table.scope} .mh-el-") == 118 and other.scope not in css  # scoped to this table
    assert f".{table.scope} .mh-el-Fe{{background-color:#d62728" in css  # selected: red
    assert f".{table.scope} .mh-el-O{{background-color:#440154" in css  # the most: darkest
    assert "content:'H: 1 record'" in css and "content:'Fe: 10 records (selected)'" in css
    assert table.update({"O": 100, "Fe": 10, "H": 1}, {"Fe"}) == 0  # nothing changed: nothing sent
    assert table.css.value == css


def test_colour_levels_are_log_scaled() -> None:
    assert level(0, 100) == 0
    assert level(1, 100) == 1
    assert level(100, 100) == LEVELS
    assert level(10, 100) < level(50, 100) < LEVELS
    assert level(3, 1) == LEVELS and level(1, 1) == LEVELS


def test_histogram_bounds_cover_the_non_empty_buckets() -> None:
    hist = {
        "interval": 50.0,
        "buckets": [{"value": 0.0, "count": 0}, {"value": 50.0, "count": 3}, {"value": 100.0, "count": 1}],
    }
    assert nice_bounds(hist) == (50.0, 150.0, 50.0)
    assert nice_bounds({"interval": 1, "buckets": [{"value": 0, "count": 0}]}) is None
    assert nice_bounds(None) is None


def test_field_paths_walk_lists() -> None:
    doc = {
        "files": [{"filename": "a.cif"}, {"filename": "b.cif"}],
        "crystal_structure": {"lattice": [[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]], "volume": 1.0},
        "material": {"elements": ["Co", "O"]},
    }
    assert values_at(doc, "files.filename") == ["a.cif", "b.cif"]
    assert value_at(doc, "crystal_structure.volume") == 1.0
    assert value_at(doc, "crystal_structure.lattice") == [[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]]
    assert value_at(doc, "material.elements") == ["Co", "O"]
    assert value_at(doc, "dft.code", "none") == "none"
    assert short(["Co", "O"]) == "Co, O" and short(1 / 3) == "0.333333" and len(short("x" * 99, 10)) == 10
