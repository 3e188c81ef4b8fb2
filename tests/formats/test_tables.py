"""Tests of hub/formats/tables.py: read_table and the layout of delimited text."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from hub.exceptions import ExtractionError
from hub.formats.tables import read_table, table_format, text_layout

CSV_WITH_COMMENTS = (
    "# ref: Doe, J. A table of things. J. Data 1, 2 (2020).\n"
    "# written by hand\n"
    "name,value,count,note\n"
    'a,1.5,1,"a note, with a comma"\n'
    'b,2.5,2,"a note\n'
    'over two lines"\n'
    "c,,3,\n"
)


def test_text_layout_reads_the_comment_header(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(CSV_WITH_COMMENTS, encoding="utf-8")
    layout = text_layout(path, "csv")
    assert (layout.sep, layout.skiprows, layout.encoding) == (",", 2, "utf-8-sig")
    assert layout.attrs() == {
        "reference": "Doe, J. A table of things. J. Data 1, 2 (2020).",
        "comments": ["written by hand"],
    }
    assert pd.read_csv(path, **layout.read_csv_kwargs()).shape == (3, 4)


def test_read_table_keeps_reference_in_attrs(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(CSV_WITH_COMMENTS, encoding="utf-8")
    df = read_table(path)
    assert df.shape == (3, 4)
    assert df.attrs["reference"].startswith("Doe, J.")
    assert df.loc[1, "note"] == "a note\nover two lines"
    assert read_table(path, nrows=1).shape == (1, 4)


def test_semicolon_csv_and_latin1(tmp_path: Path) -> None:
    path = tmp_path / "eu.csv"
    path.write_bytes("stoff;wert\nFe2O3;1,5\nCaf\xe9;2,0\n".encode("latin-1"))
    assert text_layout(path, "csv").encoding == "latin-1"
    df = read_table(path, decimal=",")
    assert list(df.columns) == ["stoff", "wert"] and df["wert"].tolist() == [1.5, 2.0]
    assert df["stoff"].tolist()[1] == "Caf\xe9"


def test_parquet_rows(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"], "c": [0.5, None, 1.5]}).to_parquet(path)
    assert read_table(path, nrows=2).shape == (2, 3)
    assert read_table(path).shape == (3, 3)


def test_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text('{"a": 1, "b": "x"}\n{"a": 2, "c": true}\n')
    assert read_table(path)["a"].tolist() == [1, 2]


def test_xlsx_sheet(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"x": [1, 2], "y": ["a", "b"]}).to_excel(writer, sheet_name="data", index=False)
        pd.DataFrame({"z": [1]}).to_excel(writer, sheet_name="notes", index=False)
    assert read_table(path).shape == (2, 2)
    assert read_table(path, sheet_name="notes").shape == (1, 1)


def test_not_a_table(tmp_path: Path) -> None:
    assert table_format(tmp_path / "A.CSV") == "csv" and table_format(tmp_path / "a.txt") is None
    with pytest.raises(ExtractionError, match="not a table file"):
        read_table(tmp_path / "a.txt")


def test_matminer_flla(shared_data: Path) -> None:
    df = read_table(shared_data / "matminer/flla_2015.csv")
    assert df.shape == (3938, 7) and df["structure"].str.startswith("{").all()
    assert df.attrs["reference"].startswith("F. Faber, A. Lindmaa")
