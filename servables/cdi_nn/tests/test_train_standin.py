"""MatterHub's stand-in for the CDI_NN networks: its twin-blind loss, its architecture, the
committed trained files, and the training script end to end (tiny)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from servables.cdi_nn import metrics, simulate, train_standin


def _twin(y: np.ndarray) -> np.ndarray:
    flipped = np.roll(y[:, ::-1, ::-1], 1, axis=(1, 2))
    return np.stack([flipped[..., 0], 1.0 - flipped[..., 1]], axis=-1)


def test_loss_is_blind_to_the_twin_and_nothing_else() -> None:
    batch = simulate.simulate(4, seed=21, shapes=("triangle",), strains=("inclusion",), max_phase=(2.0, 2.5))
    y = train_standin.targets(batch)
    assert y.shape == (4, 32, 32, 2) and y.dtype == np.float32
    loss = lambda t, p: np.asarray(train_standin.twin_blind_loss(t, p))  # noqa: E731
    np.testing.assert_allclose(loss(y, y), 0.0, atol=1e-7)
    np.testing.assert_allclose(loss(y, _twin(y)), 0.0, atol=1e-7)  # the twin is as good as the object
    guess = np.full_like(y, 0.5)
    np.testing.assert_allclose(loss(y, guess), loss(_twin(y), guess), rtol=1e-6)
    shifted = np.roll(y, 3, axis=2)  # a translate is not forgiven: the targets are centred
    assert (loss(y, shifted) > 1e-3).all()
    conjugate = np.stack([y[..., 0], 1.0 - y[..., 1]], axis=-1)  # -phi without the inversion
    assert (loss(y, conjugate) > 1e-3).all()


def test_loss_is_blind_to_a_global_phase_and_whole_turns() -> None:
    """A pattern cannot tell phi from phi + c, and 0 and 1 on the networks' phase scale are
    the same phase: the loss forgives both (on wrapped phases of the default simulator)."""
    batch = simulate.simulate(4, seed=22, settings=train_standin.TRAINING_SET)
    y = train_standin.targets(batch)
    loss = lambda t, p: np.asarray(train_standin.twin_blind_loss(t, p))  # noqa: E731
    turned = np.stack([y[..., 0], (y[..., 1] + 0.3) % 1.0], axis=-1)  # phi + 0.6 pi, wrapped
    np.testing.assert_allclose(loss(y, turned), 0.0, atol=1e-5)
    noisy = np.stack([y[..., 0], (y[..., 1] + 0.05 * np.sin(np.arange(32))) % 1.0], axis=-1)
    assert (loss(y, noisy) > 1e-3).all()  # a phase that varies differently is not forgiven


def test_architecture_shares_the_encoder() -> None:
    joint, structure, phase = train_standin.build(seed=0, initializer="zeros")  # cheap to build
    assert joint.output_shape == (None, 32, 32, 2)
    assert structure.input_shape == phase.input_shape == (None, 32, 32, 1)
    assert structure.output_shape == phase.output_shape == (None, 32, 32, 1)
    shared = {id(w) for w in structure.weights} & {id(w) for w in phase.weights}
    assert len(shared) == len(structure.weights) - 2  # all but the structure head's kernel and bias
    assert joint.count_params() < 400_000


@pytest.fixture(scope="module")
def committed() -> tuple[object, object, dict[str, object]]:
    from hub.servables.keras import load_model

    folder = train_standin.STANDIN_DIR
    report = json.loads((folder / "training.json").read_text())
    return load_model(folder / "structure.keras"), load_model(folder / "phase.keras"), report


def test_committed_standin_reconstructs_unseen_patterns(committed: tuple[object, object, dict]) -> None:
    structure, phase, report = committed
    assert "not the authors' data" in report["model"]
    assert report["input_scale"] == simulate.MODEL_INPUT_SCALE
    assert report["validation_seed"] == train_standin.VALIDATION_SEED != report["seed"]
    assert (report["settings"], report["held_out_settings"]) == ("authors-train", "authors-heldout")
    # a seed neither trained nor validated on, in the training range
    batch = simulate.simulate(48, seed=4321, settings=train_standin.TRAINING_SET)
    summary = train_standin.evaluate(structure, phase, batch)
    assert summary["amplitude_error_mean"] < 0.45
    assert summary["support_iou_mean"] > 0.7
    assert summary["phase_error_mean"] < 0.85 * summary["phase_rms_truth_mean"]  # beats the flat guess
    # and the report's held-out figures are what the files give
    for key, settings, seed in (
        ("validation", report["settings"], report["validation_seed"]),
        ("held_out", report["held_out_settings"], report["held_out_seed"]),
    ):
        batch = simulate.simulate(report["n_validation"], seed=seed, settings=settings)
        again = train_standin.evaluate(structure, phase, batch)
        assert again["amplitude_error_mean"] == pytest.approx(report[key]["amplitude_error_mean"], rel=1e-3)
        assert again["phase_error_mean"] == pytest.approx(report[key]["phase_error_mean"], rel=1e-3)


def test_outputs_are_on_the_networks_scales(committed: tuple[object, object, dict]) -> None:
    structure, phase, _ = committed
    x = simulate.model_input(simulate.simulate(8, seed=5, settings=train_standin.TRAINING_SET).intensity)
    a = structure.predict(x, verbose=0)  # type: ignore[attr-defined]
    p = phase.predict(x, verbose=0)  # type: ignore[attr-defined]
    assert a.shape == p.shape == (8, 32, 32, 1)
    assert a.min() >= 0 and a.max() <= 1 and p.min() >= 0 and p.max() <= 1
    # the frame's corners are outside every crystal (the training extent is at most 23 of 32 pixels)
    assert a[:, :4, :4].max() < 0.1 and a[:, -4:, -4:].max() < 0.1
    # inside the crystals the phase wraps over the whole circle, as the training phases do
    inside = a[..., 0] > 0.5
    assert np.ptp(metrics.phase_from_unit(p[..., 0][inside])) > 5.0


@pytest.mark.slow
def test_training_script_end_to_end(tmp_path: Path) -> None:
    report = train_standin.train(n=32, epochs=1, seed=3, out=tmp_path, n_validation=8, verbose=0)
    assert {p.name for p in tmp_path.iterdir()} == {"structure.keras", "phase.keras", "training.json"}
    assert json.loads((tmp_path / "training.json").read_text()) == json.loads(json.dumps(report))
    assert report["n_train"] == 32 and report["validation"]["n"] == report["held_out"]["n"] == 8
    assert np.isfinite(report["final_loss"])
