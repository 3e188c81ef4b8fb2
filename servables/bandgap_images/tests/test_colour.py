"""Colour science of the stand-in: CIE 1931 functions, D65 white, sRGB, and the colours of films."""

from __future__ import annotations

import numpy as np
import pytest

from servables.bandgap_images import cie_colour, film_optics


def film_colour(band_gap: float, transition: str = "direct", thickness_nm: float = 500.0) -> np.ndarray:
    """CIELAB of white light through a film."""
    film = film_optics.Film(band_gap, transition, thickness_nm, 2.2)  # type: ignore[arg-type]
    t = film.transmittance(film_optics.energy_of(cie_colour.WAVELENGTHS_NM))
    return cie_colour.xyz_to_lab(cie_colour.transmitted_colour(t) @ cie_colour.SRGB_TO_XYZ.T)


def hue_degrees(lab: np.ndarray) -> float:
    return float(np.degrees(np.arctan2(lab[2], lab[1])) % 360)


def test_colour_matching_functions_follow_the_cie_table():
    # CIE 1931 2° values: ybar(555) = 1.0000, xbar(600) = 1.0622, zbar(450) = 1.7721, xbar(445) = 0.3481
    cmf = cie_colour.colour_matching_functions(np.array([555.0, 600.0, 450.0, 445.0]))
    assert cmf[0, 1] == pytest.approx(1.0, abs=0.01)
    assert cmf[1, 0] == pytest.approx(1.0622, rel=0.02)
    assert cmf[2, 2] == pytest.approx(1.7721, rel=0.02)
    assert cmf[3, 0] == pytest.approx(0.3481, rel=0.03)
    assert len(cie_colour.D65) == len(cie_colour.WAVELENGTHS_NM) == 81
    assert cie_colour.D65[cie_colour.WAVELENGTHS_NM.tolist().index(560.0)] == 100.0  # D65 is 100 at 560 nm


def test_white_light_is_the_d65_white_point_and_srgb_white():
    white = np.ones(len(cie_colour.WAVELENGTHS_NM)) @ cie_colour.xyz_weights()
    np.testing.assert_allclose(white, cie_colour.WHITE_XYZ, atol=2e-3)
    np.testing.assert_allclose(cie_colour.xyz_to_linear_srgb(white), [1, 1, 1], atol=2e-3)
    np.testing.assert_allclose(cie_colour.xyz_to_lab(white), [100, 0, 0], atol=0.5)


def test_srgb_transfer_function_round_trips_and_matches_the_standard():
    x = np.linspace(0, 1, 101)
    np.testing.assert_allclose(cie_colour.srgb_decode(cie_colour.srgb_encode(x)), x, atol=1e-12)
    assert cie_colour.srgb_encode(np.array(0.18)) == pytest.approx(0.4613, abs=1e-3)  # mid grey
    assert cie_colour.to_hex(np.array([255, 128, 0])) == "#ff8000"


def test_films_take_the_colours_their_band_gaps_give():
    clear, dark = film_colour(3.6), film_colour(1.2)
    assert clear[0] > 85 and np.hypot(clear[1], clear[2]) < 6  # a wide-gap film is colourless
    assert dark[0] < 20  # everything visible absorbed
    yellow, orange, red = film_colour(2.45), film_colour(2.15), film_colour(1.95)
    assert yellow[2] > 60 and 70 < hue_degrees(yellow) < 110  # CdS-like: yellow
    assert hue_degrees(yellow) > hue_degrees(orange) > hue_degrees(red)  # hue turns toward red
    assert yellow[0] > orange[0] > red[0]  # and darkens as the gap narrows


def test_indirect_films_are_paler_than_direct_ones_with_the_same_gap():
    direct, indirect = film_colour(2.3, "direct"), film_colour(2.3, "indirect")
    assert np.hypot(*indirect[1:]) < np.hypot(*direct[1:])
    assert indirect[0] > direct[0]
