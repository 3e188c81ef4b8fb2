"""The study's figures draw what they say (no display needed)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.figure import Figure

from servables.bandgap_images import film_optics, film_render, plots


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def test_latent_map_draws_each_sample_in_its_colour_sized_by_band_gap():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (40, 8, 8, 3), dtype=np.uint8)
    colours = plots.mean_colours(images)
    gaps = np.linspace(0.5, 5.0, 40)
    embedding = plots.tsne_embedding(rng.normal(size=(40, 6)), seed=0)
    assert embedding.shape == (40, 2)
    fig = plots.latent_map(embedding, colours, gaps)
    assert isinstance(fig, Figure)
    points = fig.axes[0].collections[0]
    np.testing.assert_allclose(points.get_offsets(), embedding)
    sizes = points.get_sizes()
    assert np.all(np.diff(sizes) > 0)  # bigger band gap, bigger point
    np.testing.assert_allclose(points.get_facecolors()[:, :3], colours, atol=1e-6)


def test_onset_recovery_and_spectra_figures():
    e = film_optics.ENERGY_GRID_EV
    rng = np.random.default_rng(1)
    spectra = []
    for gap, transition in [(2.0, "direct"), (3.2, "indirect")]:
        film = film_optics.Film(gap, transition, 500, 2.0, strength=2e5 if transition == "direct" else 5e4)
        spectra.append(film_render.spectrum(film, np.full((4, 4), 500.0), rng)[1])
    fig = plots.spectra(
        e, np.array(spectra), [2.0, 3.2], [2.01, 3.19], labels=["A", "B"], colours=np.eye(3)[:2]
    )
    left, right = fig.axes[:2]
    assert len(left.get_lines()) == 4  # two spectra, two band-gap markers
    assert len(right.get_lines()) >= 4  # two Tauc curves with their fitted edges
    true = np.array([0.5, 1.5, 2.5, 3.5])
    est = np.array([np.nan, 1.52, 2.49, 3.55])
    fig = plots.onset_recovery(true, est)
    assert "3 of 4 spectra" in fig.axes[0].get_title()
    np.testing.assert_allclose(fig.axes[1].collections[0].get_offsets()[:, 1], [0.02, -0.01, 0.05], atol=1e-9)


def test_other_figures_build():
    images = np.zeros((4, 8, 8, 3), dtype=np.uint8)
    assert len(plots.sample_grid(images, ["a", "b"], ncols=2).axes) == 4
    fig = plots.reconstructions(images, np.zeros((4, 8, 8, 3)), n=3)
    assert len(fig.axes) == 6
    fig = plots.colour_model_errors(np.array([1.0, 2.0]), np.array([1.5, 2.0]), np.zeros((2, 3)))
    assert "MAE 0.25 eV" in fig.axes[0].get_title()
    strip = plots.colour_strip(np.linspace(1.5, 3.5, 5))
    assert strip.axes[0].images[0].get_array().shape == (1, 5, 3)
