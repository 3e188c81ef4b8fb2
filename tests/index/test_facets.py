"""Facet specs (hub/index/facets.py): parameters the engine would refuse, or exhaust its
memory on, are plain 400s before it runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hub.exceptions import QueryError
from hub.index.engine import SearchIndex
from hub.index.facets import MAX_BINS, FacetSpec, check_bins, nice_interval

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
        {"field": "t", "size": 0},
    ],
)
def test_facets_the_engine_can_run(index: SearchIndex, spec: dict[str, Any]) -> None:
    facet = next(iter(index.search("*", ADMIN, facets=[spec]).facets.values()))
    assert sum(b["count"] for b in facet["buckets"]) <= 3


def test_bins_are_counted_over_the_widest_ranges() -> None:
    spec = FacetSpec("n", "histogram")
    check_bins(spec, 1e306, (-1e308, 1e308))  # 201 bins; (hi - lo) alone overflows
    with pytest.raises(QueryError, match=f"at most {MAX_BINS}"):
        check_bins(spec, 1e300, (-1e308, 1e308))
    assert nice_interval(-1e308, 1e308, 10) == 1e308
    assert nice_interval(0, 100, 10) == 10


def test_an_empty_field_has_no_bins(tmp_path: Path) -> None:
    empty = index_of(tmp_path / "index", {"s": [{"id": "a", "t": "x"}]})
    facet = empty.search("*", ADMIN, facets=[{"field": "n", "type": "histogram", "interval": 1e-300}]).facets
    assert facet["n"]["buckets"] == []
