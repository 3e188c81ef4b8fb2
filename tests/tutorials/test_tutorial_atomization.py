"""The atomization-energy tutorial (Δ-learning, Ward et al. 2019) runs end to end under papermill."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
papermill = pytest.importorskip("papermill")

from hub.notebooks.record import RecordedFigure, read_records  # noqa: E402

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "tutorials" / "atomization_delta.ipynb"


def test_atomization_tutorial_runs_and_the_delta_model_beats_both_baselines(
    shared_data: Path, tmp_path: Path
) -> None:
    out = tmp_path / "atomization_delta.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(out),
        parameters={
            "hub_dir": str(tmp_path / "hub"),
            "data_dir": str(shared_data),
            "throughput_molecules": 100,
            "throughput_runs": 1,
        },
        cwd=str(NOTEBOOK.parent),
        kernel_name="python3",
        progress_bar=False,
    )
    records = read_records(nbformat.read(out, as_version=4))
    assert records["n_molecules"] == 102
    assert records["dataset"] == "g4mp2_gdb_sugars_v1"
    assert records["servable"].endswith("/atomization-delta")
    assert records["reference_atomic_energies"] == {"H": -0.502094, "C": -37.794203, "O": -75.002483}
    mae = records["mae"]
    for split in ("random", "largest"):
        delta = mae[f"{split}/delta_model"]
        assert delta < mae[f"{split}/baseline_counts"] < mae[f"{split}/baseline_mean"], split
    errors = records["errors"]
    assert set(errors["split"]) == {"random", "largest"} and len(errors) == 6
    assert len(records["predictions"]) == 6 and all(-500 < e < -100 for e in records["predictions"])
    assert isinstance(records["parity"], RecordedFigure) and records["parity"].png.startswith(b"\x89PNG")
    assert records["molecules_per_s"] > 0  # measured, not judged: timings belong to benchmarks/
