"""Table joins in a submission's mapping (hub/connect/joins.py), on the real G4MP2 data: the
B3LYP energy table joined onto each molecule's record by file name."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from hub import Hub
from hub.connect.joins import TableJoin, split_mapping, stem

ENERGIES = "Energy_GDB_data.txt"


@pytest.fixture(scope="module")
def g4mp2(shared_data: Path) -> Path:
    return shared_data / "g4mp2" / "GDB_Sugar_Data"


def test_split_mapping_keeps_plain_columns_and_parses_joins() -> None:
    plain, joins = split_mapping(
        {"material.composition": "formula", "custom.e0": f"{ENERGIES}:E0 by filename"}
    )
    assert plain == {"material.composition": "formula"}
    assert joins == [TableJoin("custom.e0", ENERGIES, "E0", "filename")]
    assert split_mapping({"custom.e0": "t.csv:E0 by name"})[0] is None
    assert stem("a/acid-aceticacid.in.out") == stem("acid-aceticacid.xyz") == "acid-aceticacid"


def test_the_energy_table_is_joined_onto_each_molecule(g4mp2: Path, tmp_path: Path) -> None:
    table = pd.read_csv(g4mp2 / ENERGIES, sep=r"\s+")
    e0 = {stem(n): v for n, v in zip(table["filename"], table["E0"], strict=True)}
    with Hub(tmp_path / "hub", progress=False) as hub:
        sub = hub.submit(
            g4mp2,
            title="G4MP2",
            authors=["Ward, Logan"],
            source_name="g4mp2",
            mapping={"custom.b3lyp_u0": f"{ENERGIES}:E0 by filename"},
        )
        assert sub.ok and not sub.errors
        hits = hub.search("custom.b3lyp_u0:*", kinds=["record"], limit=200).hits
        assert len(hits) == 102  # every molecule, not the table's own record
        for h in hits:
            name = stem(h.document["files"][0]["path"])
            assert h.document["custom"]["b3lyp_u0"] == pytest.approx(e0[name])


def test_a_join_naming_a_missing_column_or_table_says_what_is_there(g4mp2: Path, tmp_path: Path) -> None:
    with Hub(tmp_path / "hub", progress=False) as hub:
        sub = hub.submit(
            g4mp2,
            title="G4MP2",
            authors=["Ward, Logan"],
            mapping={"custom.u0": f"{ENERGIES}:E_0 by filename"},
        )
        assert not sub.ok and "has no column 'E_0'; did you mean 'E0'?" in (sub.message or "")
        sub = hub.submit(
            g4mp2,
            title="G4MP2 b",
            authors=["Ward, Logan"],
            mapping={"custom.u0": "Energy_GDB.txt:E0 by filename"},
        )
        assert not sub.ok and f"did you mean {ENERGIES!r}" in (sub.message or "")
