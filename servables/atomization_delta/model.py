"""The ``atomization-delta`` servable: G4MP2 energies from B3LYP ones by Δ-learning.

Ward et al. (MRS Commun. 9, 891, 2019) showed that machine learning the
difference between a cheap and an accurate quantum-chemistry energy
("Δ-learning") reaches chemical accuracy with far less data than learning the
accurate energy itself.  :class:`AtomizationDeltaModel` learns

    Δ = E0(G4MP2) - E0(B3LYP/6-31G(2df,p))     (0 K, electronic + zero-point, Hartree)

from the molecule's structure (:mod:`features`) with a ridge
regression, and, called on molecules with their B3LYP energy, returns the
G4MP2 0 K energy ``u0 + Δ`` and the G4MP2 atomization energy
``sum of atomic G4MP2 energies - E0(G4MP2)`` (positive: the energy it takes
to pull the molecule apart into atoms).

The atomic reference energies are G4MP2 0 K energies of the isolated atoms,
as Ward et al. use them (``jcesr_ml/utils.py`` of
github.com/globus-labs/g4mp2-atomization-energy; the G4(MP2) values of
Curtiss, Redfern & Raghavachari, J. Chem. Phys. 127, 124105, 2007).

This module is packaged with the servable by value (it is the publisher's own
code, not an installed library), so the hub's workers run it without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .features import PairDistanceFeatures
from .xyz import MoleculeBatch, parse_xyz

#: G4MP2 0 K energies of the isolated atoms (Hartree), from Ward et al.'s code.
G4MP2_ATOMIC_ENERGIES: dict[str, float] = {"H": -0.502094, "C": -37.794203, "O": -75.002483}
REFERENCE_SOURCE = (
    "G4MP2 0 K energies of the isolated atoms, Hartree, as used by Ward et al. (MRS Commun. 9, 891, 2019): "
    "jcesr_ml/utils.py, atomic_ref_energies['g4mp2'], github.com/globus-labs/g4mp2-atomization-energy "
    "(G4(MP2) theory: Curtiss, Redfern & Raghavachari, J. Chem. Phys. 127, 124105, 2007)"
)
#: kcal/mol per Hartree (CODATA 2018, as ase.units gives it).
KCAL_PER_HARTREE = 627.5094740631
#: Ridge penalties tried by efficient leave-one-out cross-validation when fitting.
ALPHAS = tuple(float(a) for a in np.logspace(-6, 0, 13))


class AtomizationDeltaModel:
    """Predicts G4MP2 0 K and atomization energies from structures and B3LYP energies.

    Parameters
    ----------
    features
        The representation (element counts + pair-distance sums).
    regressor
        A fitted scikit-learn regressor of Δ (Hartree) on ``features``.
    atomic_energies
        G4MP2 0 K energies of the isolated atoms (Hartree), one per element of
        ``features``.
    """

    def __init__(
        self,
        features: PairDistanceFeatures,
        regressor: Any,
        atomic_energies: dict[str, float] | None = None,
    ) -> None:
        refs = dict(G4MP2_ATOMIC_ENERGIES if atomic_energies is None else atomic_energies)
        missing = [e for e in features.elements if e not in refs]
        if missing:
            raise ValueError(f"no atomic reference energy for {', '.join(missing)}")
        self.features = features
        self.regressor = regressor
        self.atomic_energies = {e: float(refs[e]) for e in features.elements}
        self._references = np.array([self.atomic_energies[e] for e in features.elements])

    @property
    def elements(self) -> tuple[str, ...]:
        return self.features.elements

    def delta(self, batch: MoleculeBatch) -> np.ndarray:
        """Predicted E0(G4MP2) - E0(B3LYP) of each molecule (Hartree)."""
        return np.asarray(self.regressor.predict(self.features.transform(batch)), dtype=np.float64)

    def predict(
        self, batch: MoleculeBatch, u0: Sequence[float] | np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(G4MP2 0 K energy, G4MP2 atomization energy) of each molecule, Hartree."""
        g4mp2 = np.asarray(u0, dtype=np.float64) + self.delta(batch)
        return g4mp2, batch.counts() @ self._references - g4mp2

    def __call__(self, molecules: list[dict[str, Any]]) -> list[dict[str, float]]:
        """G4MP2 0 K and atomization energies of molecules relaxed at B3LYP/6-31G(2df,p).

        Parameters
        ----------
        molecules
            One ``{"xyz": XYZ text (Å), "u0": B3LYP 0 K energy, electronic plus
            zero-point (Hartree)}`` per molecule.

        Returns
        -------
        list of dict
            One ``{"g4mp2_0k": predicted G4MP2 0 K energy, "atomization_energy":
            sum of the G4MP2 atomic energies minus it}`` per molecule, Hartree.
        """
        if not molecules:
            return []
        texts = [m["xyz"] for m in molecules]
        u0 = np.fromiter((m["u0"] for m in molecules), dtype=np.float64, count=len(molecules))
        if not np.isfinite(u0).all():
            bad = int(np.flatnonzero(~np.isfinite(u0))[0])
            raise ValueError(f"molecule {bad}: u0 is {u0[bad]}; give the B3LYP 0 K energy in Hartree")
        g4mp2, atomization = self.predict(parse_xyz(texts, self.elements), u0)
        return [
            {"g4mp2_0k": g, "atomization_energy": a}
            for g, a in zip(g4mp2.tolist(), atomization.tolist(), strict=True)
        ]

    def __repr__(self) -> str:
        return (
            f"AtomizationDeltaModel(elements={self.elements}, cutoff={self.features.cutoff} Å, "
            f"{len(self.features.feature_names())} features, {type(self.regressor).__name__})"
        )


def fit_delta_model(
    batch: MoleculeBatch, delta: np.ndarray, features: PairDistanceFeatures | None = None
) -> AtomizationDeltaModel:
    """Fit the Δ-model on ``batch`` and its corrections ``delta`` (Hartree).

    The ridge penalty is chosen among :data:`ALPHAS` by leave-one-out
    cross-validation on the training molecules only.
    """
    from sklearn.linear_model import RidgeCV

    features = features or PairDistanceFeatures(elements=batch.elements)
    regressor = RidgeCV(alphas=ALPHAS).fit(features.transform(batch), np.asarray(delta, dtype=np.float64))
    return AtomizationDeltaModel(features, regressor)
