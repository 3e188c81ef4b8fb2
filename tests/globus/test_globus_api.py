"""The Globus Search API of a live MatterHub, raw: request and result shapes, filters,
facets, paging, index ids, subjects with several entries, file URLs and errors.

Expected answers come from the data files (see ``globus_testdata``).
"""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import globus_sdk
import httpx
import pytest
from globus_testdata import SYNTHETIC_ROWS, GlobusService, elements

from hub.service.globus.indexes import KNOWN_UUIDS

pytestmark = pytest.mark.shared_data

Search = Callable[..., httpx.Response]


@pytest.fixture()
def post(globus_service: GlobusService) -> Search:
    """``post(body, user=None, index="mdf")``: POST a GSearchRequest, as ``user``."""

    def send(body: dict[str, Any], user: str | None = None, index: str = "mdf") -> httpx.Response:
        headers = {"Authorization": f"Bearer {globus_service.tokens[user]}"} if user else {}
        return httpx.post(
            f"{globus_service.base_url}v1/index/{index}/search", json=body, headers=headers, timeout=60
        )

    return send


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def contents(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["content"] for g in result["gmeta"] for e in g["entries"]]


def dielectric_ids(result: dict[str, Any]) -> set[str]:
    return {c["custom"]["material_id"] for c in contents(result) if c["mdf"]["resource_type"] == "record"}


IN_DIELECTRIC = "mdf.source_name:dielectric AND mdf.resource_type:record"


# -- shapes ----------------------------------------------------------------------------------


def test_result_shape(post: Search, globus_service: GlobusService, search_client: Callable[..., Any]) -> None:
    result = ok(post({"q": "mdf.source_name:cifs", "advanced": True, "limit": 2}))
    assert result["@datatype"] == "GSearchResult"
    assert result["total"] == len(globus_service.expected.cifs) + 1
    assert result["count"] == len(result["gmeta"]) == 2
    assert result["offset"] == 0 and result["has_next_page"] is True
    for g in result["gmeta"]:
        assert g["@datatype"] == "GMetaResult" and isinstance(g["subject"], str)
        assert [set(e) for e in g["entries"]] == [{"content", "entry_id", "matched_principal_sets"}]
        assert g["entries"][0]["entry_id"] == "cifs_v1"
    assert "facet_results" not in result

    got = ok(httpx.get(f"{globus_service.base_url}v1/index/mdf/search", params={"q": "mdf.source_name:cifs"}))
    assert got["total"] == result["total"] and got["count"] == len(got["gmeta"])
    sdk = search_client(None).search("mdf", "mdf.source_name:cifs", advanced=True, limit=3, offset=1)
    assert (sdk["total"], sdk["count"], sdk["offset"]) == (result["total"], 3, 1)


def test_legacy_result_format(post: Search) -> None:
    result = ok(post({"q": "mdf.source_name:cifs", "result_format_version": "2017-09-01", "limit": 100}))
    assert all(
        g["@version"] == "2017-09-01" and len(g["content"]) == len(g["entry_ids"]) == 1
        for g in result["gmeta"]
    )
    import mdf_toolbox

    assert len(mdf_toolbox.gmeta_pop(result)) == result["total"]


def test_record_files_have_urls_the_hub_serves(post: Search, globus_service: GlobusService) -> None:
    result = ok(post({"q": "mdf.source_name:minerals AND material.elements:Mo", "limit": 5}))
    [record] = contents(result)
    [f] = record["files"]
    assert f["url"] == f"{globus_service.url}/api/datasets/minerals_v1/files/{f['path']}"
    response = httpx.get(f["url"])
    assert response.status_code == 200
    real = (globus_service.shared / "ase" / "minerals" / f["path"]).read_bytes()
    assert hashlib.sha256(response.content).hexdigest() == hashlib.sha256(real).hexdigest() == f["sha256"]
    assert response.headers["etag"] == f'"{f["sha256"]}"'


# -- index ids ---------------------------------------------------------------------------------


def test_every_index_id_is_accepted(post: Search, globus_service: GlobusService) -> None:
    body = {"q": "mdf.source_name:minerals", "limit": 0}
    totals = {
        index: ok(post(body, index=index))["total"]
        for index in ["mdf", KNOWN_UUIDS["mdf"], "mdf-test", KNOWN_UUIDS["mdf-test"], str(uuid.UUID(int=7))]
    }
    assert set(totals.values()) == {len(globus_service.expected.minerals) + 1}

    for index in ["dlhub", KNOWN_UUIDS["dlhub"], "DLHub-Test"]:
        servables = ok(post({"q": "*", "limit": 10}, index=index))
        assert [g["subject"] for g in servables["gmeta"]] == [globus_service.servable]
        [entry] = servables["gmeta"][0]["entries"]
        assert entry["content"]["dlhub"]["name"] == "G4MP2-heavy"
    assert ok(post({"q": "dlhub.name:G4MP2-heavy"}, index="mdf"))["total"] == 0

    info = ok(httpx.get(f"{globus_service.base_url}v1/index/{KNOWN_UUIDS['dlhub']}"))
    assert info["id"] == KNOWN_UUIDS["dlhub"] and info["num_entries"] == 1


# -- limits and paging ---------------------------------------------------------------------------


def test_ten_thousand_results_per_request(post: Search) -> None:
    page = ok(post({"q": "mdf.source_name:synthetic", "limit": 10_000}))
    assert page["count"] == 10_000 and page["total"] == SYNTHETIC_ROWS + 1 and page["has_next_page"] is False
    for body in ({"q": "*", "limit": 10_001}, {"q": "*", "offset": 9_995, "limit": 10}):
        response = post(body)
        assert response.status_code == 400
        error = response.json()
        assert (
            error["status"] == 400 and error["code"].startswith("BadRequest") and "10000" in error["message"]
        )
    assert ok(post({"q": "*", "offset": 9_990, "limit": 10}))["count"] == 10


def test_offset_paging_and_the_sdk_paginator(post: Search, search_client: Callable[..., Any]) -> None:
    everything = ok(post({"q": IN_DIELECTRIC, "limit": 2000}))
    subjects = [g["subject"] for g in everything["gmeta"]]
    assert len(subjects) == len(set(subjects)) == everything["total"] == 1056

    paged: list[str] = []
    offset = 0
    while True:
        page = ok(
            post(
                {
                    "q": IN_DIELECTRIC,
                    "limit": 250,
                    "offset": offset,
                    "sort": [{"field_name": "mdf.scroll_id", "order": "asc"}],
                }
            )
        )
        paged += [g["subject"] for g in page["gmeta"]]
        offset += page["count"]
        if not page["has_next_page"]:
            break
    assert sorted(paged) == sorted(subjects) and len(paged) == len(set(paged))

    client = search_client(None)
    pages = client.paginated.post_search("mdf", {"q": IN_DIELECTRIC, "limit": 300})
    items = [g["subject"] for g in pages.items()]
    assert sorted(items) == sorted(subjects)


def test_scroll(globus_service: GlobusService) -> None:
    seen: list[str] = []
    marker = None
    while True:
        body: dict[str, Any] = {"q": IN_DIELECTRIC, "limit": 400}
        if marker:
            body["marker"] = marker
        page = ok(httpx.post(f"{globus_service.base_url}v1/index/mdf/scroll", json=body))
        assert page["total"] == 1056
        seen += [g["subject"] for g in page["gmeta"]]
        marker = page["marker"]
        if not page["has_next_page"]:
            break
    assert len(seen) == len(set(seen)) == 1056


# -- filters, sort, facets -----------------------------------------------------------------------


def test_filters(post: Search, globus_service: GlobusService) -> None:
    table = globus_service.expected.dielectric
    els = dict(zip(table["material_id"], (elements(f) for f in table["formula"]), strict=True))
    gaps = dict(zip(table["material_id"], table["band_gap"], strict=True))

    def run(*filters: dict[str, Any]) -> set[str]:
        return dielectric_ids(ok(post({"q": IN_DIELECTRIC, "limit": 2000, "filters": list(filters)})))

    match_all = {"type": "match_all", "field_name": "material.elements", "values": ["Ba", "O"]}
    assert run(match_all) == {m for m, e in els.items() if {"Ba", "O"} <= e}
    match_any = {**match_all, "type": "match_any"}
    assert run(match_any) == {m for m, e in els.items() if e & {"Ba", "O"}}
    rng = {
        "type": "range",
        "field_name": "custom.band_gap",
        "values": [{"from": 2, "to": 2.5}, {"from": 6, "to": "*"}],
    }
    assert run(rng) == {m for m, g in gaps.items() if 2 <= g <= 2.5 or g >= 6}
    half_open = {"type": "range", "field_name": "custom.band_gap", "values": [{"gt": 1, "lt": 3}]}
    assert run(half_open) == {m for m, g in gaps.items() if 1 < g < 3}
    assert run(match_any, half_open) == {m for m in els if els[m] & {"Ba", "O"} and 1 < gaps[m] < 3}
    assert run({"type": "not", "filter": match_any}) == {m for m, e in els.items() if not e & {"Ba", "O"}}
    assert run({"type": "exists", "field_name": "custom.band_gap"}) == set(els)


def test_sort(post: Search, globus_service: GlobusService) -> None:
    gaps = sorted(globus_service.expected.dielectric["band_gap"])
    asc = ok(
        post({"q": IN_DIELECTRIC, "limit": 20, "sort": [{"field_name": "custom.band_gap", "order": "asc"}]})
    )
    assert [c["custom"]["band_gap"] for c in contents(asc)] == gaps[:20]
    desc = ok(post({"q": IN_DIELECTRIC, "limit": 20, "sort": [{"field_name": "custom.band_gap"}]}))
    assert [c["custom"]["band_gap"] for c in contents(desc)] == gaps[::-1][:20], (
        "Globus sorts descending by default"
    )


def test_facets(post: Search, globus_service: GlobusService) -> None:
    table = globus_service.expected.dielectric
    element_counts = Counter(e for f in table["formula"] for e in elements(f))
    facets = [
        {"name": "elements", "field_name": "material.elements", "type": "terms", "size": 5},
        {
            "name": "gaps",
            "field_name": "custom.band_gap",
            "type": "numeric_histogram",
            "size": 4,
            "histogram_range": {"low": 0, "high": 8},
        },
    ]
    result = ok(post({"q": IN_DIELECTRIC, "limit": 0, "facets": facets}))
    by_name = {f["name"]: f for f in result["facet_results"]}
    terms = [(b["value"], b["count"]) for b in by_name["elements"]["buckets"]]
    assert len(terms) == 5 and all(element_counts[v] == n for v, n in terms)
    assert [n for _, n in terms] == sorted(element_counts.values(), reverse=True)[:5]
    gaps = table["band_gap"]
    assert [(b["value"], b["count"]) for b in by_name["gaps"]["buckets"]] == [
        ({"from": float(lo), "to": float(lo + 2)}, int(((gaps >= lo) & (gaps < lo + 2)).sum()))
        for lo in (0, 2, 4, 6)
    ]

    synthetic = globus_service.expected.synthetic
    years = Counter(d[:4] for d in synthetic["measured"])
    dates = ok(
        post(
            {
                "q": "mdf.source_name:synthetic",
                "limit": 0,
                "facets": [
                    {"field_name": "custom.measured", "type": "date_histogram", "date_interval": "year"}
                ],
            }
        )
    )
    [facet] = dates["facet_results"]
    assert facet["name"] == "custom.measured"
    assert {b["value"]["from"][:4]: b["count"] for b in facet["buckets"]} == dict(years)
    assert all(b["value"]["to"][:4] == str(int(b["value"]["from"][:4]) + 1) for b in facet["buckets"])


def test_post_filters_leave_facets_alone(post: Search, globus_service: GlobusService) -> None:
    table = globus_service.expected.dielectric
    facet = [{"field_name": "material.elements", "size": 1}]
    rng = {"type": "range", "field_name": "custom.band_gap", "values": [{"from": 5, "to": "*"}]}

    def top(result: dict[str, Any]) -> tuple[Any, int]:
        b = result["facet_results"][0]["buckets"][0]
        return b["value"], b["count"]

    everything = Counter(e for f in table["formula"] for e in elements(f)).most_common(1)[0]
    post_filtered = ok(post({"q": IN_DIELECTRIC, "limit": 0, "filters": [rng], "facets": facet}))
    assert post_filtered["total"] == int((table["band_gap"] >= 5).sum())
    assert top(post_filtered) == everything, "a range filter is a post filter by default"

    wide = table[table["band_gap"] >= 5]
    before = ok(
        post({"q": IN_DIELECTRIC, "limit": 0, "filters": [{**rng, "post_filter": False}], "facets": facet})
    )
    assert top(before) == Counter(e for f in wide["formula"] for e in elements(f)).most_common(1)[0]


# -- several entries per subject ---------------------------------------------------------------------


def test_subjects_with_entries_of_different_visibility(post: Search, globus_service: GlobusService) -> None:
    body = {"q": "mdf.source_name:curated", "limit": 10}

    def entries(user: str | None) -> dict[str, list[str]]:
        result = ok(post(body, user))
        assert result["total"] == result["count"] == 2, "two subjects: the dataset and its record"
        return {g["subject"]: [e["entry_id"] for e in g["entries"]] for g in result["gmeta"]}

    assert entries(None) == entries("bob") == {"curated": ["curated_v1"], "curated.1": ["curated_v1"]}
    both = {"curated": ["curated_v2", "curated_v1"], "curated.1": ["curated_v2", "curated_v1"]}
    assert entries("alice") == entries("carol") == entries("root") == both

    def subject(name: str, user: str | None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {globus_service.tokens[user]}"} if user else {}
        return httpx.get(
            f"{globus_service.base_url}v1/index/mdf/subject", params={"subject": name}, headers=headers
        )

    anonymous = ok(subject("curated.1", None))
    assert [e["content"]["mdf"]["version"] for e in anonymous["entries"]] == [1]
    assert [e["content"]["mdf"]["version"] for e in ok(subject("curated.1", "alice"))["entries"]] == [2, 1]
    missing = subject("alice_secret", None)
    assert missing.status_code == 404 and missing.json()["code"] == "NotFound"
    assert ok(subject("alice_secret", "alice"))["subject"] == "alice_secret"


def test_access_control_applies_to_totals_and_facets(post: Search) -> None:
    body = {"q": "*", "limit": 0, "facets": [{"field_name": "mdf.source_name", "size": 20}]}

    def sources(user: str | None) -> set[str]:
        return {b["value"] for b in ok(post(body, user))["facet_results"][0]["buckets"]}

    public = {"cifs", "minerals", "dielectric", "synthetic", "curated"}
    assert sources(None) == sources("bob") == public
    assert sources("alice") == public | {"alice_secret", "lab_vasp"}
    assert ok(post(body, "alice"))["total"] > ok(post(body))["total"]


# -- the index mapping --------------------------------------------------------------------------------


def test_mapping(globus_service: GlobusService) -> None:
    base = globus_service.base_url
    mapping = ok(httpx.get(f"{base}beta/index/mdf/mapping"))["mappings"]
    assert mapping["material.elements"] == "text" and mapping["crystal_structure.volume"] == "double"
    assert "dft.code" not in mapping
    alice = {"Authorization": f"Bearer {globus_service.tokens['alice']}"}
    assert ok(httpx.get(f"{base}beta/index/mdf/mapping", headers=alice))["mappings"]["dft.code"] == "text"
    one = ok(httpx.get(f"{base}beta/index/mdf/mapping/custom.band_gap"))
    assert one["mappings"] == {"custom.band_gap": "double"}
    missing = httpx.get(f"{base}beta/index/mdf/mapping/dft.code")
    assert missing.status_code == 404 and missing.json()["status"] == 404
    servables = ok(httpx.get(f"{base}beta/index/dlhub/mapping"))["mappings"]
    assert servables["dlhub.name"] == "text" and "material.elements" not in servables


# -- errors ---------------------------------------------------------------------------------------------


def test_bad_queries_are_globus_errors(post: Search, search_client: Callable[..., Any]) -> None:
    response = post({"q": "material.elements:(Co OR", "advanced": True})
    assert response.status_code == 400
    error = response.json()
    assert {"code", "message", "status", "request_id"} <= set(error)
    assert error["code"] == "BadRequest.InvalidQuery" and error["status"] == 400
    assert error["error_data"]["query"] == "material.elements:(Co OR"
    assert ok(post({"q": "material.elements:(Co OR", "advanced": False}))["total"] >= 0, (
        "simple mode forgives"
    )

    with pytest.raises(globus_sdk.SearchAPIError) as info:
        search_client(None).post_search("mdf", {"q": "custom.band_gap:[1 TO", "advanced": True})
    assert info.value.http_status == 400 and info.value.code == "BadRequest.InvalidQuery"
    assert "position" in info.value.message


@pytest.mark.parametrize(
    "body",
    [
        {"q": "*", "facets": [{"field_name": "custom.band_gap", "type": "sum"}]},
        {"q": "*", "filters": [{"type": "match_all", "field_name": "material.elements"}]},
        {"q": "*", "sort": [{"field_name": "custom.band_gap", "order": "up"}]},
        {"q": "*", "limti": 5},
        {"q": "*", "facets": [{"field_name": "x", "type": "numeric_histogram", "size": 4}]},
    ],
)
def test_malformed_requests_are_validation_errors(post: Search, body: dict[str, Any]) -> None:
    response = post(body)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["code"] == "BadRequest.ValidationError" and error["error_data"]["messages"]


def test_auth_errors(post: Search, globus_service: GlobusService) -> None:
    response = httpx.post(
        f"{globus_service.base_url}v1/index/mdf/search",
        json={"q": "*"},
        headers={"Authorization": "Bearer mh_unknown"},
    )
    assert response.status_code == 401 and response.json()["code"] == "AuthenticationFailed"
    denied = post({"q": "*", "bypass_visible_to": True}, "bob")
    assert denied.status_code == 403 and denied.json()["code"] == "Forbidden"
    assert ok(post({"q": "*", "bypass_visible_to": True, "limit": 0}, "root"))["total"] > 0
