"""notebooks/tutorials/forge_classic.ipynb runs under papermill: classic MDF Forge code against a
MatterHub service the notebook starts itself, on the shared data and, where that is absent (as on
Binder), on crystals it builds with ASE."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import nbformat
import papermill
import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "tutorials" / "forge_classic.ipynb"

pytestmark = pytest.mark.slow


def run(tmp_path: Path, **parameters: Any) -> dict[str, Any]:
    out = tmp_path / "forge_classic.out.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(out),
        parameters=parameters,
        kernel_name="python3",
        cwd=str(tmp_path),
        progress_bar=False,
    )
    nb = nbformat.read(out, as_version=4)
    [cell] = [c for c in nb.cells if "summary" in c.metadata.get("tags", [])]
    text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
    summary: dict[str, Any] = json.loads(text)
    return summary


def formula_elements(cif: Path) -> set[str]:
    m = re.search(r"^_chemical_formula_sum\s+'?([^'\n]+)'?\s*$", cif.read_text(errors="replace"), re.M)
    assert m, cif
    return set(re.findall(r"[A-Z][a-z]?", m.group(1)))


@pytest.mark.shared_data
def test_forge_tutorial_on_the_shared_data(shared_data: Path, tmp_path: Path) -> None:
    cifs = sorted((shared_data / "materialsio" / "crystal_structure").glob("*.cif"))
    cifs += sorted((shared_data / "ase" / "minerals").glob("*.cif"))
    summary = run(tmp_path, data_dir=str(shared_data))
    assert summary["sources"] == ["cod_minerals", "mdf_cifs"]
    assert summary["oxide_records"] == sorted(c.name for c in cifs if "O" in formula_elements(c))
    assert summary["si_records"] == sorted(c.name for c in cifs if "Si" in formula_elements(c))
    assert summary["total_records"] == len(cifs)
    assert summary["aggregate"] == len(cifs) + 2, "the records and the two dataset entries"
    assert summary["downloaded"] in summary["oxide_records"] and summary["checksum_ok"] is True


def test_forge_tutorial_without_shared_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MATTERHUB_MIRROR", "")  # set and empty: no mirror, wherever the test runs
    summary = run(tmp_path)
    # the notebook builds Cu, NaCl, MgO, Si and ZnO with ASE
    assert summary["sources"] == ["ase_crystals"]
    assert summary["oxide_records"] == ["MgO.cif", "ZnO.cif"]
    assert summary["si_records"] == ["Si.cif"]
    assert (summary["total_records"], summary["aggregate"]) == (5, 6)
    assert summary["checksum_ok"] is True
