"""The band-gap image stand-in: real compositions and band gaps, physics-rendered images and spectra.

The dataset of Stein et al. (Chem. Sci. 10, 47 (2019): 180,902 photographs of
printed metal-oxide films with their UV-vis absorption spectra) is not
reachable here.  This module builds a physically grounded STAND-IN and labels
it as such everywhere: every sample takes a real compound of the Materials
Project dielectric dataset (Petousis et al., Sci. Data 4, 160134 (2016)) with
its PBE band gap and refractive index, assumes a thin film of it (thickness,
direct or indirect transition, Urbach tail and absorption strength drawn with a
fixed seed), computes its absorption spectrum with the onset at that band gap
(:mod:`film_optics`), and renders the photograph a colour camera would take of
it in white light (:mod:`film_render`).  Nothing here is a measurement.

On disk (:func:`write_standin`), one folder::

    README.txt            what this is (a stand-in, and from what)
    records.json          one object per image: composition, band gap, file names, image block
    images/<id>.png       the photographs (8-bit sRGB)
    spectra/<id>.txt      the spectra: energy_eV wavelength_nm absorbance transmittance

``records.json`` is the submission's index: submitted with
:data:`RECORD_MAPPING` and only the ``mapping`` extractor, it gives exactly one
MDF record per image, with the image block (as the image extractor describes
the PNG) and the paths of that image's PNG and spectrum file in the dataset
(``custom.image_file``, ``custom.spectrum_file``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hub.config import mirror_candidates

from . import cie_colour, film_optics, film_render

#: The label every record and the dataset carry.
STAND_IN_LABEL = (
    "synthetic stand-in for Stein et al. 2019: images and spectra rendered from Materials Project "
    "band gaps, not measured"
)
#: Record field -> key of the objects in records.json (the submission's mapping).
RECORD_MAPPING = {
    "material.composition": "formula",
    **{
        f"image.{key}": f"image.{key}"
        for key in ("width", "height", "shape", "mode", "format", "dtype", "axes")
    },
    "custom.band_gap": "band_gap",
    "custom.stand_in": "stand_in",
    "custom.origin": "origin",
    "custom.material_id": "material_id",
    "custom.transition": "transition",
    "custom.thickness_nm": "thickness_nm",
    "custom.refractive_index": "refractive_index",
    "custom.colour": "colour",
    "custom.image_file": "image_file",
    "custom.spectrum_file": "spectrum_file",
}
#: Parameters of the films, drawn per sample.
THICKNESS_NM = (250.0, 900.0)  # log-uniform
URBACH_EV = (0.03, 0.08)
STRENGTH = {"direct": 2.0e5, "indirect": 5.0e4}  # eV/cm, times a log-normal spread of 25 %
P_DIRECT = 0.5


def dielectric_csv(data_root: str | Path | None = None) -> Path:
    """``matminer/dielectric_constant.csv`` under ``data_root``, ``$MATTERHUB_MIRROR`` or
    ``../shared/data``, else downloaded once from its public home (``catalogs/matminer.yaml``,
    sha256-checked) into the cache; a :class:`~hub.catalog.locate.RemoteDataError` when it is
    out of reach too."""

    from hub.catalog.locate import RemoteDataError, public_mirror

    tried = []
    for cand in mirror_candidates(data_root):
        if not cand:
            continue
        path = Path(cand) / "matminer" / "dielectric_constant.csv"
        tried.append(str(path))
        if path.is_file():
            return path
    try:
        return (
            public_mirror("matminer", ["dielectric_constant_data"]) / "matminer" / "dielectric_constant.csv"
        )
    except RemoteDataError as exc:
        raise RemoteDataError(
            "the Materials Project dielectric dataset (matminer/dielectric_constant.csv) was not found at "
            f"{', '.join(tried) or 'no mirror'}, and its public home is out of reach ({exc.message})"
        ) from exc


def load_compounds(csv: str | Path) -> pd.DataFrame:
    """Formula, band gap (eV), refractive index and Materials Project id of each compound."""
    df = pd.read_csv(csv, skiprows=1, usecols=["material_id", "formula", "band_gap", "n"])
    df = df.dropna().rename(columns={"n": "refractive_index"})
    return df.reset_index(drop=True)


@dataclass
class StandIn:
    """Generated samples: metadata per image, the images, and the spectra on one energy grid."""

    table: pd.DataFrame
    images: np.ndarray  # (n, size, size, 3) uint8
    absorbance: np.ndarray  # (n, len(energy_ev))
    transmittance: np.ndarray
    energy_ev: np.ndarray = field(default_factory=lambda: film_optics.ENERGY_GRID_EV.copy())

    def __len__(self) -> int:
        return len(self.table)

    @property
    def band_gaps(self) -> np.ndarray:
        return self.table["band_gap"].to_numpy(dtype=float)


def plan_samples(compounds: pd.DataFrame, n_images: int, seed: int = 0) -> pd.DataFrame:
    """The film parameters of ``n_images`` samples (compounds drawn without replacement first).

    Every compound is used once before any is used twice; each sample gets its
    own thickness, transition type, Urbach energy and absorption strength.
    """
    if n_images < 1:
        raise ValueError(f"n_images must be at least 1, got {n_images}")
    rng = np.random.default_rng(seed)
    rounds = -(-n_images // len(compounds))
    order = np.concatenate([rng.permutation(len(compounds)) for _ in range(rounds)])[:n_images]
    plan = compounds.iloc[order].reset_index(drop=True)
    lo, hi = np.log(THICKNESS_NM[0]), np.log(THICKNESS_NM[1])
    plan["sample_id"] = [f"s{i:05d}" for i in range(n_images)]
    plan["transition"] = np.where(rng.random(n_images) < P_DIRECT, "direct", "indirect")
    plan["thickness_nm"] = np.round(np.exp(rng.uniform(lo, hi, n_images)), 1)
    plan["urbach_ev"] = np.round(rng.uniform(*URBACH_EV, n_images), 4)
    spread = np.exp(rng.normal(0.0, 0.25, n_images))
    plan["strength"] = [STRENGTH[t] * s for t, s in zip(plan["transition"], spread)]
    plan["refractive_index"] = plan["refractive_index"].clip(1.3, 4.0)
    return plan


def film_of(row: Any) -> film_optics.Film:
    return film_optics.Film(
        band_gap_ev=float(row["band_gap"]),
        transition=str(row["transition"]),  # type: ignore[arg-type]
        thickness_nm=float(row["thickness_nm"]),
        refractive_index=float(row["refractive_index"]),
        strength=float(row["strength"]),
        urbach_ev=float(row["urbach_ev"]),
    )


def generate(compounds: pd.DataFrame, n_images: int, size: int = 32, seed: int = 0) -> StandIn:
    """Render ``n_images`` samples in memory (each from its own seeded generator)."""
    plan = plan_samples(compounds, n_images, seed)
    weights = cie_colour.xyz_weights()
    images = np.empty((n_images, size, size, 3), dtype=np.uint8)
    n_e = film_optics.ENERGY_GRID_EV.size
    absorbance = np.empty((n_images, n_e))
    transmittance = np.empty((n_images, n_e))
    colours = []
    for i, row in enumerate(plan.to_dict("records")):
        rng = np.random.default_rng([seed, i])
        image, t, a, _ = film_render.render_sample(film_of(row), rng, size=size, weights=weights)
        images[i], transmittance[i], absorbance[i] = image, t, a
        colours.append(cie_colour.to_hex(image.reshape(-1, 3).mean(axis=0)))
    plan["colour"] = colours
    return StandIn(plan, images, absorbance, transmittance)


def _spectrum_text(row: dict[str, Any], energy: np.ndarray, absorbance: np.ndarray, t: np.ndarray) -> str:
    header = (
        f"# STAND-IN absorbance spectrum (rendered, not measured) of a {row['thickness_nm']:.0f} nm film "
        f"of {row['formula']} ({row['material_id']}), band gap {row['band_gap']:.2f} eV "
        f"({row['transition']}), Materials Project PBE value\n"
        "# energy_eV wavelength_nm absorbance transmittance\n"
    )
    body = np.column_stack([energy, film_optics.wavelength_of(energy), absorbance, t])
    lines = "\n".join(f"{e:.4f} {w:.2f} {a:.5f} {x:.5f}" for e, w, a, x in body)
    return header + lines + "\n"


def write_standin(standin: StandIn, folder: str | Path) -> Path:
    """Write the images, spectra, ``records.json`` and ``README.txt`` under ``folder``."""
    from PIL import Image

    from hub.formats.images import describe_image

    root = Path(folder)
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "spectra").mkdir(parents=True, exist_ok=True)
    objects = []
    for i, row in enumerate(standin.table.to_dict("records")):
        png = root / "images" / f"{row['sample_id']}.png"
        txt = root / "spectra" / f"{row['sample_id']}.txt"
        Image.fromarray(standin.images[i], mode="RGB").save(png, optimize=False)
        txt.write_text(
            _spectrum_text(row, standin.energy_ev, standin.absorbance[i], standin.transmittance[i])
        )
        objects.append(
            {
                "formula": row["formula"],
                "band_gap": float(row["band_gap"]),
                "stand_in": True,
                "origin": STAND_IN_LABEL,
                "material_id": row["material_id"],
                "transition": row["transition"],
                "thickness_nm": float(row["thickness_nm"]),
                "refractive_index": float(row["refractive_index"]),
                "colour": row["colour"],
                "image_file": png.relative_to(root).as_posix(),
                "spectrum_file": txt.relative_to(root).as_posix(),
                "image": describe_image(png),
            }
        )
    (root / "records.json").write_text(json.dumps(objects, indent=1))
    (root / "README.txt").write_text(readme(len(objects), standin.images.shape[1]))
    return root


def readme(n: int, size: int) -> str:
    return (
        "STAND-IN DATA: NOT MEASURED.\n\n"
        f"{n} images ({size}x{size} px, 8-bit sRGB) of thin films and their UV-vis absorbance spectra "
        "(1.1-6.2 eV), rendered by MatterHub (servables/bandgap_images) as a stand-in for the dataset of "
        "Stein, Guevarra, Newhouse, Soedarmadji & Gregoire, Chem. Sci. 10, 47 (2019), "
        "doi:10.1039/C8SC03077D, which is not reachable here (its public home: catalogs/stein_optical.yaml).\n"
        "Compositions, band gaps (PBE) and refractive indices are real: the Materials Project dielectric "
        "dataset (Petousis et al., Sci. Data 4, 160134 (2016), doi:10.1038/sdata.2016.134). Film thickness, "
        "transition type (direct/indirect), Urbach energy and absorption strength are drawn with a fixed "
        "seed. Absorption has a Tauc onset at the band gap and an Urbach tail; transmitted D65 light is "
        "turned into colour with the CIE 1931 observer and sRGB; images carry thickness texture, lens "
        "fall-off, shot and read noise.\n"
    )


def read_standin(folder: str | Path) -> StandIn:
    """Read a folder written by :func:`write_standin` (or downloaded from a hub) back into memory."""
    from PIL import Image

    root = Path(folder)
    objects = json.loads((root / "records.json").read_text())
    table = pd.DataFrame([{k: v for k, v in o.items() if k != "image"} for o in objects])
    images = np.stack([np.asarray(Image.open(root / o["image_file"]).convert("RGB")) for o in objects])
    spectra = [np.loadtxt(root / o["spectrum_file"]) for o in objects]
    energy = spectra[0][:, 0]
    return StandIn(
        table,
        images,
        np.stack([s[:, 2] for s in spectra]),
        np.stack([s[:, 3] for s in spectra]),
        energy,
    )
