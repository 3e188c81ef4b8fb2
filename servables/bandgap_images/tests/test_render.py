"""Rendering: thickness texture, the camera's noise, and a spectrum of the same spot."""

from __future__ import annotations

import numpy as np
import pytest

from servables.bandgap_images import cie_colour, film_optics, film_render

FILM = film_optics.Film(2.4, "direct", 500.0, 2.3)


def test_thickness_map_has_the_texture_asked_for():
    rng = np.random.default_rng(0)
    d = film_render.thickness_map(rng, 64, 500.0, film_render.Texture(variation=0.1, grain=0.0))
    assert d.shape == (64, 64) and d.min() > 0
    assert d.mean() == pytest.approx(500.0, rel=0.02)
    assert d.std() / d.mean() == pytest.approx(0.1, rel=0.05)
    # smooth: neighbours are far more alike than pixels across the image
    assert np.abs(np.diff(d, axis=1)).mean() < 0.3 * np.abs(d - d.mean()).mean()
    flat = film_render.thickness_map(rng, 32, 500.0, film_render.Texture(variation=0.0, grain=0.0))
    np.testing.assert_allclose(flat, 500.0)


def test_rendering_is_reproducible_from_the_seed():
    a = film_render.render_sample(FILM, np.random.default_rng(7), size=16)
    b = film_render.render_sample(FILM, np.random.default_rng(7), size=16)
    c = film_render.render_sample(FILM, np.random.default_rng(8), size=16)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[2], b[2])
    assert not np.array_equal(a[0], c[0])
    assert a[0].dtype == np.uint8 and a[0].shape == (16, 16, 3)


def test_camera_noise_is_shot_plus_read_noise():
    camera = film_render.Camera(exposure=1.0, full_well=2500.0, read_noise=5.0, vignetting=0.0)
    grey = np.full((200, 200, 3), 0.2)
    image = film_render.expose(grey, np.random.default_rng(0), camera)
    linear = cie_colour.srgb_decode(image / 255.0)
    electrons = linear * camera.full_well
    assert electrons.mean() == pytest.approx(500.0, rel=0.01)
    expected = np.sqrt(500.0 + 5.0**2)  # Poisson variance = signal, plus read noise
    assert electrons.std() == pytest.approx(expected, rel=0.1)  # 8-bit quantisation adds a little


def test_lens_falloff_darkens_the_corners():
    f = film_render.lens_falloff(33, 0.06)
    assert f[16, 16] == pytest.approx(1.0) and f[0, 0] == pytest.approx(0.94)


def test_the_image_has_the_films_colour_and_the_spectrum_is_of_the_same_spot():
    rng = np.random.default_rng(3)
    image, *_ = film_render.render_sample(FILM, rng, size=24)
    mean = image.reshape(-1, 3).mean(axis=0)
    assert mean[0] > 150 and mean[1] > 120 and mean[2] < 90  # yellow, as a 2.4 eV film is
    rng = np.random.default_rng(4)
    d = film_render.thickness_map(rng, 24, FILM.thickness_nm)
    t_avg, _ = film_render.spectrum(FILM, d, rng, noise=0.0)
    per_pixel = FILM.transmittance(film_optics.ENERGY_GRID_EV, d.reshape(-1, 1))
    np.testing.assert_allclose(t_avg, per_pixel.mean(axis=0))
    # averaging over a textured spot is not the transmittance of the mean thickness
    assert not np.allclose(t_avg, FILM.transmittance(film_optics.ENERGY_GRID_EV, d.mean()), rtol=1e-3)
