"""The absorption model: a Tauc onset at the band gap, an Urbach tail, film transmission."""

from __future__ import annotations

import numpy as np
import pytest

from servables.bandgap_images import film_optics


@pytest.mark.parametrize(("transition", "p"), [("direct", 0.5), ("indirect", 2.0)])
def test_tauc_branch_is_a_straight_line_through_the_band_gap(transition, p):
    eg, eu = 2.1, 0.05
    e = np.linspace(eg + p * eu, eg + 2.5, 200)
    alpha = film_optics.absorption_coefficient(e, eg, transition, strength=1e5, urbach_ev=eu)
    y = (alpha * e) ** (1 / p)
    slope, intercept = np.polyfit(e, y, 1)
    assert -intercept / slope == pytest.approx(eg, abs=1e-9)
    np.testing.assert_allclose(y, slope * e + intercept, rtol=1e-9)
    # one eV above the gap alpha*E equals the strength
    assert film_optics.absorption_coefficient(np.array(eg + 1), eg, transition, 1e5, eu) * (
        eg + 1
    ) == pytest.approx(1e5)


@pytest.mark.parametrize(("transition", "p"), [("direct", 0.5), ("indirect", 2.0)])
def test_urbach_tail_joins_smoothly_and_decays_with_the_urbach_energy(transition, p):
    eg, eu = 3.0, 0.06
    e_join = eg + p * eu
    below, at, above = film_optics.absorption_coefficient(
        np.array([e_join - 1e-6, e_join, e_join + 1e-6]), eg, transition, 1e5, eu
    )
    assert below == pytest.approx(at, rel=1e-4) and above == pytest.approx(at, rel=1e-4)
    e = np.array([eg - 0.5, eg - 0.4])
    a = film_optics.absorption_coefficient(e, eg, transition, 1e5, eu)
    assert np.log(a[1] / a[0]) == pytest.approx(0.1 / eu, rel=1e-9)  # exp(E / E_U)
    # the logarithmic slopes of both branches agree at the join (up to the 1/E factor)
    h = 1e-4
    lo = film_optics.absorption_coefficient(np.array([e_join - 2 * h, e_join - h]), eg, transition, 1e5, eu)
    hi = film_optics.absorption_coefficient(np.array([e_join + h, e_join + 2 * h]), eg, transition, 1e5, eu)
    assert np.log(hi[1] / hi[0]) / h == pytest.approx(np.log(lo[1] / lo[0]) / h, rel=0.05)


def test_transmission_of_a_film_on_glass():
    clear = film_optics.film_transmittance(np.zeros(3), 500.0, 1.52)
    np.testing.assert_allclose(clear, 1.0)  # index-matched and transparent: like bare glass
    n = 2.5
    r1 = ((n - 1) / (n + 1)) ** 2
    r2 = ((n - 1.52) / (n + 1.52)) ** 2
    bare = 1 - ((1.52 - 1) / 2.52) ** 2
    lossless = film_optics.film_transmittance(np.zeros(1), 500.0, n)[0]
    assert lossless == pytest.approx((1 - r1) * (1 - r2) / (1 - r1 * r2) / bare)
    assert lossless < 1
    alpha = np.array([1e3, 1e4, 1e5])
    t = film_optics.film_transmittance(alpha, 400.0, n)
    assert np.all(np.diff(t) < 0) and t[-1] < 0.02
    many = film_optics.film_transmittance(alpha, np.array([[200.0], [400.0]]), n)
    assert many.shape == (2, 3) and np.all(many[0] > many[1])


def test_measured_absorbance_saturates_with_stray_light():
    a = film_optics.measured_absorbance(np.array([1.0, 0.1, 1e-9]), stray_light=1e-3)
    assert a[0] == pytest.approx(0.0, abs=1e-12)
    assert a[1] == pytest.approx(-np.log10(0.101 / 1.001))
    assert a[2] == pytest.approx(3.0, abs=0.01)  # a black film reads about 3, not infinity
    noisy = film_optics.measured_absorbance(np.full(20000, 0.5), noise=0.003, rng=np.random.default_rng(1))
    assert noisy.std() == pytest.approx(0.003, rel=0.05)


def test_film_parameters_are_checked():
    with pytest.raises(ValueError, match="transition must be 'direct' or 'indirect', got 'forbidden'"):
        film_optics.Film(2.0, "forbidden")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="band_gap_ev must be positive"):
        film_optics.Film(0.0)
    assert film_optics.energy_of(np.array(620.0)) == pytest.approx(1.99975, rel=1e-5)
    assert film_optics.wavelength_of(film_optics.energy_of(np.array(500.0))) == pytest.approx(500.0)
