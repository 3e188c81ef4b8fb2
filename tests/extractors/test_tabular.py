"""Tests of hub/extractors/tabular.py: the table description (reading: tests/formats/test_tables.py)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from hub.exceptions import ExtractionError, MissingDependencyError
from hub.extractors import tabular
from hub.extractors.base import ExtractionContext
from hub.extractors.tabular import TabularExtractor
from hub.records.record import BLOCKS

CSV_WITH_COMMENTS = (
    "# ref: Doe, J. A table of things. J. Data 1, 2 (2020).\n"
    "# written by hand\n"
    "name,value,count,note\n"
    'a,1.5,1,"a note, with a comma"\n'
    'b,2.5,2,"a note\n'
    'over two lines"\n'
    "c,,3,\n"
)


def extract(path: Path) -> dict[str, Any]:
    out = TabularExtractor().extract((path,), ExtractionContext(root=path.parent))
    json.dumps(out, allow_nan=False)
    assert isinstance(out, dict)
    for block, value in out.items():  # fits the record schema
        BLOCKS[block].model_validate(value)
    return out["table"]


def dtypes(table: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["dtype"] for c in table["columns"]}


def test_csv_with_comment_header_and_multiline_cell(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(CSV_WITH_COMMENTS, encoding="utf-8")
    table = extract(path)
    assert table["format"] == "csv"
    assert (table["n_rows"], table["n_columns"]) == (3, 4)
    assert table["reference"] == "Doe, J. A table of things. J. Data 1, 2 (2020)."
    assert table["comments"] == ["written by hand"]
    kinds = dtypes(table)
    assert kinds["value"] == "float64" and kinds["count"] == "int64"
    assert list(kinds) == ["name", "value", "count", "note"]


def test_tsv(tmp_path: Path) -> None:
    path = tmp_path / "t.tsv"
    path.write_text("a\tb\n1\tx\n2\ty\n")
    table = extract(path)
    assert table["format"] == "tsv" and table["n_rows"] == 2
    assert dtypes(table)["a"] == "int64"


def test_chunks_merge_types_and_count_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tabular, "CHUNK_ROWS", 3)
    path = tmp_path / "long.csv"
    rows = [f"{i},{i if i < 5 else i + 0.5},{'x' if i != 7 else ''}" for i in range(10)]
    path.write_text("i,v,s\n" + "\n".join(rows) + "\n")
    table = extract(path)
    assert table["n_rows"] == 10
    assert dtypes(table)["i"] == "int64"
    assert dtypes(table)["v"] == "float64"  # int in the first chunks, float later


def test_parquet_from_footer_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "t.parquet"
    pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"], "c": [0.5, None, 1.5]}).to_parquet(path)

    def no_data(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("describing a parquet file must not read its data")

    monkeypatch.setattr(pd, "read_parquet", no_data)
    table = extract(path)
    assert table["format"] == "parquet"
    assert (table["n_rows"], table["n_columns"]) == (3, 3)
    assert dtypes(table)["a"] == "int64" and dtypes(table)["c"] == "float64"


def test_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text('{"a": 1, "b": "x"}\n{"a": 2, "c": true}\n')
    table = extract(path)
    assert table["format"] == "jsonl"
    assert (table["n_rows"], table["n_columns"]) == (2, 3)


def test_xlsx_with_two_sheets(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"x": [1, 2], "y": ["a", "b"]}).to_excel(writer, sheet_name="data", index=False)
        pd.DataFrame({"z": [1]}).to_excel(writer, sheet_name="notes", index=False)
    table = extract(path)
    assert table["format"] == "excel"
    assert (table["n_rows"], table["n_columns"]) == (2, 2)
    assert table["sheets"] == ["data", "notes"]


@pytest.mark.skipif(importlib.util.find_spec("xlrd") is not None, reason="xlrd is installed")
def test_xls_without_xlrd_names_the_package(tmp_path: Path) -> None:
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0" + b"\x00" * 60)
    with pytest.raises(MissingDependencyError, match="xlrd"):
        extract(path)


def test_not_a_table(tmp_path: Path) -> None:
    with pytest.raises(ExtractionError, match="not a table file"):
        extract(tmp_path / "a.txt")
    assert not TabularExtractor().claims(tmp_path / "a.txt")
    assert TabularExtractor().claims(tmp_path / "A.CSV")


def test_matminer_dielectric_constant(shared_data: Path) -> None:
    table = extract(shared_data / "matminer/dielectric_constant.csv")
    assert (table["n_rows"], table["n_columns"]) == (1056, 16)
    assert table["reference"].startswith("Petousis, I.")
    kinds = dtypes(table)
    assert kinds["band_gap"] == "float64" and kinds["space_group"] == "int64"
    assert kinds["pot_ferroelectric"] == "bool"


def test_matminer_flla(shared_data: Path) -> None:
    table = extract(shared_data / "matminer/flla_2015.csv")
    assert (table["n_rows"], table["n_columns"]) == (3938, 7)
    assert table["reference"].startswith("F. Faber, A. Lindmaa")
