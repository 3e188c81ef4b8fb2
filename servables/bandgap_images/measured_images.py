"""Film images rendered from MEASURED optical constants; the colour model judged on unseen materials.

The stand-in's images (:mod:`standin_data`) are rendered from the Tauc edge that
:mod:`film_optics` puts at each Materials Project gap, so the colour model's
figure there (``study.run_study``, test MAE against the median gap) is
synthetic to synthetic: a self-consistency check.  Here the film's light comes
from what someone measured instead.

What is measured
    ``n(λ)`` and ``k(λ)`` of each material over the whole visible range
    (380-780 nm), from the refractiveindex.info database shipped by the
    ``refractiveindex`` package (the page named in :data:`MATERIALS`), and the
    room-temperature gap each is compared with, from the literature (its key in
    :data:`REFERENCES`).  Nothing else about the material is used: not its gap,
    nor a Tauc form, nor an Urbach energy.

What is modelled
    A film of that material on glass (``alpha = 4 pi k / λ``; incoherent multiple
    reflections with the measured, dispersive ``n``, as
    :func:`measured_spectra.sample_transmittance`, so that only the absorption
    differs from the stand-in, which has no interference fringes either; with
    ``coherent=True`` the film's interference is kept, :func:`coherent_transmittance`,
    a check of that choice), its mean thickness drawn log-uniformly from
    the stand-in's range (:data:`standin_data.THICKNESS_NM`) per image, and
    everything after the film exactly as the stand-in renders it
    (:mod:`film_render`: the thickness texture, D65 light, the CIE 1931 observer
    and sRGB of :mod:`cie_colour`, lens fall-off, shot and read noise, 8 bits).

Materials (:data:`MATERIALS`): the admitted pages of
:data:`measured_spectra.MATERIALS` (the same pages the onset estimator is
validated on) and five more with an edge in or near the visible
(:data:`ADDED`); a page is used when its n and k cover the visible and
:func:`measured_spectra.admitted` holds (its sub-gap ``k`` is resolved).  The
pages of :data:`measured_spectra.UNRESOLVED` (sub-gap ``k`` ~0.05: a
transparent crystal drawn grey) are rendered and reported apart, never in the
headline.

Two tests on materials the model never saw (:func:`evaluate`):

* ``transfer``: the colour model as the servable trains it (12 k-means colour
  clusters, :func:`colour_clusters.make_model`) on the stand-in's training
  images (Materials Project PBE gaps, Tauc-rendered) predicts every image of
  every measured material.  The baseline predicts the median gap of those
  training images.  The same model on the stand-in's test images is the
  self-consistency check.
* ``leave_one_material_out``: for each material, the same model trained on the
  measured-n,k images of all the others (labelled with their literature gaps)
  predicts its images; the baseline predicts the median of those labels.

An error is the mean of ``|predicted - literature gap|`` over a material's images,
then the mean over materials (each counts once); :func:`summary` also splits
it by what a film's colour can show: gaps below ~1.7 eV (``dark``: all visible
light absorbed, every such film looks black or brown), 1.7-3.1 eV (``visible``:
the hue follows the edge) and above ~3.1 eV (``clear``: colourless).  Colour
reads where absorption becomes strong in the visible, not the gap: a thin film
of an indirect semiconductor is coloured by its direct transitions (silicon,
indirect gap 1.12 eV, transmits red and orange as a 500 nm film), and below
1.7 eV or above 3.1 eV colour carries no more than the class.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import cie_colour, colour_clusters, film_optics, film_render, measured_spectra, standin_data, study
from .measured_spectra import FILM_NM, Material, OpticalConstants

#: The visible range the colour integrals need (nm).
VISIBLE_NM = (float(cie_colour.WAVELENGTHS_NM.min()), float(cie_colour.WAVELENGTHS_NM.max()))
#: The servable's number of colour clusters, used in both tests (fixed, not tuned here).
N_CLUSTERS = 12

#: References of the gaps of :data:`ADDED` (with those of :mod:`measured_spectra`).
REFERENCES = {
    **measured_spectra.REFERENCES,
    "kam1982": "K. K. Kam, B. A. Parkinson, J. Phys. Chem. 86, 463 (1982): indirect gaps of bulk "
    "MoS2 (1.23 eV) and WS2 (1.35 eV) from photocurrent spectra, room temperature",
    "zakery2003": "A. Zakery, S. R. Elliott, J. Non-Cryst. Solids 330, 1 (2003): optical (Tauc) gap "
    "of As2S3 glass, ~2.4 eV",
}

#: Pages added for the images: edges in or near the visible, sub-gap k resolved (amorphous As2S3's
#: Tauc gap counts as "indirect", the exponent p = 2 such gaps are read with).
ADDED: tuple[Material, ...] = (
    Material("InP", "InP", "Adachi", "Adachi 1989", 1.34, "direct", "sze2007", FILM_NM, "held_out"),
    Material("AlAs", "AlAs", "Rakic", "Rakić and Majewski 1996", 2.16, "indirect", "sze2007", FILM_NM, "held_out"),
    Material("MoS2", "MoS2", "Beal", "Beal and Hughes 1979 (bulk)", 1.23, "indirect", "kam1982", FILM_NM, "held_out"),
    Material("WS2", "WS2", "Munkhbat-o", "Munkhbat et al. 2022 (o)", 1.35, "indirect", "kam1982", FILM_NM, "held_out"),
    Material("As2S3 (glass)", "As2S3", "Synowicki", "Synowicki and Tiwald 2004", 2.40, "indirect", "zakery2003", FILM_NM, "held_out"),
)  # fmt: skip

#: Every page tried for the images: those of the onset validation, then the added ones.
MATERIALS: tuple[Material, ...] = (*measured_spectra.MATERIALS, *ADDED)


@dataclass(frozen=True)
class MeasuredFilm:
    """A film whose light is computed from measured ``n`` and ``k`` (a :class:`film_render.Absorber`).

    Attributes
    ----------
    constants
        The measured ``n`` and ``k`` on an increasing energy grid (eV).
    thickness_nm
        The mean thickness, used when :meth:`transmittance` is given none.
    coherent
        Keep the film's thin-film interference (:func:`coherent_transmittance`) instead of
        the incoherent sum of its reflections (the stand-in's optics).
    """

    constants: OpticalConstants
    thickness_nm: float = FILM_NM
    coherent: bool = False

    def transmittance(
        self, energy_ev: np.ndarray, thickness_nm: np.ndarray | float | None = None
    ) -> np.ndarray:
        """Transmittance of the film on glass at ``energy_ev`` (last axis), relative to the glass.

        Parameters
        ----------
        energy_ev
            Photon energies inside the measured range (n and k are interpolated linearly).
        thickness_nm
            One thickness, or many with a trailing axis of 1 (``d[:, None]``).

        Raises
        ------
        ValueError
            When an energy lies outside the measured range (nothing is extrapolated).
        """
        e = np.asarray(energy_ev, dtype=float)
        grid = self.constants.energy_ev
        if e.min() < grid[0] - 1e-9 or e.max() > grid[-1] + 1e-9:
            raise ValueError(
                f"energies {e.min():.3f}-{e.max():.3f} eV lie outside the measured n and k "
                f"({grid[0]:.3f}-{grid[-1]:.3f} eV); nothing is extrapolated"
            )
        at = OpticalConstants(e, np.interp(e, grid, self.constants.n), np.interp(e, grid, self.constants.k))
        d = self.thickness_nm if thickness_nm is None else thickness_nm
        if self.coherent:
            return coherent_transmittance(at, d)
        return measured_spectra.sample_transmittance(at, d)


def coherent_transmittance(constants: OpticalConstants, thickness_nm: np.ndarray | float) -> np.ndarray:
    """Transmittance into the glass of a film with interference (Airy), relative to the bare glass.

    The film (complex index ``N = n + i k``) between air and glass is coherent; the
    glass's back surface is left out, as in :func:`measured_spectra.sample_transmittance`:

        t = t01 t12 e^{i delta} / (1 + r01 r12 e^{2 i delta}),   delta = 2 pi N d / λ,
        T = n_s |t|² / (1 - R(air, glass)).

    Averaged over a thickness spread of many fringes it is the incoherent result.
    """
    big_n = np.clip(constants.n, 1.0, None) + 1j * np.clip(constants.k, 0.0, None)
    ns = film_optics.GLASS_INDEX
    delta = 2 * np.pi * big_n * np.asarray(thickness_nm) / film_optics.wavelength_of(constants.energy_ev)
    r01, r12 = (1 - big_n) / (1 + big_n), (big_n - ns) / (big_n + ns)
    t01, t12 = 2 / (1 + big_n), 2 * big_n / (big_n + ns)
    phase = np.exp(1j * delta)
    t = t01 * t12 * phase / (1 + r01 * r12 * phase**2)
    bare = 1.0 - film_optics.interface_reflectance(1.0, ns)
    return np.asarray(ns * np.abs(t) ** 2 / bare)


def visible_constants(material: Material) -> OpticalConstants:
    """Measured ``n`` and ``k`` of ``material``'s page at the colour integrals' wavelengths.

    Raises
    ------
    ValueError
        When the page's n and k data do not both cover :data:`VISIBLE_NM`.
    ImportError
        Without the ``refractiveindex`` package.
    """
    ri = measured_spectra.require_database()
    page = ri.RefractiveIndexMaterial(shelf="main", book=material.book, page=material.page)
    try:
        lo, hi = page.get_wl_range(unit="nm", quantity="nk")
        has_k = page.get_wl_range(unit="nm", quantity="k") is not None
    except (ValueError, ri.NoExtinctionCoefficient) as exc:
        raise ValueError(f"{material.book}/{material.page}: {exc}") from exc
    if not has_k or lo > VISIBLE_NM[0] + 1e-6 or hi < VISIBLE_NM[1] - 1e-6:
        raise ValueError(
            f"{material.book}/{material.page}: n and k data cover {lo:.0f}-{hi:.0f} nm, "
            f"not the visible {VISIBLE_NM[0]:.0f}-{VISIBLE_NM[1]:.0f} nm"
        )
    wavelengths = cie_colour.WAVELENGTHS_NM[::-1]  # increasing energy
    n = np.asarray(page.get_refractive_index(wavelengths, unit="nm"), dtype=float)
    k = np.asarray(page.get_extinction_coefficient(wavelengths, unit="nm"), dtype=float)
    return OpticalConstants(film_optics.energy_of(wavelengths), n, k)


def colour_admitted(material: Material) -> tuple[bool, str]:
    """Whether ``material`` can be rendered and judged: n and k over the visible, its edge resolved."""
    try:
        visible_constants(material)
    except ValueError as exc:
        return False, str(exc)
    return measured_spectra.admitted(material, measured_spectra.optical_constants(material))


@dataclass
class MeasuredImages:
    """Images rendered from measured n and k: one table row per image, and the images."""

    table: pd.DataFrame
    images: np.ndarray  # (n, size, size, 3) uint8

    @property
    def band_gaps(self) -> np.ndarray:
        """The literature gap of each image's material (eV)."""
        return np.asarray(self.table["gap_ev"], dtype=float)

    @property
    def formulas(self) -> list[str]:
        """The materials, in the order they were rendered."""
        return list(dict.fromkeys(self.table["formula"]))


def render_material(
    material: Material,
    n_images: int,
    size: int = 32,
    seed: int = 0,
    index: int = 0,
    coherent: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """``n_images`` photographs of films of ``material`` and their mean thicknesses (nm).

    Each image has its own thickness (log-uniform in :data:`standin_data.THICKNESS_NM`)
    and its own texture and camera noise, from generators seeded by ``(seed, index, i)``;
    ``coherent`` keeps the film's interference (:class:`MeasuredFilm`).
    """
    constants = visible_constants(material)
    weights = cie_colour.xyz_weights()
    lo, hi = np.log(standin_data.THICKNESS_NM[0]), np.log(standin_data.THICKNESS_NM[1])
    thickness = np.round(np.exp(np.random.default_rng([seed, index]).uniform(lo, hi, n_images)), 1)
    images = np.empty((n_images, size, size, 3), dtype=np.uint8)
    for i, d in enumerate(thickness):
        rng = np.random.default_rng([seed, index, i])
        film = MeasuredFilm(constants, float(d), coherent)
        light = film_render.pixel_colours(
            film, film_render.thickness_map(rng, size, film.thickness_nm), weights
        )
        images[i] = film_render.expose(light, rng)
    return images, thickness


def render(
    materials: tuple[Material, ...],
    n_per_material: int = 8,
    size: int = 32,
    seed: int = 0,
    coherent: bool = False,
) -> MeasuredImages:
    """Render ``n_per_material`` images of each of ``materials`` (the i-th material seeded with ``i``)."""
    rows: list[dict[str, Any]] = []
    blocks = []
    for index, m in enumerate(materials):
        images, thickness = render_material(m, n_per_material, size, seed, index, coherent)
        blocks.append(images)
        for d, image in zip(thickness, images):
            rows.append(
                {
                    "formula": m.formula,
                    "page": f"{m.book}/{m.page}",
                    "data": m.data,
                    "gap_ev": m.gap_ev,
                    "transition": m.transition,
                    "reference": m.reference,
                    "thickness_nm": float(d),
                    "colour": cie_colour.to_hex(image.reshape(-1, 3).mean(axis=0)),
                }
            )
    return MeasuredImages(pd.DataFrame(rows), np.concatenate(blocks))


def gap_class(gap_ev: float) -> str:
    """What a film's colour can show of a gap: ``dark``, ``visible`` or ``clear`` (study.VISIBLE_RANGE_EV)."""
    lo, hi = study.VISIBLE_RANGE_EV
    return "dark" if gap_ev < lo else "clear" if gap_ev > hi else "visible"


def per_material(
    measured: MeasuredImages, predicted: np.ndarray, baseline: np.ndarray | float
) -> pd.DataFrame:
    """One row per material: literature gap, mean and range of the predictions, errors of model and
    baseline, and the mean colour of its first image (``example_colour``)."""
    df = measured.table[["formula", "gap_ev", "colour"]].copy()
    df["predicted_ev"] = predicted
    df["error"] = np.abs(predicted - df["gap_ev"])
    df["baseline_error"] = np.abs(np.broadcast_to(baseline, len(df)) - df["gap_ev"])
    out = (
        df.groupby("formula", sort=False)
        .agg(
            gap_ev=("gap_ev", "first"),
            predicted_mean_ev=("predicted_ev", "mean"),
            predicted_min_ev=("predicted_ev", "min"),
            predicted_max_ev=("predicted_ev", "max"),
            mae_ev=("error", "mean"),
            baseline_mae_ev=("baseline_error", "mean"),
            example_colour=("colour", "first"),
        )
        .reset_index()
    )
    out["class"] = [gap_class(g) for g in out["gap_ev"]]
    return out


def summary(rows: pd.DataFrame) -> dict[str, float]:
    """Mean over materials of the model's and the baseline's errors, overall and by :func:`gap_class`."""
    out = {
        "n_materials": float(len(rows)),
        "mae_eV": float(rows["mae_ev"].mean()),
        "baseline_mae_eV": float(rows["baseline_mae_ev"].mean()),
    }
    for cls in ("dark", "visible", "clear"):
        part = rows[rows["class"] == cls]
        out[f"n_{cls}"] = float(len(part))
        out[f"{cls}_mae_eV"] = float(part["mae_ev"].mean()) if len(part) else float("nan")
        out[f"{cls}_baseline_mae_eV"] = float(part["baseline_mae_ev"].mean()) if len(part) else float("nan")
    return out


def transfer(
    standin: standin_data.StandIn,
    measured: dict[str, MeasuredImages],
    test_fraction: float = 0.25,
    seed: int = 0,
) -> dict[str, Any]:
    """The colour model trained on the stand-in's training images, judged on measured-n,k images.

    Parameters
    ----------
    standin
        The Tauc-rendered stand-in (Materials Project gaps).
    measured
        Image sets to judge on, by name (e.g. ``"admitted"`` and ``"unresolved"``).
    test_fraction, seed
        The stand-in's split (:func:`study.split_indices`) and the model's seed.

    Returns
    -------
    dict
        ``standin`` (the self-consistency check on the stand-in's test images:
        ``mae_eV``, ``baseline_mae_eV``), ``training_median_eV``, and for each
        name of ``measured`` its :func:`summary` and its ``rows_<name>`` (per material).
    """
    gaps = standin.band_gaps
    train, test = study.split_indices(len(gaps), test_fraction, seed)
    model = colour_clusters.make_model(N_CLUSTERS, seed).fit(standin.images[train], gaps[train])
    median = float(np.median(gaps[train]))
    check = study.regression_metrics(gaps[test], model.predict(standin.images[test]), median)
    out: dict[str, Any] = {
        "training_median_eV": median,
        "standin": {"mae_eV": check["test_mae_eV"], "baseline_mae_eV": check["baseline_mae_eV"]},
    }
    for name, images in measured.items():
        rows = per_material(images, model.predict(images.images), median)
        out[name] = summary(rows)
        out[f"rows_{name}"] = rows
    return out


def leave_one_material_out(measured: MeasuredImages, seed: int = 0) -> dict[str, Any]:
    """For each material, the colour model trained on the other materials' images predicts its own.

    Returns
    -------
    dict
        ``summary`` (:func:`summary`) and ``rows`` (per material; the baseline is the
        median literature gap of the training images of that material's fold).
    """
    gaps = measured.band_gaps
    formula = measured.table["formula"].to_numpy()
    predicted = np.empty(len(gaps))
    baseline = np.empty(len(gaps))
    for f in measured.formulas:
        out = formula == f
        model = colour_clusters.make_model(N_CLUSTERS, seed).fit(measured.images[~out], gaps[~out])
        predicted[out] = model.predict(measured.images[out])
        baseline[out] = np.median(gaps[~out])
    rows = per_material(measured, predicted, baseline)
    return {"summary": summary(rows), "rows": rows}


def evaluate(
    data_root: str | None = None,
    n_standin: int = 400,
    n_per_material: int = 8,
    size: int = 32,
    seed: int = 0,
) -> dict[str, Any]:
    """Both tests: the stand-in-trained model on measured-n,k images, and leave one material out.

    Parameters
    ----------
    data_root
        Where ``matminer/dielectric_constant.csv`` is (:func:`standin_data.dielectric_csv`).
    n_standin
        Stand-in images (75 % train the transferred model, 25 % check it).
    n_per_material, size, seed
        Measured-n,k images per material, their size in pixels, and the seed of all draws.

    Returns
    -------
    dict
        ``materials`` (admitted: formula, page, gap, reference), ``excluded``
        (formula -> reason), ``transfer`` (:func:`transfer` on ``admitted``, on
        ``coherent``, the admitted materials with their films' interference, and on
        ``unresolved``) and ``leave_one_material_out``.
    """
    admitted, excluded = [], {}
    for m in MATERIALS:
        ok, why = colour_admitted(m)
        if ok:
            admitted.append(m)
        else:
            excluded[m.formula] = why
    unresolved = tuple(m for m in measured_spectra.UNRESOLVED if _covers_visible(m))
    compounds = standin_data.load_compounds(standin_data.dielectric_csv(data_root))
    standin = standin_data.generate(compounds, n_standin, size=size, seed=seed)
    images = render(tuple(admitted), n_per_material, size, seed)
    sets = {
        "admitted": images,
        "coherent": render(tuple(admitted), n_per_material, size, seed, coherent=True),
    }
    if unresolved:
        sets["unresolved"] = render(unresolved, n_per_material, size, seed)
    return {
        "materials": [
            {"formula": m.formula, "page": f"{m.book}/{m.page}", "gap_eV": m.gap_ev, "reference": m.reference}
            for m in admitted
        ],
        "excluded": excluded,
        "transfer": transfer(standin, sets, seed=seed),
        "leave_one_material_out": leave_one_material_out(images, seed),
    }


def _covers_visible(material: Material) -> bool:
    try:
        visible_constants(material)
    except ValueError:
        return False
    return True
