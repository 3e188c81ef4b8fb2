"""The absorption-onset estimator recovers the band gaps the stand-in spectra were generated from.

Stated tolerance (also in ``study.ONSET_TOLERANCE_EV``): for band
gaps between 1.3 and 5.0 eV, on spectra from 1.1 to 6.2 eV with 0.003
absorbance noise, film texture and stray light, at least 97 % of the onsets lie
within 0.1 eV of the band gap used, and their mean error is under 0.04 eV.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from servables.bandgap_images import film_optics, film_render, onset_estimator, standin_data, study

E = film_optics.ENERGY_GRID_EV


def spectrum(band_gap: float, transition: str, seed: int = 0, thickness_nm: float = 500.0) -> np.ndarray:
    film = film_optics.Film(
        band_gap,
        transition,
        thickness_nm,
        2.2,
        strength=2e5 if transition == "direct" else 5e4,  # type: ignore[arg-type]
    )
    rng = np.random.default_rng(seed)
    d = film_render.thickness_map(rng, 16, thickness_nm)
    return film_render.spectrum(film, d, rng)[1]


@pytest.fixture(scope="module")
def standin(shared_data: Path) -> standin_data.StandIn:
    compounds = standin_data.load_compounds(shared_data / "matminer" / "dielectric_constant.csv")
    return standin_data.generate(compounds, 400, size=16, seed=3)


def test_onsets_recover_the_materials_project_band_gaps_within_the_stated_tolerance(standin):
    assert study.ONSET_TOLERANCE_EV == 0.1
    assert study.ONSET_RANGE_EV == (1.3, 5.0)
    estimated = onset_estimator.estimate_band_gaps(standin.energy_ev, standin.absorbance)
    gaps = standin.band_gaps
    m = study.onset_metrics(gaps, estimated)
    assert m["n_in_range"] > 150  # the real band gaps put most samples in the window
    assert m["fraction_within_tolerance"] >= 0.97
    assert m["mae_eV"] < 0.04
    # both kinds of transition are recovered, not just the easier one
    inside = (gaps >= 1.3) & (gaps <= 5.0)
    for transition in ("direct", "indirect"):
        sel = inside & (standin.table["transition"].to_numpy() == transition)
        err = np.abs(estimated[sel] - gaps[sel])
        assert sel.sum() > 50 and np.nanmedian(err) < 0.05


def test_gaps_outside_the_measured_window_are_not_invented(standin):
    estimated = onset_estimator.estimate_band_gaps(standin.energy_ev, standin.absorbance)
    gaps = standin.band_gaps
    far_below = gaps < 1.0  # the whole spectrum is above the gap: no onset to see
    assert far_below.sum() > 20
    assert np.isnan(estimated[far_below]).all()
    assert np.all(np.isnan(estimated) | ((estimated >= E[0] + 0.1) & (estimated <= E[-1] - 0.1)))


@pytest.mark.parametrize("transition", ["direct", "indirect"])
@pytest.mark.parametrize("gap", [1.5, 2.3, 3.4, 4.6])
def test_each_transition_is_recognised_and_its_onset_found(transition, gap):
    fit = onset_estimator.analyse_spectrum(E, spectrum(gap, transition))
    assert fit["transition"] == transition
    assert fit["band_gap_eV"] == pytest.approx(gap, abs=0.06)
    assert fit["r2"] > 0.995


def test_assuming_the_wrong_transition_misplaces_the_onset():
    a = spectrum(2.5, "indirect")
    right = onset_estimator.analyse_spectrum(E, a, transition="indirect")["band_gap_eV"]
    wrong = onset_estimator.analyse_spectrum(E, a, transition="direct")["band_gap_eV"]
    assert abs(right - 2.5) < 0.05 < abs(wrong - 2.5)


def test_a_film_absorbing_across_the_window_has_no_onset_in_it():
    a = spectrum(0.2, "indirect", thickness_nm=900.0)
    fit = onset_estimator.analyse_spectrum(E, a, max_baseline=10.0)  # without the check, a false edge
    assert np.isfinite(fit["band_gap_eV"]) and fit["baseline"] > 1.0
    assert np.isnan(onset_estimator.analyse_spectrum(E, a)["band_gap_eV"])


def test_a_flat_spectrum_has_no_onset():
    flat = film_optics.measured_absorbance(np.full(E.size, 0.9), noise=0.003, rng=np.random.default_rng(0))
    assert np.isnan(onset_estimator.estimate_band_gaps(E, flat)[0])


def test_inputs_one_or_many_spectra_in_any_energy_order():
    a = np.stack([spectrum(2.0, "direct"), spectrum(3.0, "indirect", seed=1)])
    both = onset_estimator.estimate_band_gaps(E, a)
    assert both.shape == (2,)
    np.testing.assert_allclose(onset_estimator.estimate_band_gaps(E[::-1], a[:, ::-1]), both)
    np.testing.assert_allclose(onset_estimator.estimate_band_gaps(E, a[0]), both[:1])
    with pytest.raises(ValueError, match=r"256 columns \(one per energy\); got shape \(2, 255\)"):
        onset_estimator.estimate_band_gaps(E, a[:, 1:])
    with pytest.raises(ValueError, match="transition must be 'auto', 'direct' or 'indirect'; got 'both'"):
        onset_estimator.estimate_band_gaps(E, a, transition="both")


def test_the_servable_takes_the_edge_window_and_the_transition_as_choices():
    """``method`` and ``transition`` reach every spectrum, and the servable's schema offers
    them as choices (a dropdown in the form, a refusal of anything else)."""
    import typing

    from hub.servables.schema import from_annotation

    a = np.stack([spectrum(2.0, "direct", seed=1), spectrum(3.1, "indirect", seed=2)])
    for method in ("global_max", "first_edge"):
        one_by_one = [
            onset_estimator.analyse_spectrum(E, row, "auto", method=method)["band_gap_eV"] for row in a
        ]
        np.testing.assert_array_equal(onset_estimator.estimate_band_gaps(E, a, method=method), one_by_one)
    hints = typing.get_type_hints(onset_estimator.estimate_band_gaps, include_extras=True)
    assert from_annotation(hints["method"]).choices == ["first_edge", "global_max"]
    assert from_annotation(hints["transition"]).choices == ["auto", "direct", "indirect"]
