"""Warnings for fields a search names that no visible document has (hub/index/unknown_fields.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hub import Hub
from hub.exceptions import did_you_mean
from hub.index.unknown_fields import query_fields, unknown_field_warnings

KNOWN = ["material.elements", "material.composition", "custom.band_gap", "dft.code", "dc.creators.name"]


@pytest.mark.parametrize(
    "query, fields",
    [
        ("*", []),
        ("cobalt oxide", []),
        ("material.elements:Co", ["material.elements"]),
        ("material:(elements:Co AND composition:CoO)", ["material.elements", "material.composition"]),
        ("_exists_:custom.band_gap AND NOT dft.code:VASP", ["custom.band_gap", "dft.code"]),
        ("dc.creators.creatorName:Ward", ["dc.creators.name"]),  # MDF's alias
        ("*:cobalt", []),
    ],
)
def test_query_fields(query: str, fields: list[str]) -> None:
    assert query_fields(query) == fields


def test_did_you_mean() -> None:
    assert did_you_mean("material.element", KNOWN) == ["material.elements"]
    assert did_you_mean("bandgap", KNOWN) == ["custom.band_gap"]
    assert did_you_mean("zzz", KNOWN) == []


def test_warnings_name_where_and_the_nearest_fields() -> None:
    warnings = unknown_field_warnings(
        KNOWN,
        query="material.element:Co AND material.elements:O",
        filters={"custom.bandgap": 1},
        facets=["material.element", "material.elements"],
        sort=["_score", "dft.cod"],
    )
    assert [(w["where"], w["field"], w["did_you_mean"]) for w in warnings] == [
        ("query", "material.element", ["material.elements"]),
        ("filters", "custom.bandgap", ["custom.band_gap"]),
        ("facets", "material.element", ["material.elements"]),
        ("sort", "dft.cod", ["dft.code"]),
    ]
    assert unknown_field_warnings(KNOWN, query="material:(elements:Co)", facets=["material"]) == []
    (none_near,) = unknown_field_warnings(KNOWN, query="qqq.zzz:1")
    assert none_near["did_you_mean"] == [] and "hub.fields()" in none_near["message"]


def test_a_mistyped_field_on_real_data_says_what_was_meant(shared_data: Path, tmp_path: Path) -> None:
    data = tmp_path / "minerals"
    shutil.copytree(shared_data / "ase" / "minerals", data)
    with Hub(tmp_path / "hub", progress=False) as hub:
        assert hub.submit(data, title="Minerals", authors=["Ward, Logan"]).ok
        right = hub.search("material.elements:Co", facets=["material.elements"])
        assert right.total > 0 and right.warnings == []
        wrong = hub.search("material.element:Co", facets=["material.element"])
        assert wrong.total == 0
        assert [(w["where"], w["did_you_mean"][0]) for w in wrong.warnings] == [
            ("query", "material.elements"),
            ("facets", "material.elements"),
        ]
        assert "did you mean 'material.elements'" in wrong.facets["material.element"]["warning"]
