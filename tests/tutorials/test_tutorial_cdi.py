"""The coherent diffraction imaging tutorial (Cherukara et al. 2018) runs end to end under papermill."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
papermill = pytest.importorskip("papermill")

from hub.notebooks.record import RecordedFigure, read_records  # noqa: E402

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "tutorials" / "cdi.ipynb"


def test_cdi_tutorial_runs_and_scores_both_pairs(shared_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "cdi.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(out),
        parameters={
            "hub_dir": str(tmp_path / "hub"),
            "data_dir": str(shared_data),
            "n_samples": 12,
            "n_show": 2,
        },
        cwd=str(NOTEBOOK.parent),
        kernel_name="python3",
        progress_bar=False,
    )
    records = read_records(nbformat.read(out, as_version=4))
    assert records["dataset"] == "cdi_nn_simulated_v1"
    assert records["n_samples"] == 12
    assert records["authors_models"] is True
    assert set(records["servables"]) == {
        "standin_structure",
        "standin_phase",
        "structure",
        "phase",
        "structure_from_intensity",
        "phase_from_intensity",
    }
    assert 0 < records["n_inclusion_records"] < 12
    errors = records["errors"]
    assert list(errors.index) == ["stand-in", "authors"]
    for label in ("stand-in", "authors"):
        assert 0 < errors.loc[label, "amplitude error"] < 1  # a crystal, not an empty frame
    assert errors.loc["stand-in", "phase error (rad)"] < errors.loc["stand-in", "flat-phase error (rad)"]
    held = records[
        "held_out"
    ]  # crystals of sizes and ramps the stand-in never saw, and of its training range
    assert list(held.index) == [(w, p) for w in ("held_out", "in_range") for p in ("standin", "authors")]
    assert held.loc[("held_out", "standin"), "support IoU"] < held.loc[("in_range", "standin"), "support IoU"]
    real = records["real_data"]  # section 8: the real Bragg CDI patterns
    assert list(real.index) == ["authors", "standin"]
    assert real.loc["authors", "input_max"] == 10_000
    assert 0 < real.loc["standin", "support_iou_mean"] < 1
    for name in ("reconstructions", "error_plot"):
        assert isinstance(records[name], RecordedFigure) and records[name].png.startswith(b"\x89PNG")
