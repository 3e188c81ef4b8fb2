"""Facet specs are checked when they are made (hub/index/facets.py): a malformed facet is a
QueryError, never a TypeError from deeper down."""

from __future__ import annotations

from typing import Any

import pytest

from hub.exceptions import QueryError
from hub.index.engine import IndexDoc, SearchIndex
from hub.index.facets import MAX_HISTOGRAM_BUCKETS, FacetSpec

from .conftest import ADMIN


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
        ({"field": "n", "type": "histogram", "interval": 0}, "positive number"),
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
