"""Facet specs (hub/index/facets.py): checked when they are made, so a malformed facet is a
QueryError (never a TypeError from deeper down), and parameters the engine would refuse, or
exhaust its memory on, are plain 400s before it runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hub.exceptions import QueryError
from hub.index.engine import IndexDoc, SearchIndex
from hub.index.facets import MAX_HISTOGRAM_BUCKETS, FacetSpec, check_bins, nice_interval

from .conftest import ADMIN, index_of

DOCS = [
    {"id": "a", "n": 0, "d": "2020-01-01", "t": "x"},
    {"id": "b", "n": 5, "d": "2021-01-01", "t": "y"},
    {"id": "c", "n": 1e300, "d": "2022-01-01"},
]
#: What an engine's own failure looks like.
ENGINE_WORDS = ("memory limit", "PB", "expected u32", "invalid argument", "parse error", "unwrap", "kw.")


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> SearchIndex:
    return index_of(tmp_path_factory.mktemp("facets") / "index", {"s": DOCS})


@pytest.mark.parametrize(
    "spec",
    [
        {"field": "n", "type": "histogram", "interval": 1e-300},  # 1e600 bins
        {"field": "n", "type": "histogram", "interval": 1},
        {"field": "n", "type": "histogram", "interval": -1},
        {"field": "n", "type": "histogram", "interval": float("nan")},
        {"field": "n", "type": "histogram", "interval": float("inf")},
        {"field": "n", "type": "histogram", "interval": "abc"},
        {"field": "n", "type": "histogram", "interval": True},
        {"field": "n", "type": "histogram", "buckets": 0},
        {"field": "n", "type": "histogram", "buckets": 10**9},
        {"field": "d", "type": "date_histogram", "interval": "1s"},  # 6e7 bins over two years
        {"field": "d", "type": "date_histogram", "interval": "1x"},
        {"field": "d", "type": "date_histogram", "interval": "0d"},
        {"field": "d", "type": "date_histogram", "interval": "999999999999999999d"},
        {"field": "t", "size": 10**12},
        {"field": "t", "size": -1},
        {"field": "t", "size": "3"},
        {"field": [1]},
        {"field": "not a path"},
        {"field": "t", "type": "cloud"},
        {"field": "t", "colour": "red"},
    ],
)
def test_facets_the_engine_cannot_run_are_plain_errors(index: SearchIndex, spec: dict[str, Any]) -> None:
    with pytest.raises(QueryError) as info:
        index.search("*", ADMIN, facets=[spec])
    assert info.value.status_code == 400
    for word in ENGINE_WORDS:
        assert word not in str(info.value), (spec, str(info.value))


@pytest.mark.parametrize(
    "spec",
    [
        {"field": "n", "type": "histogram"},  # chosen over 0 .. 1e300
        {"field": "n", "type": "histogram", "interval": 1e299},
        {"field": "n", "type": "histogram", "interval": 0},  # 0: chosen
        {"field": "n", "type": "histogram", "buckets": 100},
        {"field": "d", "type": "date_histogram", "interval": "1d"},
        {"field": "d", "type": "date_histogram", "buckets": 3},
    ],
)
def test_facets_the_engine_can_run(index: SearchIndex, spec: dict[str, Any]) -> None:
    facet = next(iter(index.search("*", ADMIN, facets=[spec]).facets.values()))
    assert sum(b["count"] for b in facet["buckets"]) <= 3


def test_bins_are_counted_over_the_widest_ranges() -> None:
    spec = FacetSpec("n", "histogram")
    check_bins(spec, 1e306, (-1e308, 1e308))  # 201 bins; (hi - lo) alone overflows
    with pytest.raises(QueryError, match=f"at most {MAX_HISTOGRAM_BUCKETS:,}"):
        check_bins(spec, 1e300, (-1e308, 1e308))
    assert nice_interval(-1e308, 1e308, 10) == 1e308
    assert nice_interval(0, 100, 10) == 10


def test_an_empty_field_has_no_bins(tmp_path: Path) -> None:
    empty = index_of(tmp_path / "index", {"s": [{"id": "a", "t": "x"}]})
    facet = empty.search("*", ADMIN, facets=[{"field": "n", "type": "histogram", "interval": 1e-300}]).facets
    assert facet["n"]["buckets"] == []


@pytest.mark.parametrize(
    "spec",
    [
        "material.elements",
        {"field": "n", "size": 10_000},
        {"field": "n", "type": "histogram", "interval": 2.5},
        {"field": "n", "type": "histogram", "buckets": 20},
        {"field": "d", "type": "date_histogram", "interval": "30d"},
        {"field": "d", "type": "date_histogram", "interval": "500ms"},
    ],
)
def test_good_facets(spec: Any) -> None:
    assert FacetSpec.of(spec).field in ("material.elements", "n", "d")


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ({"field": [1]}, "field path"),
        ({"field": {"a": 1}}, "field path"),
        ({"field": "a b"}, "field path"),
        ("1x", "field path"),
        ({"field": "n", "type": ["terms"]}, "not one of"),
        ({"field": "n", "size": "10"}, "whole number"),
        ({"field": "n", "size": True}, "whole number"),
        ({"field": "n", "size": 0}, "whole number"),
        ({"field": "n", "size": 10_001}, "whole number"),
        ({"field": "n", "type": "histogram", "buckets": MAX_HISTOGRAM_BUCKETS + 1}, "whole number"),
        ({"field": "n", "type": "histogram", "interval": float("nan")}, "positive number"),
        ({"field": "n", "type": "histogram", "interval": "1d"}, "positive number"),
        ({"field": "d", "type": "date_histogram", "interval": 30}, "duration"),
        ({"field": "d", "type": "date_histogram", "interval": "30 days"}, "duration"),
        ({"field": "n", "colour": "red"}, "bad facet"),
        ([1, 2], "bad facet"),
    ],
)
def test_bad_facets(spec: Any, words: str) -> None:
    with pytest.raises(QueryError, match=words):
        FacetSpec.of(spec)


def test_an_interval_making_too_many_bins_is_refused(tmp_path):
    index = SearchIndex(tmp_path / "index")
    docs = [
        IndexDoc(f"d{i}", "record", "s", ["public"], {"n": i * 10.0, "d": f"2020-01-{i + 1:02d}"})
        for i in range(10)
    ]
    index.replace_sources([], docs)
    for spec in [
        {"field": "n", "type": "histogram", "interval": 0.001},
        {"field": "d", "type": "date_histogram", "interval": "1ms"},
    ]:
        with pytest.raises(QueryError, match="bins"):
            index.search("*", ADMIN, facets=[spec])
    res = index.search("*", ADMIN, facets=[{"field": "n", "type": "histogram", "interval": 10}])
    assert sum(b["count"] for b in res.facets["n"]["buckets"]) == 10


def test_filters_take_plain_values_on_field_paths(tmp_path):
    index = SearchIndex(tmp_path / "index")
    index.replace_sources([], [IndexDoc("d", "record", "s", ["public"], {"n": 1})])
    assert index.search("*", ADMIN, filters={"n": [1, "x", True, 2.5]}).total == 1
    for filters in [{"n": [[1]]}, {"n": {"gte": 1}}, {"n": [None]}, {"n OR *": 1}, {"a b": "x"}]:
        with pytest.raises(QueryError):
            index.search("*", ADMIN, filters=filters)
