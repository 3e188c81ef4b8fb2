"""MDF Forge (mdf-forge 0.8, unchanged) against a live MatterHub through the Globus Search API.

Every expected answer is worked out from the data files (see ``globus_testdata``).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import globus_sdk
import pytest
from globus_testdata import SYNTHETIC_ROWS, GlobusService, elements
from mdf_forge import Forge

pytestmark = pytest.mark.shared_data

Clients = Callable[[str | None], globus_sdk.SearchClient]


@pytest.fixture()
def forge(search_client: Clients) -> Callable[..., Forge]:
    """``forge(user=None)``: an MDF Forge whose search client is the hub's (``None``: anonymous)."""
    return lambda user=None: Forge(services=[], search_client=search_client(user))


def records(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in results if r["mdf"]["resource_type"] == "record"]


def test_search_by_elements(forge: Callable[..., Forge], globus_service: GlobusService) -> None:
    table = globus_service.expected.dielectric
    have = [elements(f) for f in table["formula"]]
    both = {m for m, els in zip(table["material_id"], have, strict=True) if {"Co", "O"} <= els}
    either = {m for m, els in zip(table["material_id"], have, strict=True) if els & {"Co", "O"}}
    assert both and len(either) > len(both)

    found = forge().search_by_elements(["Co", "O"], ["dielectric"])
    assert {r["custom"]["material_id"] for r in found} == both
    assert len(found) == len(both), "one entry per matching row"
    assert all({"Co", "O"} <= set(r["material"]["elements"]) for r in found)

    found_any = forge().search_by_elements(["Co", "O"], ["dielectric"], match_all=False)
    assert {r["custom"]["material_id"] for r in found_any} == either


def test_search_with_a_query_string(forge: Callable[..., Forge], globus_service: GlobusService) -> None:
    cifs = globus_service.expected.cifs
    with_oxygen = {name for name, formula in cifs.items() if "O" in elements(formula)}
    found = forge().search("mdf.source_name:cifs AND material.elements:O", advanced=True)
    assert {r["files"][0]["filename"] for r in found} == with_oxygen


def test_match_field_and_exclude_field(forge: Callable[..., Forge], globus_service: GlobusService) -> None:
    minerals = globus_service.expected.minerals
    wanted = {n for n, f in minerals.items() if "S" in elements(f) and "Co" not in elements(f)}
    f = forge()
    found = (
        f.match_source_names("minerals")
        .match_field("material.elements", "S")
        .exclude_field("material.elements", "Co")
        .search()
    )
    assert {r["files"][0]["filename"] for r in found} == wanted
    assert f.current_query() == "", "search() resets the query"

    no_oxygen = records(forge().match_source_names("cifs").exclude_field("material.elements", "O").search())
    cifs = globus_service.expected.cifs
    assert {r["files"][0]["filename"] for r in no_oxygen} == {
        n for n, formula in cifs.items() if "O" not in elements(formula)
    }


def test_match_range(forge: Callable[..., Forge], globus_service: GlobusService) -> None:
    gaps = globus_service.expected.dielectric.set_index("material_id")["band_gap"]
    inclusive = set(gaps[(gaps >= 1) & (gaps <= 3)].index)
    exclusive = set(gaps[(gaps > 1) & (gaps < 3)].index)
    assert inclusive > exclusive, "the data has band gaps on the bounds"

    found = forge().match_source_names("dielectric").match_range("custom.band_gap", 1, 3).search()
    assert {r["custom"]["material_id"] for r in found} == inclusive
    found = (
        forge()
        .match_source_names("dielectric")
        .match_range("custom.band_gap", 1, 3, inclusive=False)
        .search()
    )
    assert {r["custom"]["material_id"] for r in found} == exclusive
    above = forge().match_source_names("dielectric").match_range("custom.band_gap", start=6).search()
    assert {r["custom"]["material_id"] for r in above} == set(gaps[gaps >= 6].index)


def test_match_source_names(forge: Callable[..., Forge], globus_service: GlobusService) -> None:
    found = forge().match_source_names(["cifs", "minerals"]).search()
    expected = len(globus_service.expected.cifs) + len(globus_service.expected.minerals)
    assert Counter(r["mdf"]["resource_type"] for r in found) == {"record": expected, "dataset": 2}
    assert {r["mdf"]["source_name"] for r in found} == {"cifs", "minerals"}
    datasets = forge().match_source_names("dielectric").match_resource_types("dataset").search()
    assert [d["mdf"]["source_id"] for d in datasets] == ["dielectric_v1"]
    assert datasets[0]["dc"]["titles"][0]["title"] == "Dielectric"


def test_match_years(forge: Callable[..., Forge]) -> None:
    def names(results: list[dict[str, Any]]) -> set[str]:
        return {r["mdf"]["source_name"] for r in results}

    assert names(forge().match_years(2018).search()) == {"cifs"}
    assert names(forge().match_years([2016, 2021]).search()) == {"dielectric", "minerals"}
    assert names(forge().match_years(start=2016, stop=2019).search()) == {"dielectric", "cifs"}
    assert names(forge("alice").match_years(start=2016, stop=2019).search()) == {
        "dielectric",
        "cifs",
        "lab_vasp",
    }
    assert names(forge().match_years(start=2016, stop=2021, inclusive=False).search()) == {"cifs", "curated"}


def test_search_info_totals(forge: Callable[..., Forge], globus_service: GlobusService) -> None:
    table = globus_service.expected.synthetic
    wanted = int(((table["band_gap"] >= 2) & (table["band_gap"] <= 4)).sum())
    found, info = (
        forge()
        .match_source_names("synthetic")
        .match_range("custom.band_gap", 2, 4)
        .search(limit=5, info=True)
    )
    assert len(found) == 5 and info["total_query_matches"] == wanted
    assert all(2 <= r["custom"]["band_gap"] <= 4 for r in found)

    page, info = forge().match_source_names("synthetic").search(info=True)
    assert len(page) == 10_000, "at most 10,000 per request, as Globus Search"
    assert info["total_query_matches"] == SYNTHETIC_ROWS + 1, "the records and the dataset entry"


def test_aggregate_returns_every_record_past_10000(
    forge: Callable[..., Forge], globus_service: GlobusService
) -> None:
    table = globus_service.expected.synthetic
    everything = forge().match_source_names("synthetic").aggregate()
    assert len(everything) == SYNTHETIC_ROWS + 1
    rows = records(everything)
    assert sorted(r["mdf"]["scroll_id"] for r in rows) == list(range(1, SYNTHETIC_ROWS + 1))
    assert sorted(r["custom"]["band_gap"] for r in rows) == sorted(table["band_gap"])
    assert Counter(r["custom"]["measured"] for r in rows) == Counter(table["measured"])
    assert [d["mdf"]["scroll_id"] for d in everything if d["mdf"]["resource_type"] == "dataset"] == [0]

    only_records = forge().match_source_names("synthetic").match_resource_types("record").aggregate()
    assert len(only_records) == SYNTHETIC_ROWS
    assert len(forge().aggregate_sources("synthetic")) == SYNTHETIC_ROWS + 1


def test_show_fields(forge: Callable[..., Forge]) -> None:
    anonymous = forge().show_fields()
    assert anonymous["mdf.source_name"] == "text"
    assert anonymous["custom.band_gap"] == "double"
    assert anonymous["custom.measured"] == "date"
    assert anonymous["mdf.scroll_id"] == "double"
    assert {"mdf", "material", "files", "dc", "custom", "crystal_structure"} <= set(
        forge().show_fields("top")
    )
    material = forge().show_fields("material")
    assert set(material) == {"material.composition", "material.elements"}
    assert not [k for k in anonymous if k.startswith("dft.")], "the only DFT output is alice's"
    assert forge("alice").show_fields("dft")["dft.code"] == "text"


def test_http_download_and_stream(
    forge: Callable[..., Forge], globus_service: GlobusService, tmp_path: Path
) -> None:
    source = globus_service.shared / "materialsio" / "crystal_structure" / "Ce3VO16.cif"
    f = forge("bob")
    found = f.match_source_names("cifs").match_elements("Ce").search()
    assert len(found) == 1
    url = found[0]["files"][0]["url"]
    assert url == f"{globus_service.url}/api/datasets/cifs_v1/files/Ce3VO16.cif"

    assert f.http_download(found, dest=str(tmp_path), verbose=False) == {"success": True}
    got = (tmp_path / "Ce3VO16.cif").read_bytes()
    assert hashlib.sha256(got).hexdigest() == hashlib.sha256(source.read_bytes()).hexdigest()
    assert hashlib.sha256(got).hexdigest() == found[0]["files"][0]["sha256"]

    streamed = list(f.http_stream(found, verbose=False))
    assert streamed == [source.read_bytes().decode()]


def test_anonymous_versus_token(forge: Callable[..., Forge], search_client: Clients) -> None:
    def versions(user: str | None, name: str) -> list[tuple[str, int]]:
        found = forge(user).match_source_names(name).search()
        return sorted((r["mdf"]["resource_type"], r["mdf"]["version"]) for r in found)

    assert versions(None, "alice_secret") == []
    assert versions("bob", "alice_secret") == []
    assert versions("alice", "alice_secret") == [("dataset", 1), ("record", 1)]
    assert versions("root", "alice_secret") == [("dataset", 1), ("record", 1)]
    assert versions("bob", "lab_vasp") == []
    assert len(versions("alice", "lab_vasp")) > 1, "alice is in the group lab"
    # the version waiting for curation: its owner and the curators see both entries of each subject
    assert versions(None, "curated") == [("dataset", 1), ("record", 1)]
    assert versions("bob", "curated") == [("dataset", 1), ("record", 1)]
    assert versions("alice", "curated") == [("dataset", 1), ("dataset", 2), ("record", 1), ("record", 2)]
    assert versions("carol", "curated") == versions("alice", "curated")

    bad = Forge(
        services=[],
        search_client=globus_sdk.SearchClient(
            base_url=search_client(None).base_url,
            authorizer=globus_sdk.AccessTokenAuthorizer("mh_not-a-token"),
        ),
    )
    with pytest.raises(globus_sdk.SearchAPIError) as info:
        bad.match_source_names("cifs").search()
    assert info.value.http_status == 401 and info.value.code == "AuthenticationFailed"
