"""The absorption onset (optical band gap) of UV-vis absorbance spectra, by Tauc analysis.

For an allowed transition ``alpha E ∝ (E - Eg)^p`` (p = 1/2 direct, 2 indirect), so
``(alpha E)^(1/p)`` is linear in ``E`` above the gap and extrapolates to zero at
``Eg``.  For each spectrum:

1. subtract the sub-gap baseline (reflection losses, background absorption):
   the smallest value of the lightly smoothed absorbance;
2. drop points beyond the instrument's reliable range (``absorbance >= saturation``);
3. form ``y = (ln(10) A E)^(1/p)`` (proportional to ``(alpha E)^(1/p)``: ``ln(10) A = alpha d``);
4. fit a straight line to the rising edge, the first contiguous run of points
   with ``y`` between ``low`` and ``high`` of its maximum (above the Urbach tail,
   below saturation), and return where the line meets zero.

With ``transition="auto"`` both exponents are tried and the one whose edge is
straighter (higher R²) wins, as a person reading Tauc plots would choose.  An
onset closer than ``margin`` eV to either end of the spectrum cannot be told
apart from the window's edge and is reported as NaN; so is a spectrum with no
edge above the noise, and one that absorbs strongly already at its lowest
energies (baseline absorbance above ``max_baseline``: the gap lies below the
window).
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np

LN10 = float(np.log(10.0))
EXPONENTS = {"direct": 0.5, "indirect": 2.0}


def _smooth(y: np.ndarray, width: int = 5) -> np.ndarray:
    if y.size < width:
        return y
    kernel = np.ones(width) / width
    padded = np.pad(y, width // 2, mode="edge")
    return np.convolve(padded, kernel, mode="valid")


def tauc_fit(
    energy_ev: np.ndarray,
    absorbance: np.ndarray,
    p: float,
    low: float = 0.2,
    high: float = 0.8,
    saturation: float = 2.0,
) -> dict[str, float]:
    """Fit the Tauc edge of one spectrum for exponent ``p``.

    Returns
    -------
    dict
        ``band_gap_eV`` (NaN when no edge is found), ``r2`` of the fit, ``slope``,
        ``intercept`` (of ``y`` against ``E``), the fitted range ``e_low``/``e_high``,
        the ``baseline`` absorbance and ``edge_height`` (the absorbance rise over the
        baseline, for the noise test).
    """
    e = np.asarray(energy_ev, dtype=float)
    a = np.asarray(absorbance, dtype=float)
    nan = {"band_gap_eV": np.nan, "r2": np.nan, "slope": np.nan, "intercept": np.nan}
    nan.update(e_low=np.nan, e_high=np.nan, baseline=np.nan, edge_height=0.0)
    ok = np.isfinite(a) & np.isfinite(e)
    e, a = e[ok], a[ok]
    if e.size < 8:
        return nan
    order = np.argsort(e)
    e, a = e[order], a[order]
    smooth = _smooth(a)
    baseline = float(smooth.min())
    nan["baseline"] = baseline
    usable = smooth < saturation
    if usable.sum() < 8:
        return nan
    rise = np.clip(a - baseline, 0.0, None)
    y = np.power(LN10 * rise * e, 1.0 / p)
    ys = np.power(LN10 * np.clip(smooth - baseline, 0.0, None) * e, 1.0 / p)
    ys = np.where(usable, ys, np.nan)
    top = int(np.nanargmax(ys))
    y_max = ys[top]
    edge_height = float(np.nanmax(np.where(usable, smooth, np.nan)) - baseline)
    if not y_max > 0:
        return {**nan, "edge_height": edge_height}
    # the rising edge: the contiguous run below the maximum that lies between low and high
    inside = (ys >= low * y_max) & (ys <= high * y_max)
    idx = np.flatnonzero(inside[: top + 1])
    if idx.size < 3:
        return {**nan, "edge_height": edge_height}
    last = idx[-1]
    run = [last]
    for i in idx[-2::-1]:
        if i == run[-1] - 1:
            run.append(i)
        else:
            break
    sel = np.array(run[::-1])
    if sel.size < 3:
        return {**nan, "edge_height": edge_height}
    slope, intercept = np.polyfit(e[sel], y[sel], 1)
    fitted = slope * e[sel] + intercept
    ss_res = float(((y[sel] - fitted) ** 2).sum())
    ss_tot = float(((y[sel] - y[sel].mean()) ** 2).sum())
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else np.nan
    gap = -intercept / slope if slope > 0 else np.nan
    return {
        "band_gap_eV": float(gap),
        "r2": float(r2),
        "slope": float(slope),
        "intercept": float(intercept),
        "e_low": float(e[sel[0]]),
        "e_high": float(e[sel[-1]]),
        "baseline": baseline,
        "edge_height": edge_height,
    }


def analyse_spectrum(
    energy_ev: np.ndarray,
    absorbance: np.ndarray,
    transition: str = "auto",
    margin: float = 0.1,
    min_edge: float = 0.05,
    max_baseline: float = 1.0,
) -> dict[str, Any]:
    """The onset of one spectrum with its fit: ``band_gap_eV``, ``transition``, ``r2``, ...

    Parameters
    ----------
    energy_ev, absorbance
        The spectrum (any order of energies).
    transition
        ``"direct"``, ``"indirect"`` or ``"auto"`` (the straighter Tauc edge).
    margin
        Onsets within this many eV of the spectrum's ends are reported as NaN.
    min_edge
        An absorbance rise smaller than this is no edge (NaN).
    max_baseline
        A spectrum whose lowest absorbance exceeds this absorbs across the whole
        window: its gap lies below it (NaN).
    """
    if transition not in ("auto", *EXPONENTS):
        raise ValueError(f"transition must be 'auto', 'direct' or 'indirect'; got {transition!r}")
    names = list(EXPONENTS) if transition == "auto" else [transition]
    fits = {name: tauc_fit(energy_ev, absorbance, EXPONENTS[name]) for name in names}
    scored = [n for n in names if np.isfinite(fits[n]["r2"]) and np.isfinite(fits[n]["band_gap_eV"])]
    best = max(scored, key=lambda n: fits[n]["r2"]) if scored else names[0]
    fit = dict(fits[best])
    e = np.asarray(energy_ev, dtype=float)
    gap = fit["band_gap_eV"]
    within = np.isfinite(gap) and (np.nanmin(e) + margin <= gap <= np.nanmax(e) - margin)
    if not within or fit["edge_height"] < min_edge or not fit["baseline"] <= max_baseline:
        fit["band_gap_eV"] = float("nan")
    return {"transition": best, **fit}


def estimate_band_gaps(
    energy_eV: Annotated[np.ndarray, (None,), "photon energies of the spectra, in eV"],
    absorbance: Annotated[
        np.ndarray, (None, None), "decadic absorbance, one spectrum per row (or one 1-D spectrum)"
    ],
    transition: str = "auto",
) -> Annotated[np.ndarray, (None,), "the optical band gap (eV) of each spectrum; NaN where none is found"]:
    """Absorption-onset (Tauc) band gaps of UV-vis absorbance spectra.

    Parameters
    ----------
    energy_eV
        Photon energies (eV) shared by all spectra.
    absorbance
        Decadic absorbance ``-log10(T)``: one spectrum per row.
    transition
        "direct" (Tauc exponent 1/2), "indirect" (2) or "auto" (the straighter edge).

    Returns
    -------
    numpy.ndarray
        The onset energy of each spectrum (eV); NaN where it lies outside the
        measured window or no absorption edge rises above the noise.
    """
    e = np.asarray(energy_eV, dtype=float).ravel()
    a = np.asarray(absorbance, dtype=float)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2 or a.shape[1] != e.size:
        raise ValueError(
            f"absorbance must have one row per spectrum and {e.size} columns (one per energy); "
            f"got shape {a.shape}"
        )
    return np.array([analyse_spectrum(e, row, transition)["band_gap_eV"] for row in a])
