"""Reconstruction errors forgive exactly the ambiguities of phase retrieval (translation, twin,
global phase) and nothing else."""

from __future__ import annotations

import numpy as np
import pytest

from servables.cdi_nn import metrics, simulate


@pytest.fixture(scope="module")
def batch() -> simulate.CDIBatch:
    # triangles with an inclusion: neither the amplitude nor the phase is centrosymmetric
    return simulate.simulate(6, seed=11, shapes=("triangle",), strains=("inclusion",), max_phase=(1.5, 2.5))


def test_the_truth_scores_perfectly(batch: simulate.CDIBatch) -> None:
    errors = metrics.reconstruction_errors(batch.amplitude, batch.phase, batch.amplitude, batch.phase)
    for e in errors:
        assert e["amplitude_error"] == pytest.approx(0, abs=1e-12)
        assert e["phase_error"] == pytest.approx(0, abs=1e-9)
        assert e["support_iou"] == 1.0 and e["twin"] == 0.0


def test_shifted_twin_with_a_phase_offset_scores_perfectly(batch: simulate.CDIBatch) -> None:
    for a, ph in zip(batch.amplitude, batch.phase):
        twin_a = np.roll(a[::-1, ::-1], (1 + 4, 1 - 3), axis=(0, 1))
        twin_p = metrics.wrap(-np.roll(ph[::-1, ::-1], (1 + 4, 1 - 3), axis=(0, 1)) + 2.0)
        e = metrics.sample_errors(twin_a, twin_p, a, ph)
        assert e["twin"] == 1.0
        assert e["amplitude_error"] == pytest.approx(0, abs=1e-12)
        assert e["phase_error"] == pytest.approx(0, abs=1e-9)


def test_a_wrong_phase_is_not_forgiven(batch: simulate.CDIBatch) -> None:
    """The conjugate phase without the inversion is not a solution of the same pattern."""
    for a, ph in zip(batch.amplitude, batch.phase):
        assert not np.allclose(
            simulate.far_field(a * np.exp(-1j * ph)), simulate.far_field(a * np.exp(1j * ph))
        )
        e = metrics.sample_errors(a, -ph, a, ph)
        assert e["amplitude_error"] == pytest.approx(0, abs=1e-12)
        assert e["phase_error"] > 0.3


def test_baselines(batch: simulate.CDIBatch) -> None:
    empty = np.zeros_like(batch.amplitude)
    for e in metrics.reconstruction_errors(empty, empty, batch.amplitude, batch.phase):
        assert e["amplitude_error"] == pytest.approx(1.0) and e["support_iou"] == 0.0
    flat = metrics.reconstruction_errors(
        batch.amplitude, np.zeros_like(batch.phase), batch.amplitude, batch.phase
    )
    for e in flat:
        assert e["phase_error"] == pytest.approx(e["phase_rms_truth"]) and e["phase_rms_truth"] > 0.1
    summary = metrics.summarize(flat)
    assert summary["n"] == 6 and summary["amplitude_error_mean"] == pytest.approx(0, abs=1e-12)
    assert summary["phase_error_mean"] == pytest.approx(summary["phase_rms_truth_mean"])


def test_phase_scale_of_the_networks() -> None:
    phi = np.linspace(-np.pi, np.pi, 9)
    np.testing.assert_allclose(metrics.phase_from_unit(metrics.phase_to_unit(phi)), phi)
    assert metrics.phase_from_unit(np.array(0.5)) == 0.0
    np.testing.assert_allclose(
        metrics.wrap(np.array([3 * np.pi / 2, -3 * np.pi / 2])), [-np.pi / 2, np.pi / 2]
    )


def test_shapes_are_checked() -> None:
    x = np.zeros((2, 32, 32))
    assert len(metrics.reconstruction_errors(x[..., None] + 1, x, x + 1, x)) == 2  # (n, h, w, 1) accepted
    with pytest.raises(
        ValueError, match=r"one shape \(n, h, w\), got \[\(2, 32, 32\), \(2, 32, 32\), \(3, 32, 32\)"
    ):
        metrics.reconstruction_errors(x, x, np.zeros((3, 32, 32)), x)


def test_a_wrong_ramp_costs_the_phase_not_the_structure(batch: simulate.CDIBatch) -> None:
    """A linear ramp moves the pattern, so it is no ambiguity: a prediction with the right
    structure and a wrong ramp is overlaid where its structure fits and loses on the phase only
    (overlaying by the complex overlap alone moved such predictions off their crystals)."""
    yy, xx = np.indices((32, 32))
    for a, ph in zip(batch.amplitude, batch.phase):
        e = metrics.sample_errors(a, ph + 0.8 * xx - 0.5 * yy, a, ph)
        assert e["amplitude_error"] == pytest.approx(0, abs=1e-12) and e["support_iou"] == 1.0
        assert e["phase_error"] > 1.0
