"""Tests of hub/extractors/mapping.py: one record per row or object through a mapping."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from hub.exceptions import MappingError
from hub.extractors.base import ExtractionContext
from hub.extractors.mapping import (
    MISSING,
    MappingExtractor,
    elements_of,
    plain_value,
    xml_text_value,
)
from hub.records.record import BLOCKS

MATMINER_MAPPING = {
    "material.composition": "formula",
    "custom.band_gap": "band_gap",
    "crystal_structure.space_group_number": "space_group",
}
OBJECT_MAPPING = {
    "material.composition": "compost",
    "custom.f1": "dict1.field1",
    "custom.f2": "dict1.field2",
    "custom.nested": "dict2.nested1.field1",
    "custom.na": "na_val",
}


def extract(
    path: Path, mapping: dict[str, str] | None, **options: Any
) -> list[dict[str, Any]] | dict[str, Any]:
    context = ExtractionContext(root=path.parent, mapping=mapping, options={"mapping": options})
    out = MappingExtractor().extract((path,), context)
    json.dumps(out, allow_nan=False)
    for record in out if isinstance(out, list) else []:
        for block, value in record.items():  # fits the record schema
            if block in BLOCKS:
                BLOCKS[block].model_validate(value)
    return out


def records(path: Path, mapping: dict[str, str], **options: Any) -> list[dict[str, Any]]:
    out = extract(path, mapping, **options)
    assert isinstance(out, list)
    return out


# -- tables ----------------------------------------------------------------------


def test_csv_rows_become_records(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        "# ref: somebody 2020\n"
        "formula,band_gap,space_group,note\n"
        "Fe2O3,2.1,167,ok\n"
        "NaCl,,225,\n"  # missing band gap and note
        "notaformula,0.5,1,x\n"
    )
    out = records(path, {**MATMINER_MAPPING, "custom.note": "note"})
    assert out[0] == {
        "material": {"composition": "Fe2O3", "elements": ["Fe", "O"]},
        "custom": {"band_gap": 2.1, "note": "ok"},
        "crystal_structure": {"space_group_number": 167},
    }
    assert "custom" not in out[1]  # no block for values that are all missing
    assert out[1]["material"]["elements"] == ["Cl", "Na"]
    assert "elements" not in out[2]["material"]  # unparsable: skipped quietly
    assert isinstance(out[0]["crystal_structure"]["space_group_number"], int)


def test_missing_column_names_it_and_lists_the_columns(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("formula,band_gap\nFe2O3,2.1\n")
    with pytest.raises(MappingError) as info:
        extract(path, {"custom.band_gap": "bandgap", "material.composition": "formula"})
    message = str(info.value)
    assert message.startswith("mapping names column 'bandgap' which the table does not have")
    assert "did you mean 'band_gap'" in message
    assert message.endswith("columns are: formula, band_gap")
    assert info.value.errors == [
        {"field": "custom.band_gap", "column": "bandgap", "message": "no column 'bandgap'"}
    ]


def test_parquet_xlsx_and_jsonl_use_read_table(tmp_path: Path) -> None:
    df = pd.DataFrame({"formula": ["GaAs", "Si"], "band_gap": [1.4, np.nan]})
    df.to_parquet(tmp_path / "t.parquet")
    df.to_excel(tmp_path / "t.xlsx", index=False)
    df.to_json(tmp_path / "t.jsonl", orient="records", lines=True)
    mapping = {"material.composition": "formula", "custom.band_gap": "band_gap"}
    for name in ("t.parquet", "t.xlsx", "t.jsonl"):
        out = records(tmp_path / name, mapping)
        assert out[0] == {
            "material": {"composition": "GaAs", "elements": ["As", "Ga"]},
            "custom": {"band_gap": 1.4},
        }, name
        assert out[1] == {"material": {"composition": "Si", "elements": ["Si"]}}, name


def test_hundred_thousand_rows_map_to_records(tmp_path: Path) -> None:
    """Correctness at scale (speed is measured in benchmarks/bench_connect.py, not asserted here)."""
    n = 100_000
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "formula": rng.choice(["Fe2O3", "SiO2", "NaCl", "GaAs", "LiFePO4"], n),
            "band_gap": rng.random(n),
            "space_group": rng.integers(1, 231, n),
            "other": ["x"] * n,
        }
    )
    df.loc[::7, "band_gap"] = np.nan
    path = tmp_path / "big.csv"
    df.to_csv(path, index=False)
    out = records(path, MATMINER_MAPPING)
    assert len(out) == n
    assert "custom" not in out[0] and "band_gap" in out[1]["custom"]
    assert out[3]["material"]["composition"] == df["formula"][3]
    assert out[3]["crystal_structure"]["space_group_number"] == int(df["space_group"][3])


# -- JSON, YAML, XML -------------------------------------------------------------


def test_json_list_gives_one_record_per_object(tmp_path: Path) -> None:
    path = tmp_path / "l.json"
    path.write_text(
        json.dumps(
            [
                {"name": "a", "props": {"gap": 1.0}},
                {"name": "b"},  # no props.gap: omitted for this one
                {"name": "", "props": {"gap": None}},  # nothing left: no record
            ]
        )
    )
    out = records(path, {"custom.name": "name", "custom.gap": "props.gap"})
    assert out == [{"custom": {"name": "a", "gap": 1.0}}, {"custom": {"name": "b"}}]


def test_key_missing_in_every_object(tmp_path: Path) -> None:
    path = tmp_path / "o.json"
    path.write_text(json.dumps({"dict1": {"field1": 1}, "other": 2}))
    with pytest.raises(MappingError, match=r"key 'dict1\.field9' which no object in o\.json has"):
        extract(path, {"custom.x": "dict1.field9"})


def test_yaml_documents_and_xml_rows(tmp_path: Path) -> None:
    yaml_path = tmp_path / "docs.yaml"
    yaml_path.write_text("formula: Fe2O3\ngap: 2.1\n---\nformula: SiO2\n")
    out = records(yaml_path, {"material.composition": "formula", "custom.gap": "gap"})
    assert [r["material"]["composition"] for r in out] == ["Fe2O3", "SiO2"]

    xml_path = tmp_path / "rows.xml"
    xml_path.write_text(
        '<rows><row id="007"><formula>GaN</formula><gap>3.4</gap><ok>true</ok></row>'
        "<row><formula>Si</formula><gap>1</gap></row></rows>"
    )
    mapping = {"material.composition": "formula", "custom.gap": "gap", "custom.id": "@id"}
    out = records(xml_path, {**mapping, "custom.ok": "ok"})
    assert out[0]["custom"] == {"gap": 3.4, "id": "007", "ok": True}
    assert out[1]["custom"] == {"gap": 1}


def test_mapping_validation_and_no_mapping(tmp_path: Path) -> None:
    path = tmp_path / "o.json"
    path.write_text("{}")
    assert extract(path, None) == {}
    with pytest.raises(MappingError, match="inside"):
        extract(path, {"custom.a": "x", "custom.a.b": "y"})
    with pytest.raises(MappingError, match="not valid"):
        extract(path, {"custom..a": "x"})


def test_plain_values() -> None:
    assert plain_value(np.int64(3)) == 3 and type(plain_value(np.int64(3))) is int
    assert plain_value(np.float32(0.5)) == 0.5
    assert plain_value(float("nan")) is MISSING and plain_value(float("inf")) is MISSING
    assert plain_value(pd.NaT) is MISSING and plain_value(pd.NA) is MISSING
    assert plain_value(pd.Timestamp("2020-01-02")) == "2020-01-02T00:00:00"
    assert plain_value("  ") is MISSING and plain_value("na", frozenset({"na"})) is MISSING
    assert plain_value({"a": [np.nan, 1], "b": None}) == {"a": [1]}
    assert plain_value(np.array([1.5, 2.5])) == [1.5, 2.5]


def test_helpers() -> None:
    assert elements_of("SiO2(H2O)2") == ("H", "O", "Si")
    assert elements_of("{'Fe': 2.0, 'O': 3.0}") == ("Fe", "O")
    assert elements_of("Ab2") is None and elements_of("na") is None
    assert [xml_text_value(t) for t in ("12", "007", "1e3", "nan", "False", " ")] == [
        12,
        "007",
        1000.0,
        "nan",
        False,
        None,
    ]


# -- real files ------------------------------------------------------------------


def test_matminer_dielectric_constant(shared_data: Path) -> None:
    out = records(shared_data / "matminer/dielectric_constant.csv", MATMINER_MAPPING)
    assert len(out) == 1056
    assert out[0] == {
        "material": {"composition": "Rb2Te", "elements": ["Rb", "Te"]},
        "custom": {"band_gap": 1.88},
        "crystal_structure": {"space_group_number": 225},
    }


def test_matminer_flla(shared_data: Path) -> None:
    mapping = {"material.composition": "formula", "custom.e_form": "formation_energy_per_atom"}
    out = records(shared_data / "matminer/flla_2015.csv", mapping)
    assert len(out) == 3938
    # formulas are pymatgen composition dicts: elements still come out
    assert out[0]["material"] == {"composition": "{'As': 1.0}", "elements": ["As"]}


@pytest.mark.parametrize("relative", ["json/test_json.json", "yaml/test_yaml.yaml", "xml/test_xml.xml"])
def test_materialsio_objects(shared_data: Path, relative: str) -> None:
    out = records(shared_data / "materialsio" / relative, OBJECT_MAPPING, na_values=["na"])
    assert len(out) == 1
    record = out[0]
    assert record["material"] == {"composition": "CN25", "elements": ["C", "N"]}
    assert record["custom"]["f1"] == "value1" and record["custom"]["f2"] == 2
    assert "na" not in record["custom"]
    # the XML file says "baz" where JSON and YAML say true
    assert record["custom"]["nested"] == ("baz" if relative.endswith(".xml") else True)


def test_materialsio_xml_paths_may_name_the_root(shared_data: Path) -> None:
    out = records(shared_data / "materialsio/xml/test_xml.xml", {"custom.f1": "root.dict1.field1"})
    assert out == [{"custom": {"f1": "value1"}}]


def test_numeric_composition_becomes_a_string(tmp_path: Path) -> None:
    path = tmp_path / "n.json"
    path.write_text(json.dumps([{"c": 12}]))
    assert records(path, {"material.composition": "c"}) == [{"material": {"composition": "12"}}]
