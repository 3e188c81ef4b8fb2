"""Images of a film as a colour camera records them in transmitted white light.

Each pixel sees the film through its local thickness: a smooth random
thickness profile (drying and printing non-uniformity, ``variation`` of the
mean) times a fine grain texture (``grain``), so colour and darkness vary across
the sample as they do in real printed oxide films.  The pixel's light is the
D65 spectrum times the film's transmittance at that thickness, turned into
linear sRGB by :mod:`cie_colour`.  The camera is colorimetric (its channels are
the sRGB primaries), exposed so that bare glass gives ``exposure`` of full scale,
with lens fall-off toward the corners, photon shot noise (Poisson, ``full_well``
electrons at full scale), Gaussian read noise, sRGB encoding and 8-bit
quantisation.  The absorbance spectrum of the same sample is the transmittance
averaged over the same thickness map, as a spectrophotometer's beam averages
over the spot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from scipy.ndimage import gaussian_filter

from . import cie_colour, film_optics


class Absorber(Protocol):
    """What the camera needs of a film: its transmittance at energies (eV) and thicknesses (nm).

    :class:`film_optics.Film` (a Tauc edge) and ``measured_images.MeasuredFilm``
    (measured n and k) both are one.
    """

    def transmittance(
        self, energy_ev: np.ndarray, thickness_nm: np.ndarray | float | None = None
    ) -> np.ndarray: ...


@dataclass(frozen=True)
class Texture:
    """How the thickness varies across a sample (relative standard deviations)."""

    variation: float = 0.08
    correlation_px: float = 6.0
    grain: float = 0.03
    grain_px: float = 0.7


@dataclass(frozen=True)
class Camera:
    """A colour camera: exposure, lens fall-off and noise (in electrons)."""

    exposure: float = 0.92
    full_well: float = 4000.0
    read_noise: float = 4.0
    vignetting: float = 0.06


def random_field(rng: np.random.Generator, size: int, correlation_px: float) -> np.ndarray:
    """A Gaussian random field of unit standard deviation, smooth over ``correlation_px`` pixels."""
    white = rng.standard_normal((size, size))
    field = gaussian_filter(white, correlation_px, mode="wrap") if correlation_px > 0 else white
    std = field.std()
    return (field - field.mean()) / std if std > 0 else field


def thickness_map(
    rng: np.random.Generator, size: int, mean_nm: float, texture: Texture = Texture()
) -> np.ndarray:
    """Film thickness (nm) at each pixel of a ``size`` x ``size`` image (always positive)."""
    smooth = random_field(rng, size, texture.correlation_px * size / 32)
    grain = random_field(rng, size, texture.grain_px)
    relative = (1.0 + texture.variation * smooth) * (1.0 + texture.grain * grain)
    return mean_nm * np.clip(relative, 0.2, None)


def lens_falloff(size: int, vignetting: float) -> np.ndarray:
    """Relative illumination: 1 at the centre, ``1 - vignetting`` at the corners."""
    coords = (np.arange(size) - (size - 1) / 2) / ((size - 1) / 2)
    r2 = (coords[:, None] ** 2 + coords[None, :] ** 2) / 2
    return 1.0 - vignetting * r2


def pixel_colours(film: Absorber, thickness_nm: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Linear sRGB of the light each pixel receives through the film (shape ``(h, w, 3)``)."""
    energies = film_optics.energy_of(cie_colour.WAVELENGTHS_NM)
    t = film.transmittance(energies, thickness_nm.reshape(-1, 1))
    rgb = cie_colour.transmitted_colour(t, weights)
    return rgb.reshape(*thickness_nm.shape, 3)


def expose(linear_rgb: np.ndarray, rng: np.random.Generator, camera: Camera = Camera()) -> np.ndarray:
    """The 8-bit sRGB image a camera records of ``linear_rgb`` light (full scale = 1)."""
    size = linear_rgb.shape[0]
    light = (
        np.clip(linear_rgb, 0.0, None) * camera.exposure * lens_falloff(size, camera.vignetting)[..., None]
    )
    electrons = rng.poisson(light * camera.full_well).astype(float)
    electrons += rng.normal(0.0, camera.read_noise, electrons.shape)
    encoded = cie_colour.srgb_encode(electrons / camera.full_well)
    return np.round(encoded * 255.0).astype(np.uint8)


def spectrum(
    film: film_optics.Film,
    thickness_nm: np.ndarray,
    rng: np.random.Generator,
    energy_ev: np.ndarray = film_optics.ENERGY_GRID_EV,
    noise: float = 0.003,
) -> tuple[np.ndarray, np.ndarray]:
    """Transmittance averaged over the thickness map, and the measured absorbance (with noise)."""
    t = film.transmittance(energy_ev, np.ravel(thickness_nm)[:, None]).mean(axis=0)
    return t, film_optics.measured_absorbance(t, noise=noise, rng=rng)


def render_sample(
    film: film_optics.Film,
    rng: np.random.Generator,
    size: int = 32,
    texture: Texture = Texture(),
    camera: Camera = Camera(),
    weights: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One sample: its image (``uint8``, ``(size, size, 3)``), transmittance and absorbance spectra,
    and the mean linear sRGB colour of its light before the camera."""
    d = thickness_map(rng, size, film.thickness_nm, texture)
    light = pixel_colours(film, d, weights)
    image = expose(light, rng, camera)
    t, absorbance = spectrum(film, d, rng)
    return image, t, absorbance, light.reshape(-1, 3).mean(axis=0)
