"""The study end to end: stand-in dataset and three servables published into a hub, run there."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from servables.bandgap_images import study


@pytest.mark.slow
def test_publish_study_into_a_hub_and_run_its_servables(shared_data: Path, example_hub, tmp_path):
    hub = example_hub
    lines: list[str] = []
    out = study.publish_study(
        hub, shared_data, n_images=96, size=16, epochs=3, workdir=tmp_path, echo=lines.append
    )
    assert out["skipped"] is False
    assert out["runs"] == {"onset_estimator": True, "colour_model": True, "autoencoder": True}
    owner = hub.principal.user  # type: ignore[attr-defined]
    assert out["servables"] == {
        "autoencoder": f"{owner}/bandgap-image-autoencoder",
        "colour_model": f"{owner}/bandgap-colour-clusters",
        "onset_estimator": f"{owner}/bandgap-absorption-onset",
    }
    assert out["dataset"] == "bandgap_images_standin_v1"
    ds = hub.dataset(out["dataset"])  # type: ignore[attr-defined]
    assert len(ds.records()) == 96
    assert "STAND-IN" in ds.metadata["dc"]["descriptions"][0]["description"]
    onset = out["metrics"]["onset_estimator"]
    assert onset["fraction_within_tolerance"] >= 0.9 and onset["mae_eV"] < 0.06
    colour = out["metrics"]["colour_model"]
    assert colour["test_mae_eV"] < colour["baseline_mae_eV"]
    for key, name in out["servables"].items():
        doc = hub.servable(name).document  # type: ignore[attr-defined]
        assert doc["dlhub"]["training_data"] == [out["dataset"]]
        assert doc["datacite"]["relatedIdentifiers"][0]["relatedIdentifier"].lower().endswith("c8sc03077d")
        assert doc["servable"]["metrics"], key
    onset_doc = hub.servable(out["servables"]["onset_estimator"]).document  # type: ignore[attr-defined]
    assert onset_doc["servable"]["metrics"]["tolerance_eV"] == 0.1
    # the hub finds the servables trained on the stand-in, and the stand-in's records
    found = hub.servables(f"dlhub.training_data:{out['dataset']}")  # type: ignore[attr-defined]
    assert found.total == 3
    assert hub.search("custom.stand_in:true AND mdf.source_name:bandgap_images_standin").total == 96  # type: ignore[attr-defined]
    assert any("onset estimator" in line for line in lines)
    # a second call finds everything in place and does no work
    again = study.publish_study(hub, shared_data, n_images=96, size=16, epochs=3, workdir=tmp_path)
    assert again["skipped"] is True and again["servables"] == out["servables"]


def test_metrics_of_a_perfect_and_a_useless_estimator():
    gaps = np.array([0.5, 1.5, 2.0, 3.0, 4.5, 6.5])
    perfect = study.onset_metrics(gaps, np.where((gaps > 1.2) & (gaps < 6.1), gaps, np.nan))
    assert perfect["fraction_within_tolerance"] == 1.0 and perfect["mae_eV"] == 0.0
    assert perfect["n_in_range"] == 4 and perfect["n_outside_range"] == 2
    off = study.onset_metrics(gaps, gaps + 0.2)
    assert off["fraction_within_tolerance"] == 0.0 and off["mae_eV"] == pytest.approx(0.2)
    lost = study.onset_metrics(gaps, np.full(6, np.nan))
    assert lost["fraction_not_found_in_range"] == 1.0
    reg = study.regression_metrics(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.5, 3.0]), 2.0)
    assert reg["test_mae_eV"] == pytest.approx(1 / 6) and reg["baseline_mae_eV"] == pytest.approx(2 / 3)
    assert reg["visible_test_mae_eV"] == pytest.approx(0.25)
