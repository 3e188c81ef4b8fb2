"""SearchIndex beyond matching: sorting, paging, scroll, facets, filters, limits;
and, through a hub, rebuilding from the catalog and dataset versions."""

from __future__ import annotations

import datetime as dt
import math
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from hub import Hub
from hub.access import Principal
from hub.exceptions import QueryError
from hub.index.engine import IndexDoc, SearchIndex

from .conftest import ADMIN, hit_ids, index_of, write_rows

KW = ["a"] * 5 + ["b"] * 3 + ["c"] * 2 + ["d"]  # a terms facet of 4 values, 5/3/2/1
N = [0, 5, 12.5, -3, 7, 100, 2.0]


def make_docs(count: int = 20) -> list[dict[str, Any]]:
    docs = []
    for i in range(count):
        d: dict[str, Any] = {"id": f"d{i:02d}", "i": i}
        if i < len(KW):
            d["kw"] = KW[i]
        if i % 3:
            d["n"] = N[i % 7] + i / 1000  # distinct values: no ties to order
        d["b"] = i % 2 == 0
        d["day"] = f"2020-01-{1 + i % 4:02d}T{i % 24:02d}:{i:02d}:00Z"
        d["tags"] = ["x", "y"] if i % 2 else ["x"]
        d["name"] = ["Zeta", "alpha", "Beta", "beta", "gamma"][i % 5] + f"{i:02d}"
        docs.append(d)
    return docs


DOCS = make_docs()
BY_ID = {d["id"]: d for d in DOCS}


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> SearchIndex:
    # three commits: three segments, so sorting, paging and facets merge across them
    return index_of(
        tmp_path_factory.mktemp("engine") / "index", {"s1": DOCS[:7], "s2": DOCS[7:15], "s3": DOCS[15:]}
    )


def values(result: Any, field: str) -> list[Any]:
    return [BY_ID[h.id].get(field) for h in result.hits]


# -- sorting ---------------------------------------------------------------------


@pytest.mark.parametrize("field", ["n", "kw", "name", "day", "i"])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_with_missing_values_last(index, field, descending):
    res = index.search("*", ADMIN, limit=100, sort=("-" if descending else "") + field)
    present = sorted((d[field] for d in DOCS if field in d), reverse=descending)
    missing = [None] * sum(field not in d for d in DOCS)
    assert values(res, field) == present + missing
    assert res.total == len(DOCS)


@pytest.mark.parametrize("spelling", ["n:desc", "n desc", "-n"])
def test_sort_spellings(index, spelling):
    assert (
        values(index.search("*", ADMIN, limit=100, sort=spelling), "n")[:3]
        == sorted((d["n"] for d in DOCS if "n" in d), reverse=True)[:3]
    )


def test_sort_keywords_by_code_point(index):
    names = values(index.search("*", ADMIN, limit=100, sort="name"), "name")
    assert names == sorted(names) and names[0].startswith("Beta")  # upper case first


@pytest.mark.parametrize("descending", [False, True])
def test_sort_booleans(index, descending):
    got = values(index.search("*", ADMIN, limit=100, sort=("-" if descending else "") + "b"), "b")
    assert got == sorted(got, reverse=descending)


def test_sort_applies_to_the_query_and_access(index):
    res = index.search("tags:y", ADMIN, limit=100, sort="-n")
    assert values(res, "n") == sorted(
        (d["n"] for d in DOCS if "y" in d["tags"] and "n" in d), reverse=True
    ) + [None] * sum("y" in d["tags"] and "n" not in d for d in DOCS)
    assert index.search("*", Principal(None), sort="-n").total == 20  # anonymous: public documents
    assert index.search("*", Principal("x", frozenset({"lab"})), sort="-n").total == 20


# -- paging ----------------------------------------------------------------------


@pytest.mark.parametrize("sort", [None, "n", "-n", "kw", "-name", "day", "_score"])
@pytest.mark.parametrize("query", ["*", "tags:x", "x OR alpha*"])
def test_pages_tile_the_full_result(index, sort, query):
    full = index.search(query, ADMIN, limit=100, sort=sort)
    pages: list[str] = []
    for offset in range(0, full.total + 4, 3):
        page = index.search(query, ADMIN, limit=3, offset=offset, sort=sort)
        assert page.total == full.total and len(page.hits) <= 3
        pages += [h.id for h in page.hits]
    assert pages == [h.id for h in full.hits]
    assert len(set(pages)) == len(pages) == full.total


def test_limit_zero_counts_only(index):
    res = index.search("tags:y", ADMIN, limit=0)
    assert res.hits == [] and res.total == 10


def test_limit_over_the_maximum(index):
    assert len(index.search("*", ADMIN, limit=10_000).hits) == 20
    with pytest.raises(QueryError) as info:
        index.search("*", ADMIN, limit=10_001)
    assert "Max allowed limit is 10000, you requested 10001" in str(info.value)
    assert "scroll" in str(info.value)
    for bad in ({"limit": -1}, {"offset": -5}):
        with pytest.raises(QueryError):
            index.search("*", ADMIN, **bad)


# -- scroll ----------------------------------------------------------------------


@pytest.mark.parametrize("batch", [1, 3, 7, 20, 1000])
def test_scroll_returns_every_hit_once_in_a_stable_order(index, batch):
    first = [h.id for h in index.scroll("*", ADMIN, batch=batch)]
    assert sorted(first) == sorted(d["id"] for d in DOCS)
    assert len(set(first)) == len(first)
    again = [h.id for h in index.scroll("*", ADMIN, batch=max(1, batch // 2))]
    assert again == first, "the order does not depend on the batch size"
    assert [h.id for h in index.scroll("*", ADMIN, batch=1000)] == first


def test_scroll_follows_query_filters_and_kinds(index):
    expected = hit_ids(index.search("tags:y AND n:>0", ADMIN, limit=100))
    got = [h.id for h in index.scroll("tags:y AND n:>0", ADMIN, batch=2)]
    assert set(got) == expected and len(got) == len(expected) > 2
    filtered = [h.id for h in index.scroll("*", ADMIN, filters={"kw": ["a", "c"]}, batch=2)]
    assert sorted(filtered) == sorted(d["id"] for d in DOCS if d.get("kw") in ("a", "c"))
    assert list(index.scroll("*", ADMIN, kinds=["dataset"], batch=2)) == []


def test_scroll_sees_what_the_principal_may_see(tmp_path):
    index = SearchIndex(tmp_path / "index")
    docs = [
        IndexDoc(f"r{i}", "record", "s", ["public"] if i % 3 == 0 else ["group:lab"], {"i": i})
        for i in range(12)
    ]
    index.replace_sources(["s"], docs)
    public = [h.id for h in index.scroll("*", Principal("x"), batch=2)]
    lab = [h.id for h in index.scroll("*", Principal("y", frozenset({"lab"})), batch=2)]
    assert sorted(public) == ["r0", "r3", "r6", "r9"]
    assert sorted(lab) == sorted(f"r{i}" for i in range(12))


# -- facets ----------------------------------------------------------------------


def test_terms_facet_top_n_and_other(index):
    res = index.search("*", ADMIN, limit=0, facets=[{"field": "kw", "size": 2}])
    facet = res.facets["kw"]
    assert facet["type"] == "terms"
    assert facet["buckets"] == [{"value": "a", "count": 5}, {"value": "b", "count": 3}]
    assert facet["other"] == 3  # c: 2, d: 1
    full = index.search("*", ADMIN, limit=0, facets=["kw"]).facets["kw"]
    assert {b["value"]: b["count"] for b in full["buckets"]} == dict(Counter(KW)) and full["other"] == 0


def test_terms_facet_counts_documents_of_list_fields(index):
    facet = index.search("*", ADMIN, limit=0, facets=["tags"]).facets["tags"]
    assert {b["value"]: b["count"] for b in facet["buckets"]} == {"x": 20, "y": 10}


def test_facets_count_the_query_result(index):
    res = index.search("n:[0 TO 10]", ADMIN, limit=0, facets=["kw"])
    expected = Counter(d["kw"] for d in DOCS if "kw" in d and 0 <= d.get("n", -1) <= 10)
    assert {b["value"]: b["count"] for b in res.facets["kw"]["buckets"]} == dict(expected)


def test_histogram_with_an_interval(index):
    facet = index.search(
        "*", ADMIN, limit=0, facets=[{"field": "n", "type": "histogram", "interval": 5}]
    ).facets["n"]
    assert facet["interval"] == 5
    expected = Counter(math.floor(d["n"] / 5) * 5 for d in DOCS if "n" in d)
    got = {b["value"]: b["count"] for b in facet["buckets"]}
    assert {k: v for k, v in got.items() if v} == expected
    keys = sorted(got)
    assert keys == [float(k) for k in range(int(keys[0]), int(keys[-1]) + 5, 5)], "empty buckets between"


def test_histogram_with_a_bucket_count(index):
    facet = index.search(
        "*", ADMIN, limit=0, facets=[{"field": "n", "type": "histogram", "buckets": 4}]
    ).facets["n"]
    interval = facet["interval"]
    mantissa = interval / 10 ** math.floor(math.log10(interval))
    assert round(mantissa, 6) in (1, 2, 2.5, 5, 10), f"{interval} is not a round interval"
    ns = [d["n"] for d in DOCS if "n" in d]
    assert (max(ns) - min(ns)) / interval <= 4, "at most about 4 buckets"
    assert sum(b["count"] for b in facet["buckets"]) == len(ns)
    expected = Counter(math.floor(v / interval) * interval for v in ns)
    assert {b["value"]: b["count"] for b in facet["buckets"] if b["count"]} == expected


def _day(text: str) -> str:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).date().isoformat()


def test_date_histogram_with_an_interval(index):
    spec = {"field": "day", "type": "date_histogram", "interval": "1d"}
    facet = index.search("*", ADMIN, limit=0, facets=[spec]).facets["day"]
    assert facet["interval"] == "1d"
    got = {b["value"][:10]: b["count"] for b in facet["buckets"]}
    assert got == dict(Counter(_day(d["day"]) for d in DOCS))


def test_date_histogram_with_a_bucket_count(index):
    spec = {"field": "day", "type": "date_histogram", "buckets": 2}
    facet = index.search("*", ADMIN, limit=0, facets=[spec]).facets["day"]
    assert facet["interval"] == "2d"
    assert sum(b["count"] for b in facet["buckets"]) == len(DOCS)


def test_two_facets_of_one_field(index):
    res = index.search("*", ADMIN, limit=0, facets=["n", {"field": "n", "type": "histogram", "interval": 50}])
    assert len(res.facets) == 2


# -- filters (drill-down) ------------------------------------------------------------


@pytest.mark.parametrize("field", ["kw", "tags", "n", "day", "name"])
def test_drilling_down_a_terms_facet_bucket(index, field):
    facet = index.search("*", ADMIN, limit=0, facets=[{"field": field, "size": 100}]).facets[field]
    assert facet["buckets"]
    for bucket in facet["buckets"]:
        res = index.search("*", ADMIN, limit=100, filters={field: bucket["value"]})
        assert res.total == bucket["count"], (field, bucket)


def test_drilling_down_a_boolean_facet(index):
    facet = index.search("*", ADMIN, limit=0, facets=["b"]).facets["b"]
    assert {b["value"] for b in facet["buckets"]} == {True, False}
    for bucket in facet["buckets"]:
        assert index.search("*", ADMIN, limit=0, filters={"b": bucket["value"]}).total == bucket["count"]


def test_filters_or_within_a_field_and_across_fields(index):
    res = index.search("*", ADMIN, limit=100, filters={"kw": ["a", "d"], "tags": "y", "b": False})
    expected = {d["id"] for d in DOCS if d.get("kw") in ("a", "d") and "y" in d["tags"] and not d["b"]}
    assert hit_ids(res) == expected and expected
    assert hit_ids(index.search("n:>0", ADMIN, limit=100, filters={"b": True})) == {
        d["id"] for d in DOCS if d.get("n", 0) > 0 and d["b"]
    }
    assert index.search("*", ADMIN, filters={"kw": []}).total == 20, "no values: no filter"
    assert index.search("*", ADMIN, filters={"day": "2020-01-02"}).total == 5, "a day is the whole day"


# -- through a hub: rebuilding and versions ------------------------------------------

MAPPING = {"custom.key": "key", "material.composition": "formula", "custom.gap": "gap"}


def submit(hub: Hub, folder: Path, rows: list[dict[str, Any]], **kwargs: Any) -> Any:
    """Submit ``rows`` (a JSON file), mapping only the columns they have."""
    mapping = {t: c for t, c in MAPPING.items() if any(c in r for r in rows)}
    sub = hub.submit(
        write_rows(folder, rows), kwargs.pop("title", "Thing"), ["Doe, A"], mapping=mapping, **kwargs
    )
    assert sub.ok and not sub.errors, sub.report()
    return sub


QUERIES = ["*", "material.elements:O", "custom.gap:>=1", "mdf.resource_type:dataset", "cobalt~1", "Co*"]


def snapshot(hub: Hub) -> list[Any]:
    out: list[Any] = []
    for q in QUERIES:
        res = hub.search(q, limit=100, sort="mdf.record_id", facets=["material.elements"])
        out.append((q, res.total, [h.id for h in res.hits], res.facets))
        out.append(sorted(h.id for h in hub.scroll(q)))
    out.append(hub.fields())
    return out


def test_rebuild_from_the_catalog_gives_identical_results(tmp_path, minerals):
    hub = Hub(tmp_path / "hub", progress=False)
    hub.submit(minerals, "COD minerals", ["Ward, Logan"])
    rows = [
        {"key": f"k{i}", "formula": f, "gap": g}
        for i, (f, g) in enumerate([("CoO", 2.5), ("NiO", 4), ("Fe2O3", 0.5)])
    ]
    submit(hub, tmp_path / "rows", rows, title="Cobalt oxides")
    before = snapshot(hub)
    assert before[0][1] == 8 + 3 + 2  # minerals, rows, two datasets
    assert hub.rebuild_index() == 13
    assert snapshot(hub) == before
    hub.close()
    shutil.rmtree(tmp_path / "hub" / "index")
    again = Hub(tmp_path / "hub", progress=False)  # a missing index is rebuilt on open
    assert snapshot(again) == before


def _ids(hub: Hub, q: str) -> set[str]:
    return hit_ids(hub.search(q, limit=100))


def test_only_the_latest_published_version_is_searchable(tmp_path):
    owner = Hub(tmp_path / "hub", user="alice", progress=False)
    reader = Hub(tmp_path / "hub", user="bob", progress=False)
    v1 = submit(owner, tmp_path / "v1", [{"key": "old1", "formula": "CoO"}, {"key": "old2", "formula": "NiO"}],
                source_name="oxides")  # fmt: skip
    assert _ids(reader, "mdf.source_name:oxides") == {"oxides_v1", "oxides_v1.1", "oxides_v1.2"}
    v2 = submit(owner, tmp_path / "v2", [{"key": "new1", "formula": "ZnO"}], source_name="oxides")
    assert (v1.source_id, v2.source_id) == ("oxides_v1", "oxides_v2")
    assert _ids(reader, "mdf.source_name:oxides") == {"oxides_v2", "oxides_v2.1"}
    assert _ids(reader, "custom.key:old1") == set() and _ids(reader, "material.elements:Zn") == {
        "oxides_v2.1"
    }
    assert reader.record("oxides_v1.1")["custom"]["key"] == "old1", "older versions stay readable by id"
    # a metadata update is a new version with the same records
    owner.update_metadata("oxides", title="Zinc oxide", description="updated")
    assert _ids(reader, "mdf.source_name:oxides") == {"oxides_v3", "oxides_v3.1"}
    assert _ids(reader, 'dc.titles.title:"Zinc oxide"') == {"oxides_v3"}
    assert _ids(reader, "mdf.version:2") == set()
    assert reader.search("mdf.source_name:oxides", facets=["mdf.version"]).facets["mdf.version"][
        "buckets"
    ] == [{"value": 3, "count": 2}]


def test_a_pending_version_does_not_replace_the_published_one(tmp_path):
    owner = Hub(tmp_path / "hub", user="alice", progress=False)
    reader = Hub(tmp_path / "hub", user="bob", progress=False)
    curator = Hub(tmp_path / "hub", user="carl", groups=["curators"], progress=False)
    submit(owner, tmp_path / "v1", [{"key": "one"}], source_name="thing")
    submit(owner, tmp_path / "v2", [{"key": "two"}], source_name="thing", curate=True)
    assert _ids(reader, "mdf.source_name:thing") == {"thing_v1", "thing_v1.1"}
    both = {"thing_v1", "thing_v1.1", "thing_v2", "thing_v2.1"}
    assert _ids(curator, "mdf.source_name:thing") == both == _ids(owner, "mdf.source_name:thing")


def test_curation_updates_the_index(tmp_path):
    owner = Hub(tmp_path / "hub", user="alice", progress=False)
    reader = Hub(tmp_path / "hub", user="bob", progress=False)
    curator = Hub(tmp_path / "hub", user="carl", groups=["curators"], progress=False)
    submit(owner, tmp_path / "v1", [{"key": "one"}], source_name="thing")
    sub = submit(owner, tmp_path / "v2", [{"key": "two"}], source_name="thing", curate=True)
    curator.curate(sub.id, accept=True)
    assert reader.dataset("thing").source_id == "thing_v2"
    assert _ids(reader, "mdf.source_name:thing") == {"thing_v2", "thing_v2.1"}
    sub3 = submit(owner, tmp_path / "v3", [{"key": "three"}], source_name="thing", curate=True)
    curator.curate(sub3.id, accept=False)
    assert _ids(curator, "mdf.source_name:thing") == {"thing_v2", "thing_v2.1"}


def test_fields_lists_paths_and_types(index):
    fields = index.fields()
    assert fields["n"] == {"number": sum("n" in d for d in DOCS)}
    assert (
        fields["day"] == {"date": 20} and fields["b"] == {"boolean": 20} and fields["tags"] == {"keyword": 20}
    )
    assert index.field_type("kw", ADMIN) == "keyword"
