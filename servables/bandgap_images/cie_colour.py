"""From a transmission spectrum to the colour a camera records: CIE 1931 -> XYZ -> sRGB.

Light from a white source (CIE standard illuminant D65) passes through a film
with transmittance ``T(λ)``.  The colour of the transmitted light is

    X = k ∫ T(λ) S(λ) x̄(λ) dλ,   Y = k ∫ T(λ) S(λ) ȳ(λ) dλ,   Z = k ∫ T(λ) S(λ) z̄(λ) dλ

with ``S`` the D65 spectral power distribution, ``x̄ ȳ z̄`` the CIE 1931 2°
colour-matching functions and ``k`` chosen so that ``T = 1`` gives ``Y = 1``
(the white of the scene).  XYZ goes to linear sRGB with the IEC 61966-2-1
matrix (D65 white point), and to the 8-bit values of an image file through
the sRGB transfer function ("gamma").

The colour-matching functions are the multi-lobe Gaussian fit of Wyman, Sloan
& Shirley, "Simple Analytic Approximations to the CIE XYZ Color Matching
Functions", JCGT 2(2), 2013 (within the accuracy of the tabulated functions'
own uncertainty for rendering); D65 is the CIE table (CIE 15:2004) at 5 nm.
"""

from __future__ import annotations

import numpy as np

#: Wavelengths of the colour integrals (nm): the visible range at 5 nm, as CIE tabulates D65.
WAVELENGTHS_NM = np.arange(380.0, 781.0, 5.0)

#: CIE standard illuminant D65, relative spectral power at WAVELENGTHS_NM (CIE 15:2004, Table T.1).
D65 = np.array(
    [
        49.9755, 52.3118, 54.6482, 68.7015, 82.7549, 87.1204, 91.4860, 92.4589, 93.4318, 90.0570,
        86.6823, 95.7736, 104.865, 110.936, 117.008, 117.410, 117.812, 116.336, 114.861, 115.392,
        115.923, 112.367, 108.811, 109.082, 109.354, 108.578, 107.802, 106.296, 104.790, 106.239,
        107.689, 106.047, 104.405, 104.225, 104.046, 102.023, 100.000, 98.1671, 96.3342, 96.0611,
        95.7880, 92.2368, 88.6856, 89.3459, 90.0062, 89.8026, 89.5991, 88.6489, 87.6987, 85.4936,
        83.2886, 83.4939, 83.6992, 81.8630, 80.0268, 80.1207, 80.2146, 81.2462, 82.2778, 80.2810,
        78.2842, 74.0027, 69.7213, 70.6652, 71.6091, 72.9790, 74.3490, 67.9765, 61.6040, 65.7448,
        69.8856, 72.4863, 75.0870, 69.3398, 63.5927, 55.0054, 46.4182, 56.6118, 66.8054, 65.0941,
        63.3828,
    ]
)  # fmt: skip

#: Wyman-Sloan-Shirley lobes: (weight, centre nm, width below centre, width above centre).
_LOBES: dict[str, tuple[tuple[float, float, float, float], ...]] = {
    "x": ((1.056, 599.8, 37.9, 31.0), (0.362, 442.0, 16.0, 26.7), (-0.065, 501.1, 20.4, 26.2)),
    "y": ((0.821, 568.8, 46.9, 40.5), (0.286, 530.9, 16.3, 31.1)),
    "z": ((1.217, 437.0, 11.8, 36.0), (0.681, 459.0, 26.0, 13.8)),
}

#: XYZ (D65) -> linear sRGB, IEC 61966-2-1.
XYZ_TO_SRGB = np.array(
    [
        [3.2406, -1.5372, -0.4986],
        [-0.9689, 1.8758, 0.0415],
        [0.0557, -0.2040, 1.0570],
    ]
)
SRGB_TO_XYZ = np.linalg.inv(XYZ_TO_SRGB)
#: The D65 white point (Y = 1), used by CIELAB.
WHITE_XYZ = np.array([0.95047, 1.0, 1.08883])


def _lobe(wavelength_nm: np.ndarray, centre: float, below: float, above: float) -> np.ndarray:
    width = np.where(wavelength_nm < centre, below, above)
    return np.exp(-0.5 * ((wavelength_nm - centre) / width) ** 2)


def colour_matching_functions(wavelength_nm: np.ndarray = WAVELENGTHS_NM) -> np.ndarray:
    """x̄, ȳ, z̄ of the CIE 1931 2° observer at ``wavelength_nm``: shape ``(n, 3)``."""
    wl = np.asarray(wavelength_nm, dtype=float)
    return np.stack(
        [sum(w * _lobe(wl, c, lo, hi) for w, c, lo, hi in _LOBES[axis]) for axis in "xyz"], axis=-1
    )


def xyz_weights(wavelength_nm: np.ndarray = WAVELENGTHS_NM, illuminant: np.ndarray = D65) -> np.ndarray:
    """Weights ``W`` (``(n, 3)``) such that ``T @ W`` is the XYZ of light transmitted with ``T``.

    Normalised so that a perfect transmitter (``T = 1`` everywhere) gives ``Y = 1``.
    """
    weights = np.asarray(illuminant, dtype=float)[:, None] * colour_matching_functions(wavelength_nm)
    return weights / weights[:, 1].sum()


def xyz_to_linear_srgb(xyz: np.ndarray) -> np.ndarray:
    """Linear sRGB of XYZ colours (last axis), unclipped."""
    return np.asarray(xyz) @ XYZ_TO_SRGB.T


def linear_srgb_to_xyz(rgb: np.ndarray) -> np.ndarray:
    return np.asarray(rgb) @ SRGB_TO_XYZ.T


def srgb_encode(linear: np.ndarray) -> np.ndarray:
    """The sRGB transfer function: linear light in [0, 1] -> encoded values in [0, 1]."""
    x = np.clip(np.asarray(linear, dtype=float), 0.0, 1.0)
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055)


def srgb_decode(encoded: np.ndarray) -> np.ndarray:
    """Inverse of :func:`srgb_encode`: encoded values in [0, 1] -> linear light."""
    v = np.clip(np.asarray(encoded, dtype=float), 0.0, 1.0)
    return np.where(v <= 0.04045, v / 12.92, np.power((v + 0.055) / 1.055, 2.4))


def xyz_to_lab(xyz: np.ndarray) -> np.ndarray:
    """CIELAB (L*, a*, b*) of XYZ colours relative to the D65 white."""
    t = np.asarray(xyz, dtype=float) / WHITE_XYZ
    delta = 6 / 29
    f = np.where(t > delta**3, np.cbrt(np.maximum(t, 0.0)), t / (3 * delta**2) + 4 / 29)
    lightness = 116 * f[..., 1] - 16
    return np.stack([lightness, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


def transmitted_colour(transmittance: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Linear sRGB of white (D65) light after a filter with ``transmittance`` on WAVELENGTHS_NM.

    ``transmittance`` may hold many spectra (last axis: wavelength); the result
    has the same leading shape and a last axis of 3.
    """
    w = xyz_weights() if weights is None else weights
    return xyz_to_linear_srgb(np.asarray(transmittance) @ w)


def to_hex(rgb8: np.ndarray) -> str:
    """``#rrggbb`` of one 8-bit sRGB colour."""
    r, g, b = (round(float(c)) for c in np.clip(rgb8, 0, 255))
    return f"#{r:02x}{g:02x}{b:02x}"
