"""Composition features for the band-gap servable, from ASE's element data only.

For a formula such as ``Rb2Te`` each element is described by six simple
properties from :mod:`ase.data` (atomic number, atomic mass, covalent radius,
group, period, ground-state magnetic moment); a compound is described by their
fraction-weighted mean and standard deviation, their minimum and maximum over
its elements, and its number of elements: 25 features.

This module is packaged with the servable by value (it is the publisher's own
code, not an installed library), so the hub's workers run it without it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from ase.data import atomic_masses, atomic_numbers, covalent_radii, ground_state_magnetic_moments
from ase.formula import Formula
from sklearn.base import BaseEstimator, TransformerMixin

PROPERTIES = ("Z", "mass", "covalent_radius", "group", "period", "magnetic_moment")
STATS = ("mean", "std", "min", "max")
#: The last atomic number ASE has every property for.
MAX_Z = len(ground_state_magnetic_moments) - 1
_PERIOD_ENDS = (2, 10, 18, 36, 54, 86, 118)


def group_and_period(z: int) -> tuple[int, int]:
    """IUPAC group (lanthanides and actinides in group 3) and period of element ``z``."""
    period = next(i + 1 for i, end in enumerate(_PERIOD_ENDS) if z <= end)
    pos = z - (0, 2, 10, 18, 36, 54, 86)[period - 1]
    if period == 1:
        return (1 if z == 1 else 18), 1
    if period <= 3:
        return (pos if pos <= 2 else pos + 10), period
    if period <= 5 or pos <= 2:
        return pos, period
    return (3 if pos <= 17 else pos - 14), period


def element_table() -> np.ndarray:
    """``table[z]``: the six properties of element ``z`` (row 0 unused)."""
    table = np.full((MAX_Z + 1, len(PROPERTIES)), np.nan)
    for z in range(1, MAX_Z + 1):
        group, period = group_and_period(z)
        table[z] = (z, atomic_masses[z], covalent_radii[z], group, period, ground_state_magnetic_moments[z])
    return table


TABLE = element_table()


def featurize(formula: str) -> np.ndarray:
    """The 25 features of one formula; a clear ValueError for what is not one."""
    try:
        counts = Formula(formula).count()
    except Exception as exc:
        raise ValueError(f"{formula!r} is not a chemical formula: {exc}") from None
    if not counts:
        raise ValueError(f"{formula!r} has no elements")
    zs = []
    for symbol in counts:
        z = atomic_numbers.get(symbol)
        if z is None:
            raise ValueError(f"{formula!r}: unknown element {symbol!r}")
        if z > MAX_Z:
            raise ValueError(f"{formula!r}: element {symbol!r} has no data (elements up to Z={MAX_Z})")
        zs.append(z)
    amounts = np.array(list(counts.values()), dtype=float)
    frac = amounts / amounts.sum()
    props = TABLE[zs]
    mean = frac @ props
    std = np.sqrt(frac @ (props - mean) ** 2)
    return np.concatenate([mean, std, props.min(axis=0), props.max(axis=0), [len(zs)]])


def feature_names() -> list[str]:
    return [f"{s}_{p}" for s in STATS for p in PROPERTIES] + ["n_elements"]


class CompositionFeaturizer(TransformerMixin, BaseEstimator):
    """A scikit-learn transformer: formulas (strings) in, composition features out."""

    def fit(self, X: Iterable[str], y: Any = None) -> CompositionFeaturizer:
        return self

    def transform(self, X: Iterable[str]) -> np.ndarray:
        return np.array([featurize(str(f)) for f in X])

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.array(feature_names())
