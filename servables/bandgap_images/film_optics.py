"""Optical absorption of a semiconductor film with a band gap, and the light it transmits.

Absorption above the gap follows the Tauc form of an allowed transition,

    alpha(E) = A (E - Eg)^p / E,    p = 1/2 (direct) or 2 (indirect),

so that ``(alpha E)^(1/p)`` is a straight line in ``E`` that meets zero at ``Eg``
(what a Tauc plot measures).  Below the gap disorder gives an exponential
Urbach tail ``alpha ∝ exp(E / E_U)``, joined to the Tauc branch where their
logarithmic slopes agree (``E_t = Eg + p E_U``), so ``alpha`` and its slope are
continuous; a small constant background stands for defect absorption and
scattering.

A film of thickness ``d`` and refractive index ``n`` on glass transmits (incoherent
multiple reflections inside the film, ``x = exp(-alpha d)``)

    T = (1 - R1)(1 - R2) x / (1 - R1 R2 x²),
    R1 = ((n - 1)/(n + 1))²  (air/film),   R2 = ((n - n_s)/(n + n_s))²  (film/glass).

A spectrophotometer reports the decadic absorbance ``-log10 T`` relative to the
bare substrate, limited by stray light (``T_measured = (T + s) / (1 + s)``), with
noise.  Energies are in eV, wavelengths in nm, lengths in nm, ``alpha`` in 1/cm.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

#: h c in eV nm: E (eV) = HC_EV_NM / λ (nm).
HC_EV_NM = 1239.841984
#: The exponent p of the Tauc form, by transition.
TAUC_EXPONENT = {"direct": 0.5, "indirect": 2.0}
#: Refractive index of the glass substrate.
GLASS_INDEX = 1.52
#: The spectrophotometer's energy grid (eV): 1.1-6.2 eV, i.e. 200-1127 nm, in 0.02 eV steps.
ENERGY_GRID_EV = np.round(np.linspace(1.1, 6.2, 256), 4)

Transition = Literal["direct", "indirect"]


def energy_of(wavelength_nm: np.ndarray) -> np.ndarray:
    """Photon energy (eV) of a wavelength (nm)."""
    return HC_EV_NM / np.asarray(wavelength_nm, dtype=float)


def wavelength_of(energy_ev: np.ndarray) -> np.ndarray:
    """Wavelength (nm) of a photon energy (eV)."""
    return HC_EV_NM / np.asarray(energy_ev, dtype=float)


@dataclass(frozen=True)
class Film:
    """The optical parameters of one film.

    Attributes
    ----------
    band_gap_ev
        The gap ``Eg`` (eV).
    transition
        ``"direct"`` (p = 1/2) or ``"indirect"`` (p = 2).
    thickness_nm
        Mean thickness ``d``.
    refractive_index
        ``n`` (taken constant over the spectrum).
    strength
        ``A`` of the Tauc form, so that ``alpha E = A`` one eV above the gap (eV/cm).
    urbach_ev
        The Urbach energy ``E_U`` of the sub-gap tail.
    background_per_cm
        Energy-independent absorption (defects, scattering).
    """

    band_gap_ev: float
    transition: Transition = "direct"
    thickness_nm: float = 500.0
    refractive_index: float = 2.0
    strength: float = 2.0e5
    urbach_ev: float = 0.05
    background_per_cm: float = 50.0

    def __post_init__(self) -> None:
        if self.transition not in TAUC_EXPONENT:
            raise ValueError(f"transition must be 'direct' or 'indirect', got {self.transition!r}")
        if not self.band_gap_ev > 0:
            raise ValueError(f"band_gap_ev must be positive, got {self.band_gap_ev}")
        if not (self.thickness_nm > 0 and self.refractive_index >= 1 and self.urbach_ev > 0):
            raise ValueError(
                "thickness_nm and urbach_ev must be positive and refractive_index at least 1; got "
                f"{self.thickness_nm}, {self.urbach_ev}, {self.refractive_index}"
            )

    def alpha(self, energy_ev: np.ndarray) -> np.ndarray:
        """Absorption coefficient (1/cm) at ``energy_ev``."""
        return absorption_coefficient(
            energy_ev, self.band_gap_ev, self.transition, self.strength, self.urbach_ev
        ) + float(self.background_per_cm)

    def transmittance(
        self, energy_ev: np.ndarray, thickness_nm: np.ndarray | float | None = None
    ) -> np.ndarray:
        """Transmittance at ``energy_ev`` (last axis) for one or many thicknesses (leading axes)."""
        d = self.thickness_nm if thickness_nm is None else thickness_nm
        return film_transmittance(self.alpha(energy_ev), d, self.refractive_index)


def absorption_coefficient(
    energy_ev: np.ndarray,
    band_gap_ev: float,
    transition: Transition = "direct",
    strength: float = 2.0e5,
    urbach_ev: float = 0.05,
) -> np.ndarray:
    """alpha(E) in 1/cm: the Tauc branch above ``Eg + p E_U``, the Urbach tail below it."""
    p = TAUC_EXPONENT[transition]
    e = np.asarray(energy_ev, dtype=float)
    e_join = band_gap_ev + p * urbach_ev
    alpha_join = strength * (e_join - band_gap_ev) ** p / e_join
    above = strength * np.power(np.clip(e - band_gap_ev, 0.0, None), p) / e
    tail = alpha_join * np.exp(np.minimum(e - e_join, 0.0) / urbach_ev)
    return np.where(e >= e_join, above, tail)


def interface_reflectance(n1: float, n2: float) -> float:
    """Normal-incidence reflectance between media of indices ``n1`` and ``n2``."""
    return ((n1 - n2) / (n1 + n2)) ** 2


def film_transmittance(
    alpha_per_cm: np.ndarray, thickness_nm: np.ndarray | float, refractive_index: float
) -> np.ndarray:
    """Transmittance of an absorbing film on glass, relative to the bare glass.

    ``alpha_per_cm`` (shape ``(..., n)``) broadcasts against ``thickness_nm``
    given with a trailing axis of 1 for many thicknesses (e.g. ``d[:, None]``).
    """
    r1 = interface_reflectance(1.0, refractive_index)
    r2 = interface_reflectance(refractive_index, GLASS_INDEX)
    bare = 1.0 - interface_reflectance(1.0, GLASS_INDEX)
    x = np.exp(-np.asarray(alpha_per_cm) * (np.asarray(thickness_nm) * 1e-7))
    return (1.0 - r1) * (1.0 - r2) * x / (1.0 - r1 * r2 * x * x) / bare


def measured_absorbance(
    transmittance: np.ndarray,
    noise: float = 0.0,
    stray_light: float = 1e-3,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Decadic absorbance a spectrophotometer reports: stray-light limited, with Gaussian noise."""
    t = (np.asarray(transmittance) + stray_light) / (1.0 + stray_light)
    absorbance = -np.log10(t)
    if noise > 0:
        gen = rng if rng is not None else np.random.default_rng(0)
        absorbance = absorbance + gen.normal(0.0, noise, absorbance.shape)
    return absorbance
