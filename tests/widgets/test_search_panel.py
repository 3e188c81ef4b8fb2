"""SearchPanel over a real hub: each widget event (typing a query, ticking a facet, clicking
an element, moving a slider, sorting, paging, opening a hit, the actions) becomes the right
``hub.search`` call and shows what the hub returned."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from hub.widgets import SearchPanel
from hub.widgets.periodic_table import LEVELS
from widget_comms import CommLog

from hub import Hub

KINDS = ["record", "dataset"]


class Spy:
    """Records the arguments of every hub.search call, then makes it."""

    def __init__(self, hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        real = hub.search

        def search(q: str = "*", **kw: Any) -> Any:
            self.calls.append((q, kw))
            return real(q, **kw)

        monkeypatch.setattr(hub, "search", search)


def box_for(panel: SearchPanel, field: str, value: str) -> Any:
    fl = panel.facet_lists[field]
    return fl.boxes[fl.values.index(value)]


def test_first_view_shows_everything_with_facet_counts(search_hub: Hub) -> None:
    panel = SearchPanel(search_hub)
    direct = search_hub.search(
        "*", kinds=KINDS, facets=["mdf.source_name", {"field": "material.elements", "size": 118}]
    )
    assert panel.result.total == direct.total > 20
    names = panel.facet_lists["mdf.source_name"]
    expected = {b["value"]: b["count"] for b in direct.facets["mdf.source_name"]["buckets"]}
    assert names.counts == expected == {"materialsio": 15, "minerals": 9}
    assert names.boxes[0].description == "materialsio (15)"
    counts = {b["value"]: b["count"] for b in direct.facets["material.elements"]["buckets"]}
    assert {s: n for s, n in panel.table.counts.items() if n} == counts
    css = panel.table.css.value
    assert f"content:'O: {counts['O']} records'" in css  # what hovering O shows
    assert panel.table.levels["Xe"] == 0 and ".mh-el-Xe{background-color:#eeeeee" in css  # none: grey
    assert panel.table.levels["O"] == LEVELS  # the most frequent: the darkest
    assert set(panel.range_facets) >= {"crystal_structure.volume", "crystal_structure.number_of_atoms"}
    assert f"<b class='mh-total'>{direct.total}</b>" in panel.summary.value


def test_typing_a_query_searches_it(search_hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    panel = SearchPanel(search_hub, page_size=20)
    spy = Spy(search_hub, monkeypatch)
    panel.query_box.text.value = "material.elements:S"
    assert spy.calls == []  # typing alone only suggests
    panel.query_box.submit()  # Enter
    assert [q for q, _ in spy.calls] == ["(material.elements:S)"]
    assert spy.calls[0][1]["kinds"] == KINDS and spy.calls[0][1]["offset"] == 0
    ids = {h.id for h in search_hub.search("material.elements:S", kinds=KINDS, limit=50).hits}
    assert {h.id for h in panel.results.hits} == ids and len(ids) == 4
    shown = [
        b.description
        for b, row in zip(panel.results.id_buttons, panel.results.rows)
        if row.layout.display != "none"
    ]
    assert set(shown) == ids


def test_field_suggestions_come_from_the_hub(search_hub: Hub) -> None:
    panel = SearchPanel(search_hub)
    panel.query_box.text.value = "space_group"
    assert "crystal_structure.space_group_number:" in panel.query_box.text.options
    assert all("space_group" in o for o in panel.query_box.text.options)


def test_ticking_a_facet_drills_down_and_keeps_its_alternatives(
    search_hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    panel = SearchPanel(search_hub)
    spy = Spy(search_hub, monkeypatch)
    box_for(panel, "mdf.source_name", "minerals").value = True  # what the browser sends
    main, alternatives = spy.calls
    assert main[1]["filters"] == {"mdf.source_name": ["minerals"]}
    assert alternatives[1]["filters"] is None and alternatives[1]["limit"] == 0
    assert (
        panel.result.total
        == search_hub.search("*", filters={"mdf.source_name": ["minerals"]}, kinds=KINDS).total
    )
    assert all(h.document["mdf"]["source_name"] == "minerals" for h in panel.results.hits)
    names = panel.facet_lists["mdf.source_name"]
    assert names.counts == {"materialsio": 15, "minerals": 9}  # the other value can still be added
    assert box_for(panel, "mdf.source_name", "minerals").value is True
    box_for(panel, "mdf.source_name", "materialsio").value = True  # OR: both datasets
    assert panel.result.total == 24
    box_for(panel, "mdf.source_name", "materialsio").value = False
    box_for(panel, "mdf.source_name", "minerals").value = False
    assert panel.state.filters == {} and panel.result.total == 24


def test_clicking_elements_requires_all_of_them(search_hub: Hub) -> None:
    panel = SearchPanel(search_hub)
    panel.table.buttons["Co"].click()
    expected = search_hub.search("material.elements:Co", kinds=KINDS, limit=20)
    assert panel.state.query() == "material.elements:Co"
    assert {h.id for h in panel.results.hits} == {h.id for h in expected.hits} and expected.total == 2
    assert (
        panel.table.levels["Co"] == LEVELS + 1
        and ".mh-el-Co{background-color:#d62728" in panel.table.css.value
    )
    assert panel.table.counts["As"] == 2 and panel.table.counts["O"] == 0  # counts within the selection
    panel.table.buttons["O"].click()
    assert panel.result.total == 0  # no cobalt oxide here
    panel.table.buttons["O"].click()
    panel.table.buttons["Co"].click()
    assert panel.state.elements == [] and panel.result.total == 24
    assert (
        panel.table.levels["Co"] <= LEVELS
        and ".mh-el-Co{background-color:#d62728" not in panel.table.css.value
    )


def test_a_range_slider_bounds_a_numeric_field(search_hub: Hub) -> None:
    panel = SearchPanel(search_hub, page_size=50)
    rf = panel.range_facets["crystal_structure.volume"]
    rf.slider.value = (rf.low, 100.0)
    assert "crystal_structure.volume:[" in panel.state.query()
    vols = [h.document["crystal_structure"]["volume"] for h in panel.results.hits]
    assert vols and all(v <= 100.0 for v in vols)
    assert panel.result.total == search_hub.search(panel.state.query(), kinds=KINDS).total
    rf.slider.value = (rf.low, rf.high)  # back to the whole range: no constraint
    assert panel.state.ranges == {} and panel.result.total == 24


def test_sorting_and_paging(search_hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    panel = SearchPanel(search_hub, "material.composition:*", page_size=5)
    spy = Spy(search_hub, monkeypatch)
    panel.results.sort_buttons["material.composition"].click()
    assert spy.calls[-1][1]["sort"] == "material.composition"
    first = [h.document["material"]["composition"] for h in panel.results.hits]
    assert first == sorted(first)
    assert panel.results.sort_buttons["material.composition"].description == "Material ▲"
    panel.results.sort_buttons["material.composition"].click()
    assert spy.calls[-1][1]["sort"] == "-material.composition"
    desc = [h.document["material"]["composition"] for h in panel.results.hits]
    assert desc == sorted(desc, reverse=True)
    page1 = [h.id for h in panel.results.hits]
    panel.results.next.click()
    assert spy.calls[-1][1]["offset"] == 5 and spy.calls[-1][1]["facets"] == []  # paging: no facets again
    assert not set(page1) & {h.id for h in panel.results.hits}
    assert panel.results.page_label.value.startswith("page 2 of ") and not panel.results.prev.disabled
    panel.results.prev.click()
    assert [h.id for h in panel.results.hits] == page1 and panel.results.prev.disabled


def test_a_malformed_query_says_where_and_changes_nothing(search_hub: Hub) -> None:
    panel = SearchPanel(search_hub)
    panel.query_box.submit("material.elements:O")
    before = [h.id for h in panel.results.hits]
    panel.query_box.submit("material.elements:(Co")
    assert panel.status.kind == "error" and "position" in panel.status.text
    assert panel.state.text == "material.elements:O" and [h.id for h in panel.results.hits] == before
    panel.table.buttons["Al"].click()  # the panel still works with the last good query
    assert (
        panel.status.kind == "info"
        and panel.state.query() == "(material.elements:O) AND material.elements:Al"
    )


def test_a_mistyped_field_says_what_was_meant(search_hub: Hub) -> None:
    panel = SearchPanel(search_hub)
    panel.query_box.submit("material.element:O")
    assert panel.result.total == 0
    assert "did you mean 'material.elements'" in panel.status.text
    panel.query_box.submit("material.elements:O")
    assert panel.result.total > 0 and panel.status.text == ""


def test_opening_a_hit_shows_metadata_files_and_structure(search_hub: Hub, shared_data: Path) -> None:
    panel = SearchPanel(search_hub, "files.filename:diamond.cif")
    assert panel.result.total == 1
    panel.results.id_buttons[0].click()
    view = panel.detail
    record = search_hub.record(panel.result.hits[0].id)
    assert panel.result.hits[0].id in view.title.value
    assert "crystal_structure" in view.tree.value and "<details" in view.tree.value
    assert "crystal_structure/diamond.cif" in view.file_list.value
    assert view.picture.value[:8] == b"\x89PNG\r\n\x1a\n" and view.tabs.selected_index == 2
    assert view.document == record
    data = view.download_file()
    assert data == (shared_data / "materialsio" / "crystal_structure" / "diamond.cif").read_bytes()
    assert "data:application/octet-stream;base64," in view.link.value
    frame = view.load_file()  # through the dataset's Intake catalog
    assert frame is not None and list(frame["formula"]) == ["C"]

    panel.query_box.submit("files.filename:dog2.jpeg")
    panel.results.id_buttons[0].click()
    assert view.picture.value == b"" and view.tabs.titles[2] == "(no structure)"


def test_a_microscopy_file_loads_as_xarray(search_hub: Hub) -> None:
    panel = SearchPanel(search_hub, "files.filename:test-1.dm4")
    panel.open_hit(panel.result.hits[0])
    arr = panel.detail.load_file("electron_microscopy/test-1.dm4")
    assert type(arr).__name__ == "DataArray" and arr.ndim >= 1
    assert panel.detail.status.kind == "ok" and "xarray.DataArray" in panel.detail.status.text


def test_opening_a_dataset_hit(search_hub: Hub) -> None:
    panel = SearchPanel(search_hub, "mdf.resource_type:dataset AND mdf.source_name:minerals")
    panel.results.open_row(0)
    assert "minerals_v1" in panel.detail.title.value and len(panel.detail.files) == 8


def test_load_and_download_the_selection(search_hub: Hub, tmp_path: Path) -> None:
    panel = SearchPanel(search_hub, name="picked")
    panel.table.buttons["S"].click()
    frame = panel.load()  # the records, read through the selection's Intake catalog
    hits = search_hub.search("material.elements:S", kinds=KINDS, limit=10).hits
    assert frame is panel.frame and len(frame) == panel.result.total == 4
    assert set(frame["record_id"]) == {h.id for h in hits}
    assert set(frame["formula"]) == {h.document["material"]["composition"] for h in hits}
    assert frame.attrs["units"]["volume"] == "Å^3"
    assert set(panel.catalog) == {"minerals_v1", "hits"}
    assert "cod_9004112.cif" in panel.catalog["minerals_v1"].read()  # a dataset entry: its files
    files = panel.download(tmp_path / "dl")
    assert len(files) == 4 and panel.action_status.kind == "ok"  # next to the buttons
    sha = {f["filename"]: f["sha256"] for h in hits for f in h.document["files"]}
    for f in files:
        assert hashlib.sha256(f.read_bytes()).hexdigest() == sha[f.name]


def test_an_update_sends_few_messages(search_hub: Hub, comm_log: CommLog) -> None:
    """A facet click costs small state updates to existing widgets, never new widgets."""
    panel = SearchPanel(search_hub)
    made = comm_log.opened()
    assert made > 300  # the panel's widgets (118 elements, facet boxes, rows, ...)
    mark = len(comm_log)
    box_for(panel, "mdf.source_name", "minerals").value = True
    assert comm_log.opened(mark) == 0
    first = len(comm_log.updates(mark))
    assert 0 < first < 60  # the whole periodic table is one of them
    mark = len(comm_log)
    panel.refresh()  # the same result again: nothing to send but the summary and code line
    again = comm_log.updates(mark)
    assert len(again) <= 8, again
