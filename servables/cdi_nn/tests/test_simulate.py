"""The CDI simulator's output has the physics it should: Friedel symmetry for real objects
(and its breaking by strain), Parseval, the phase-retrieval invariances, oversampling; and
each parameter set the crystals it promises: the ``faceted`` set of the earlier figures
(small, sharp, ramp-free phases below pi, reproducible) and the default ``authors`` set
(15-28 px, soft edges, phases wrapped over -pi..pi with ramps that move the Bragg peak)."""

from __future__ import annotations

import numpy as np
import pytest

from servables.cdi_nn import simulate


def friedel_asymmetry(intensity: np.ndarray) -> float:
    """``max |I(q) - I(-q)| / max I`` over the grid (index 0 is the Nyquist row/column: skipped)."""
    inner = intensity[..., 1:, 1:]
    return float(np.abs(inner - inner[..., ::-1, ::-1]).max() / intensity.max())


BOTH = pytest.mark.parametrize("settings", ["faceted", "authors"])


def test_real_object_has_centrosymmetric_intensity() -> None:
    real = simulate.simulate(16, seed=1, settings="faceted", max_phase=(0.0, 0.0))
    assert np.all(real.phase == 0)
    assert friedel_asymmetry(real.intensity) < 1e-12
    # the Bragg peak sits on the centre pixel: I(0) = (sum of the amplitude)^2
    np.testing.assert_allclose(real.intensity[:, 16, 16], real.amplitude.sum(axis=(1, 2)) ** 2, rtol=1e-12)
    assert np.all(real.intensity.reshape(16, -1).argmax(axis=1) == 16 * 32 + 16)


@BOTH
def test_strain_breaks_the_symmetry_unless_the_object_is_centrosymmetric(settings: str) -> None:
    """I(q) = I(-q) for a real object or a centrosymmetric one (an even phase on a centred
    rectangle or hexagon, e.g. bending); any other strained crystal breaks Friedel's law."""
    strained = simulate.simulate(24, seed=1, settings=settings, max_phase=(1.0, 2.0))
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


@BOTH
def test_parseval(settings: str) -> None:
    b = simulate.simulate(12, seed=2, settings=settings)
    total = b.intensity.sum(axis=(1, 2))
    np.testing.assert_allclose(total, simulate.SIZE**2 * (b.amplitude**2).sum(axis=(1, 2)), rtol=1e-10)


@BOTH
def test_pattern_is_blind_to_translation_twin_and_global_phase(settings: str) -> None:
    b = simulate.simulate(4, seed=3, settings=settings)
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
    b = simulate.simulate(40, seed=4, settings="faceted")
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
    b = simulate.simulate(20, seed=5, settings="faceted")
    yy, xx = np.indices((32, 32))
    for a, ph, p in zip(b.amplitude, b.phase, b.params):
        assert np.all(ph[a == 0] == 0)
        assert np.abs(ph).max() == pytest.approx(p["max_phase"], rel=1e-3)
        assert p["max_phase"] < np.pi
        w = a / a.sum()  # no offset and no linear ramp left (a shift of the Bragg peak)
        for basis in (np.ones_like(a), yy - 16.0, xx - 16.0):
            assert abs((w * basis * ph).sum()) < 1e-8


@BOTH
def test_reproducible_from_the_seed(settings: str) -> None:
    a, b, c = (simulate.simulate(3, seed=s, settings=settings) for s in (7, 7, 8))
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
    with pytest.raises(ValueError, match="unknown parameter set 'paper'; choose one of faceted, authors"):
        simulate.simulate(2, settings="paper")
    with pytest.raises(ValueError, match=r"extent_px must lie within \[2, 30\] pixels, got \(10.0, 40.0\)"):
        simulate.CrystalSettings("too-big", extent_px=(10.0, 40.0))


def test_faceted_set_reproduces_the_earlier_figures() -> None:
    """The ``faceted`` set gives the arrays the simulator gave before parameter sets existed
    (figures recorded from that code, seed 7)."""
    b = simulate.simulate(6, seed=7, settings="faceted")
    assert [p["extent_px"] for p in b.params] == [15.46, 9.43, 12.06, 8.85, 10.44, 7.3]
    assert [p["support_px"] for p in b.params] == [163, 60, 71, 59, 69, 25]
    assert [p["max_phase"] for p in b.params] == [1.8841, 1.2753, 0.8016, 0.7632, 1.2108, 1.043]
    assert all(p["edge_px"] == p["ramp"] == p["offset"] == 0 and p["aspect"] == 1 for p in b.params)
    assert b.intensity.sum() == pytest.approx(437524.0, rel=1e-12)
    assert b.intensity[:, 16, 16].sum() == pytest.approx(32435.821481635616, rel=1e-12)
    assert b.intensity[:, 10, 20].sum() == pytest.approx(81.94267537194146, rel=1e-10)
    assert b.amplitude.sum() == pytest.approx(457.5625, rel=1e-12)
    np.testing.assert_allclose(
        b.phase.sum(axis=(1, 2)),
        [
            9.893239081112508,
            2.507034120261543,
            0.0,
            0.04459691491890583,
            -7.594200315679043,
            1.4097268081421261,
        ],
        atol=1e-10,
    )


def test_authors_crystals_are_15_to_28_pixels_across_and_centred() -> None:
    b = simulate.simulate(120, seed=11)
    assert b.params[0]["extent_px"] and simulate.DEFAULT == "authors"
    extents = np.array([p["extent_px"] for p in b.params])
    assert extents.min() >= 15 and extents.max() <= 28
    assert (extents < 18).any() and (extents > 25).any()  # the whole range, not one size
    for a, p in zip(b.amplitude, b.params):
        rows, cols = np.nonzero(a > 0.5)
        measured = max(np.ptp(rows), np.ptp(cols)) + 1
        # the support's extent is the drawn one, less what softening takes off sharp corners
        assert p["extent_px"] - 5 < measured <= p["extent_px"] + 1.5, p
        box = np.nonzero(a > 0)
        assert all(abs((idx.min() + idx.max()) / 2 - 16) <= 1.5 for idx in box)
        assert p["support_px"] == int((a > 0.5).sum()) >= 40
    assert min(p["aspect"] for p in b.params) < 0.5  # slivers too, as in the authors' figure


def _edge_band(a: np.ndarray) -> float:
    """Pixels of the edge band (0.05 < a < 0.95) per boundary pixel of the support ``a > 0.5``."""
    support = a > 0.5
    interior = (
        np.roll(support, 1, 0) & np.roll(support, -1, 0) & np.roll(support, 1, 1) & np.roll(support, -1, 1)
    )
    return float(((a > 0.05) & (a < 0.95)).sum() / (support & ~interior).sum())


def test_authors_edges_are_soft_the_faceted_ones_sharp() -> None:
    """A Gaussian of sigma widens an edge's 5-95% band to 3.3 sigma; supersampled facets cut
    about one pixel per boundary pixel."""
    soft = simulate.simulate(60, seed=12)
    for a, p in zip(soft.amplitude, soft.params):
        assert 0.5 <= p["edge_px"] <= 1.2
        assert _edge_band(a) >= max(2.0, 2.5 * p["edge_px"]), p
        assert a.max() > 0.9 and np.all(a[a > 0] >= simulate.AMPLITUDE_FLOOR)
        gy, gx = np.gradient(a)  # no steeper than a blurred straight edge: 1 / (sigma sqrt(2 pi))
        assert np.hypot(gy, gx).max() <= 1 / (p["edge_px"] * np.sqrt(2 * np.pi))
    sharp = simulate.simulate(60, seed=12, settings="faceted")
    assert np.median([_edge_band(a) for a in sharp.amplitude]) < 1.5


def test_authors_phases_wrap_over_minus_pi_to_pi() -> None:
    b = simulate.simulate(60, seed=13)
    assert b.phase.min() >= -np.pi and b.phase.max() <= np.pi
    assert b.phase.min() < -3.0 and b.phase.max() > 3.0
    wrapped = 0
    for a, ph in zip(b.amplitude, b.phase):
        assert np.all(ph[a == 0] == 0)
        inside = a > 0.5
        jumps = np.abs(np.diff(ph, axis=1))[inside[:, 1:] & inside[:, :-1]]
        wrapped += bool((jumps > np.pi).any())  # a 2 pi jump between neighbours: a wrap
    assert wrapped >= 30
    offsets = [p["offset"] for p in b.params]
    assert min(offsets) < -2 and max(offsets) > 2


def test_a_ramp_moves_the_bragg_peak_by_k_n_over_2_pi() -> None:
    """Fourier shift theorem: o(r) exp(i k.r) has the pattern of o shifted by k N / 2 pi, so the
    first moment sum_q I(q) exp(2 pi i q_x / N) turns by exactly k_x (whatever the shape)."""
    b = simulate.simulate(16, seed=14, max_phase=(0.0, 0.0))  # ramp and offset only
    q = np.arange(32) - 16
    for a, ph, intensity, p in zip(b.amplitude, b.phase, b.intensity, b.params):
        ramp = simulate.linear_ramp(p["ramp"], p["ramp_angle"])
        np.testing.assert_allclose(
            np.exp(1j * ph[a > 0]), np.exp(1j * (ramp + p["offset"]))[a > 0], atol=2e-3
        )
        kx, ky = p["ramp"] * np.cos(p["ramp_angle"]), p["ramp"] * np.sin(p["ramp_angle"])
        assert np.angle((intensity * np.exp(2j * np.pi * q[None, :] / 32)).sum()) == pytest.approx(
            kx, abs=1e-3
        )
        assert np.angle((intensity * np.exp(2j * np.pi * q[:, None] / 32)).sum()) == pytest.approx(
            ky, abs=1e-3
        )


def test_training_and_held_out_ranges_do_not_overlap() -> None:
    train = simulate.simulate(80, seed=15, settings="authors-train")
    held = simulate.simulate(80, seed=15, settings="authors-heldout")
    assert max(p["extent_px"] for p in train.params) <= simulate.SPLIT_EXTENT_PX
    assert min(p["extent_px"] for p in held.params) >= simulate.SPLIT_EXTENT_PX
    assert max(p["ramp"] for p in train.params) <= simulate.SPLIT_RAMP <= min(p["ramp"] for p in held.params)
    full = simulate.PARAMETER_SETS["authors"]
    assert (full.extent_px, full.ramp) == ((15.0, 28.0), (0.0, 0.9))  # the two together make the default
