"""The CDI simulator's output has the physics it should: Friedel symmetry for real objects
(and its breaking by strain), Parseval, the phase-retrieval invariances, oversampling."""

from __future__ import annotations

import numpy as np
import pytest

from servables.cdi_nn import simulate


def friedel_asymmetry(intensity: np.ndarray) -> float:
    """``max |I(q) - I(-q)| / max I`` over the grid (index 0 is the Nyquist row/column: skipped)."""
    inner = intensity[..., 1:, 1:]
    return float(np.abs(inner - inner[..., ::-1, ::-1]).max() / intensity.max())


def test_real_object_has_centrosymmetric_intensity() -> None:
    real = simulate.simulate(16, seed=1, max_phase=(0.0, 0.0))
    assert np.all(real.phase == 0)
    assert friedel_asymmetry(real.intensity) < 1e-12
    # the Bragg peak sits on the centre pixel: I(0) = (sum of the amplitude)^2
    np.testing.assert_allclose(real.intensity[:, 16, 16], real.amplitude.sum(axis=(1, 2)) ** 2, rtol=1e-12)
    assert np.all(real.intensity.reshape(16, -1).argmax(axis=1) == 16 * 32 + 16)


def test_strain_breaks_the_symmetry_unless_the_object_is_centrosymmetric() -> None:
    """I(q) = I(-q) for a real object or a centrosymmetric one (an even phase on a centred
    rectangle or hexagon, e.g. bending); any other strained crystal breaks Friedel's law."""
    strained = simulate.simulate(24, seed=1, max_phase=(1.0, 2.0))
    obj = strained.complex_object
    broken = 0
    for i in range(len(strained)):
        inverted = np.roll(obj[i, ::-1, ::-1], 1, axis=(0, 1))
        if np.allclose(inverted, obj[i], atol=1e-12):
            assert friedel_asymmetry(strained.intensity[i]) < 1e-12
        else:
            assert friedel_asymmetry(strained.intensity[i]) > 1e-3, strained.params[i]
            broken += 1
    assert broken >= 20


def test_parseval() -> None:
    b = simulate.simulate(12, seed=2)
    total = b.intensity.sum(axis=(1, 2))
    np.testing.assert_allclose(total, simulate.SIZE**2 * (b.amplitude**2).sum(axis=(1, 2)), rtol=1e-10)


def test_pattern_is_blind_to_translation_twin_and_global_phase() -> None:
    b = simulate.simulate(4, seed=3)
    obj = b.complex_object
    twin = np.conj(np.roll(obj[:, ::-1, ::-1], 1, axis=(1, 2)))
    shifted = np.roll(obj, (3, -5), axis=(1, 2)) * np.exp(1.3j)
    for other in (twin, shifted):
        np.testing.assert_allclose(simulate.far_field(other), b.intensity, rtol=1e-9, atol=1e-9)


def test_square_gives_the_sinc_pattern() -> None:
    """A centred L x L square of amplitude 1: I(q) = (sin(pi L q / N) / sin(pi q / N))^2 per axis."""
    n, side = simulate.SIZE, 8
    obj = np.zeros((n, n))
    obj[12:20, 12:20] = 1.0
    q = np.arange(n) - n // 2
    with np.errstate(invalid="ignore", divide="ignore"):
        d = np.where(q == 0, side, np.sin(np.pi * side * q / n) / np.sin(np.pi * q / n))
    np.testing.assert_allclose(simulate.far_field(obj), np.outer(d, d) ** 2, atol=1e-8)


def test_objects_are_oversampled_centred_and_anti_aliased() -> None:
    b = simulate.simulate(40, seed=4)
    yy, xx = np.indices((32, 32))
    for a, p in zip(b.amplitude, b.params):
        rows, cols = np.nonzero(a > 0)
        assert np.ptp(rows) < simulate.MAX_EXTENT and np.ptp(cols) < simulate.MAX_EXTENT
        assert abs((a * yy).sum() / a.sum() - 16) < 0.5 and abs((a * xx).sum() / a.sum() - 16) < 0.5
        assert a.max() == 1.0 and ((a > 0) & (a < 1)).any()  # facets cut pixels
        assert p["support_px"] == int((a > 0.5).sum())
    assert {p["shape"] for p in b.params} == set(simulate.SHAPES)
    assert {p["strain"] for p in b.params} == set(simulate.STRAINS)


def test_phase_is_bounded_ramp_free_and_zero_outside() -> None:
    b = simulate.simulate(20, seed=5)
    yy, xx = np.indices((32, 32))
    for a, ph, p in zip(b.amplitude, b.phase, b.params):
        assert np.all(ph[a == 0] == 0)
        assert np.abs(ph).max() == pytest.approx(p["max_phase"], rel=1e-3)
        assert p["max_phase"] < np.pi
        w = a / a.sum()  # no offset and no linear ramp left (a shift of the Bragg peak)
        for basis in (np.ones_like(a), yy - 16.0, xx - 16.0):
            assert abs((w * basis * ph).sum()) < 1e-8


def test_reproducible_from_the_seed() -> None:
    a, b, c = simulate.simulate(3, seed=7), simulate.simulate(3, seed=7), simulate.simulate(3, seed=8)
    np.testing.assert_array_equal(a.intensity, b.intensity)
    assert a.params == b.params
    assert not np.allclose(a.amplitude, c.amplitude)


def test_model_input() -> None:
    b = simulate.simulate(2, seed=9)
    x = simulate.model_input(b.intensity)
    assert x.shape == (2, 32, 32, 1) and x.dtype == np.float32
    np.testing.assert_allclose(x[..., 0], simulate.MODEL_INPUT_SCALE * np.sqrt(b.intensity), rtol=1e-6)
    assert simulate.model_input(b.intensity[0]).shape == (1, 32, 32, 1)
    with pytest.raises(ValueError, match=r"expected intensities of shape \(n, 32, 32\).*got \(2, 16, 16\)"):
        simulate.model_input(np.ones((2, 16, 16)))
    with pytest.raises(ValueError, match=">= 0"):
        simulate.model_input(-b.intensity)


def test_unknown_choices_are_named() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="unknown shape 'star'; choose one of triangle"):
        simulate.crystal_shape(rng, "star")
    amp, _ = simulate.crystal_shape(rng, "triangle")
    with pytest.raises(ValueError, match="unknown strain 'twist'"):
        simulate.displacement(rng, amp, "twist")
