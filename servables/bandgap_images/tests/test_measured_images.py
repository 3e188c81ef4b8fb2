"""Images rendered from measured n and k (refractiveindex.info); the colour model on unseen materials."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from servables.bandgap_images import cie_colour, colour_clusters, film_optics, film_render
from servables.bandgap_images import measured_images as mi
from servables.bandgap_images import measured_spectra as ms


@pytest.fixture(scope="module")
def database() -> Any:
    try:
        return ms.require_database()
    except ImportError:
        pytest.skip(f"the '{ms.PACKAGE}' package (measured n and k) is not installed")


def material(formula: str) -> ms.Material:
    return next(m for m in (*mi.MATERIALS, *ms.UNRESOLVED) if m.formula == formula)


def mean_lab(images: np.ndarray) -> np.ndarray:
    return np.asarray(colour_clusters.MeanColour().transform(images)[:, :3].mean(axis=0))


def test_a_measured_film_of_tauc_constants_is_the_tauc_film() -> None:
    """The measured-n,k path and the Tauc path give the same light for the same n and k."""
    film = film_optics.Film(2.3, "direct", 600.0, 2.5)
    energy = np.sort(film_optics.energy_of(cie_colour.WAVELENGTHS_NM))
    k = film.alpha(energy) * film_optics.wavelength_of(energy) * 1e-7 / (4 * np.pi)
    measured = mi.MeasuredFilm(ms.OpticalConstants(energy, np.full_like(energy, 2.5), k), 600.0)
    d = np.array([[300.0], [600.0], [900.0]])
    visible = film_optics.energy_of(cie_colour.WAVELENGTHS_NM)
    np.testing.assert_allclose(measured.transmittance(visible, d), film.transmittance(visible, d), rtol=1e-9)
    image_a = film_render.pixel_colours(measured, np.full((4, 4), 600.0))
    image_b = film_render.pixel_colours(film, np.full((4, 4), 600.0))
    np.testing.assert_allclose(image_a, image_b, rtol=1e-9)
    with pytest.raises(ValueError, match="outside the measured n and k"):
        measured.transmittance(np.array([1.0, 2.0]))


def test_coherent_films_average_to_the_incoherent_film_and_show_fringes() -> None:
    """Over a thickness spread of many fringes the Airy transmittance is the incoherent sum of
    reflections; a single thickness shows fringes around it; a strongly absorbing film none."""
    energy = np.linspace(1.6, 3.2, 9)
    clear = ms.OpticalConstants(energy, np.full_like(energy, 2.5), np.zeros_like(energy))
    d = np.linspace(10_000.0, 110_000.0, 400_001)[:, None]  # ~1000 fringes
    averaged = mi.coherent_transmittance(clear, d).mean(axis=0)
    np.testing.assert_allclose(averaged, ms.sample_transmittance(clear, 5500.0), atol=1e-3)
    one = mi.coherent_transmittance(clear, np.array([[500.0]]))[0]
    assert np.ptp(one) > 0.1  # interference: the transmittance swings with the wavelength
    dark = ms.OpticalConstants(energy, np.full_like(energy, 2.5), np.full_like(energy, 0.3))
    # (to the interfaces' complex Fresnel coefficients, which the incoherent sum takes as real)
    np.testing.assert_allclose(
        mi.coherent_transmittance(dark, 2000.0), ms.sample_transmittance(dark, 2000.0), rtol=1e-2
    )


def test_pages_are_used_only_where_they_cover_the_visible_and_resolve_the_edge(database: Any) -> None:
    for m in mi.MATERIALS:
        ok, why = mi.colour_admitted(m)
        assert ok == (m.formula != "Ge"), (m.formula, why)
    assert "not the visible" in mi.colour_admitted(material("Ge"))[1]  # Amotchkina's data start at 400 nm
    for m in ms.UNRESOLVED:
        ok, why = mi.colour_admitted(m)
        assert not ok and "sub-gap not resolved" in why
    assert all(m.reference in mi.REFERENCES for m in mi.MATERIALS)
    assert {m.formula for m in mi.ADDED}.isdisjoint({m.formula for m in ms.MATERIALS})


def test_real_films_take_their_real_colours(database: Any) -> None:
    """CdS films are yellow, hematite red, diamond colourless, GaSb black; silicon films pass
    light although its gap (1.12 eV) is below the visible: its edge is indirect."""
    lab = {
        f: mean_lab(mi.render_material(material(f), 2, size=8, seed=1)[0])
        for f in ("CdS", "Fe2O3", "C (diamond)", "GaSb", "Si")
    }
    hue = {f: float(np.degrees(np.arctan2(v[2], v[1])) % 360) for f, v in lab.items()}
    assert lab["CdS"][2] > 60 and 60 < hue["CdS"] < 100
    assert lab["Fe2O3"][1] > 20 and hue["Fe2O3"] < hue["CdS"]
    assert lab["C (diamond)"][0] > 85 and np.hypot(*lab["C (diamond)"][1:]) < 5
    assert lab["GaSb"][0] < 5
    assert lab["Si"][0] > 40


def test_rendering_is_reproducible_and_draws_the_standins_thicknesses(database: Any) -> None:
    a, da = mi.render_material(material("CdS"), 3, size=8, seed=4, index=2)
    b, db = mi.render_material(material("CdS"), 3, size=8, seed=4, index=2)
    c, _ = mi.render_material(material("CdS"), 3, size=8, seed=5, index=2)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(da, db)
    assert not np.array_equal(a, c)
    assert a.dtype == np.uint8 and a.shape == (3, 8, 8, 3)
    assert np.all((da >= 250.0) & (da <= 900.0))


def test_the_colour_model_on_materials_it_never_saw(database: Any, shared_data: Path) -> None:
    """Trained on the Tauc stand-in, it beats the training median on measured-n,k images
    (clearly so for gaps in the visible); trained on the other materials' images, too."""
    res = mi.evaluate(str(shared_data), n_standin=160, n_per_material=3, size=16, seed=0)
    assert len(res["materials"]) == 15 and set(res["excluded"]) == {"Ge"}
    tr = res["transfer"]
    adm = tr["admitted"]
    assert adm["n_materials"] == 15 and adm["n_visible"] == 5
    assert adm["mae_eV"] < adm["baseline_mae_eV"]
    assert adm["visible_mae_eV"] < 0.5 * adm["visible_baseline_mae_eV"]
    assert tr["standin"]["mae_eV"] < tr["standin"]["baseline_mae_eV"]
    assert tr["unresolved"]["n_materials"] == 6
    coh = tr["coherent"]  # the same films with their interference: the figure barely moves
    assert coh["n_materials"] == 15 and coh["mae_eV"] < coh["baseline_mae_eV"]
    lomo = res["leave_one_material_out"]["summary"]
    assert lomo["n_materials"] == 15 and lomo["mae_eV"] < lomo["baseline_mae_eV"]
    rows = tr["rows_admitted"].set_index("formula")
    # colour cannot place diamond's 5.5 eV gap: a clear film says only "above ~3.1 eV"
    assert rows.loc["C (diamond)", "mae_ev"] > 1.0
