"""The CDI study end to end: a simulated batch published as an MDF dataset (one record per
sample), found by search, loaded through Intake; the stand-in and the authors' networks
published as servables, run through the hub and scored against the truth."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from servables.cdi_nn import metrics, plots, simulate, study

N, SEED = 16, 5


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from hub import Hub

    with Hub(tmp_path_factory.mktemp("cdi-study"), user="alice", progress=False) as h:
        yield h


@pytest.fixture(scope="module")
def standin_only(hub: object, shared_data: Path) -> dict[str, object]:
    lines: list[str] = []
    result = study.publish_study(
        hub,
        shared_data,
        n=N,
        seed=SEED,
        authors_models=False,
        echo=lines.append,  # type: ignore[arg-type]
    )
    result["lines"] = lines
    return result


@pytest.fixture(scope="module")
def full(hub: object, shared_data: Path, standin_only: dict[str, object]) -> dict[str, object]:
    lines: list[str] = []
    result = study.publish_study(hub, shared_data, n=N, seed=SEED, echo=lines.append)  # type: ignore[arg-type]
    result["lines"] = lines
    return result


def test_standin_stands_in_and_says_so(hub: object, standin_only: dict[str, object]) -> None:
    assert standin_only["authors_models"] is False
    assert set(standin_only["servables"]) == {"standin_structure", "standin_phase"}  # type: ignore[arg-type]
    assert set(standin_only["errors"]) == {"standin"}  # type: ignore[arg-type]
    assert any("stand-in, trained on the simulator, stands in" in line for line in standin_only["lines"])  # type: ignore[attr-defined]
    info = hub.servable(standin_only["servables"]["standin_structure"])  # type: ignore[attr-defined,index]
    doc = info.document
    assert "not the authors' model" in doc["datacite"]["titles"][0]["title"]
    creator = doc["datacite"]["creators"][0]
    assert (creator["name"], creator["nameType"]) == ("MatterHub developers", "Organizational")
    assert doc["servable"]["options"]["stand_in"] is True
    assert set(doc["servable"]["metrics"]) == {
        "sim_amplitude_error",
        "sim_phase_error_rad",
        "sim_support_iou",
        "heldout_amplitude_error",
        "heldout_phase_error_rad",
        "heldout_support_iou",
    }
    assert "authors-train" in doc["servable"]["options"]["trained_on"]


def test_dataset_is_one_record_per_sample_and_searchable(hub: object, full: dict[str, object]) -> None:
    assert full["dataset"] == hub.dataset(study.SOURCE_NAME).source_id  # type: ignore[attr-defined]
    found = hub.search(f"mdf.source_name:{study.SOURCE_NAME}", kinds=["dataset"])  # type: ignore[attr-defined]
    assert found.total == 1 and found.hits[0].document["mdf"]["source_id"] == full["dataset"]
    samples = hub.search(  # type: ignore[attr-defined]
        f"mdf.source_name:{study.SOURCE_NAME} AND custom.sample:>=0",
        kinds=["record"],
        facets=["custom.strain"],
        limit=N,
        sort="custom.sample",
    )
    truth = simulate.simulate(N, seed=SEED)
    assert samples.total == N
    assert [h.document["custom"]["sample"] for h in samples.hits] == list(range(N))
    assert [h.document["custom"]["shape"] for h in samples.hits] == [p["shape"] for p in truth.params]
    counts = {b["value"]: b["count"] for b in samples.facets["custom.strain"]["buckets"]}
    assert sum(counts.values()) == N and set(counts) <= set(simulate.STRAINS)
    inclusions = hub.search(  # type: ignore[attr-defined]
        f"mdf.source_name:{study.SOURCE_NAME} AND custom.strain:inclusion", kinds=["record"]
    )
    assert inclusions.total == sum(p["strain"] == "inclusion" for p in truth.params)


def test_intake_gives_back_the_simulated_arrays(hub: object, full: dict[str, object]) -> None:
    result = hub.search(f"mdf.source_name:{study.SOURCE_NAME}", kinds=["dataset"])  # type: ignore[attr-defined]
    files = result.to_catalog()[full["dataset"]].read()
    assert {study.ARRAYS_FILE, study.SAMPLES_FILE} <= set(files)
    arrays = files[study.ARRAYS_FILE].read()
    assert dict(arrays.sizes) == {"sample": N, "qy": 32, "qx": 32, "y": 32, "x": 32}
    assert arrays["phase"].attrs["units"] == "rad" and arrays.attrs["seed"] == SEED
    batch = study.from_xarray(arrays.load())
    truth = simulate.simulate(N, seed=SEED)
    np.testing.assert_allclose(batch.intensity, truth.intensity, rtol=1e-6)
    np.testing.assert_allclose(batch.amplitude, truth.amplitude, atol=1e-7)
    np.testing.assert_allclose(batch.phase, truth.phase, atol=1e-6)
    np.testing.assert_allclose(arrays["model_input"].values[..., None], simulate.model_input(truth.intensity))
    assert batch.params[3]["strain"] == truth.params[3]["strain"]
    table = files[study.SAMPLES_FILE].read()
    assert list(table["sample"]) == list(range(N))


def test_both_pairs_run_through_the_hub_and_are_scored(
    hub: object, full: dict[str, object], shared_data: Path
) -> None:
    from hub.servables.keras import load_model

    names = full["servables"]
    assert set(names) == {  # type: ignore[arg-type]
        "standin_structure",
        "standin_phase",
        "structure",
        "phase",
        "structure_from_intensity",
        "phase_from_intensity",
    }
    assert names["standin_structure"] == "alice/cdi-standin-structure"  # type: ignore[index]
    assert hub.servables('"coherent diffraction" AND servable.type:keras').total == 4  # type: ignore[attr-defined]
    assert hub.servables("servable.type:pipeline AND dlhub.domains:diffraction").total == 2  # type: ignore[attr-defined]
    truth = simulate.simulate(N, seed=SEED)
    x = simulate.model_input(truth.intensity)
    direct = load_model(study.STANDIN_DIR / "phase.keras").predict(x, verbose=0)
    np.testing.assert_allclose(hub.run(names["standin_phase"], x), direct, rtol=1e-5, atol=1e-6)  # type: ignore[attr-defined,index]
    errors = full["errors"]
    standin, authors = errors["standin"], errors["authors"]  # type: ignore[index]
    # the authors' networks find a crystal (not an empty frame) but not its phase; the stand-in does better
    assert authors["amplitude_error_mean"] < 0.8 and authors["support_iou_mean"] > 0.3
    assert standin["amplitude_error_mean"] < authors["amplitude_error_mean"]
    assert standin["phase_error_mean"] < standin["phase_rms_truth_mean"]
    assert standin["phase_rms_truth_mean"] == authors["phase_rms_truth_mean"]  # one truth


def test_held_out_range_scores_both_pairs(hub: object, full: dict[str, object]) -> None:
    """Crystals of sizes and phase ramps the stand-in never saw, run through the hub: both pairs
    on one truth, and each pair on crystals of the stand-in's training range for comparison."""
    out = study.evaluate_held_out(hub, full["servables"], n=12)  # type: ignore[arg-type]
    assert (out["held_out_settings"], out["in_range_settings"]) == ("authors-heldout", "authors-train")
    for where in ("held_out", "in_range"):
        authors, standin = out[where]["authors"], out[where]["standin"]
        assert authors["n"] == standin["n"] == 12
        assert authors["phase_rms_truth_mean"] == standin["phase_rms_truth_mean"]  # one truth
        for pair in (authors, standin):
            assert 0 < pair["support_iou_mean"] < 1 and 0 < pair["amplitude_error_mean"] < 1.5
    # steeper ramps and larger crystals: the flat guess is further off on the held-out range
    assert (
        out["held_out"]["standin"]["phase_rms_truth_mean"]
        > out["in_range"]["standin"]["phase_rms_truth_mean"]
    )
    # what training did not see is harder for the stand-in
    assert out["held_out"]["standin"]["support_iou_mean"] < out["in_range"]["standin"]["support_iou_mean"]


def test_running_again_reuses_the_hub(hub: object, full: dict[str, object], shared_data: Path) -> None:
    again = study.publish_study(hub, shared_data, n=N, seed=SEED)  # type: ignore[arg-type]
    assert again["dataset"] == full["dataset"] and again["servables"] == full["servables"]
    assert len(hub.datasets(source_name=study.SOURCE_NAME, all_versions=True)) == 1  # type: ignore[attr-defined]
    assert hub.servable(full["servables"]["structure"]).version == 1  # type: ignore[attr-defined,index]
    assert again["errors"] == full["errors"]


def test_figures(hub: object, full: dict[str, object]) -> None:
    batch = study.load_batch(hub)  # type: ignore[arg-type]
    names = full["servables"]
    x = simulate.model_input(batch.intensity)
    predictions = {
        "stand-in": study.predict(hub, names["standin_structure"], names["standin_phase"], x),  # type: ignore[arg-type,index]
        "authors": study.predict(hub, names["structure"], names["phase"], x),  # type: ignore[arg-type,index]
    }
    fig = plots.plot_reconstructions(batch, predictions, indices=[0, 5])
    assert len(fig.axes) == 2 * 7 + 1  # 2 rows x (pattern, truth x2, 2 models x2) + the phase colour bar
    titles = [ax.get_title() for ax in fig.axes[:7]]
    assert titles[1] == "true structure" and titles[3].startswith("stand-in: structure\nerror ")
    errs = {
        k: metrics.reconstruction_errors(a, p, batch.amplitude, batch.phase)
        for k, (a, p) in predictions.items()
    }
    fig2 = plots.plot_errors(errs)
    assert [t.get_text() for t in fig2.axes[0].get_xticklabels()] == ["stand-in", "authors"]
    assert fig2.axes[1].get_lines()[-1].get_ydata()[0] == pytest.approx(
        np.median([e["phase_rms_truth"] for e in errs["stand-in"]])
    )
