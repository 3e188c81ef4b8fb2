"""The band-gap-from-images tutorial (Stein et al. 2019, on a labelled stand-in) runs end to end
under papermill with small parameters."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
papermill = pytest.importorskip("papermill")

from hub.notebooks.record import RecordedFigure, read_records  # noqa: E402

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "tutorials" / "bandgap_images.ipynb"
N_IMAGES = 120


def test_bandgap_images_tutorial_runs_and_recovers_band_gaps(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MATTERHUB_OFFLINE", "1")  # the real dataset's entry must fail fast and clearly
    out = tmp_path / "bandgap_images.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(out),
        parameters={
            "n_images": N_IMAGES,
            "image_size": 16,
            "epochs": 4,
            "seed": 1,
            "hub_dir": str(tmp_path / "hub"),
            "data_dir": str(shared_data),
        },
        cwd=str(NOTEBOOK.parent),
        kernel_name="python3",
        progress_bar=False,
    )
    executed = nbformat.read(out, as_version=4)
    records = read_records(executed)
    assert records["n_records"] == N_IMAGES  # one MDF record per image
    assert records["onset_fraction_within_tolerance"] >= 0.95
    assert records["onset_mae_eV"] < 0.05
    assert records["colour_test_mae_eV"] < records["colour_baseline_mae_eV"]
    assert 0 < records["autoencoder_rmse_8bit"] < 255
    for name in ("colour_strip", "onset_recovery", "colour_model", "latent_map"):
        assert isinstance(records[name], RecordedFigure) and records[name].png.startswith(b"\x89PNG"), name
    text = "".join(
        o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])
    )
    assert "data.caltech.edu/records/1103" in text
    assert "$MATTERHUB_MIRROR/stein_optical/dataset_comp_image_spectra.h5" in text
