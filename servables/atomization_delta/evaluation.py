"""Held-out splits, baselines and errors for the Δ-model of the G4MP2 correction.

With only 102 molecules, one random split says little about whether the
model carries over to bigger molecules, which is what Ward et al. (2019)
asked of theirs.  So every model is scored on two splits:

* ``random``: a seeded random ``test_fraction`` of the molecules;
* ``largest``: every molecule with the most heavy (non-hydrogen) atoms is held
  out and the model is trained on the smaller ones only.

and against two baselines: the mean correction of the training molecules, and
a linear fit of the correction on the element counts (an atom-additive
correction, which already removes most of the size dependence).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .model import KCAL_PER_HARTREE, fit_delta_model
from .xyz import MoleculeBatch

#: A model maker: training molecules and their corrections -> a predictor of corrections.
Fitter = Callable[[MoleculeBatch, np.ndarray], Callable[[MoleculeBatch], np.ndarray]]


def mean_correction(batch: MoleculeBatch, delta: np.ndarray) -> Callable[[MoleculeBatch], np.ndarray]:
    """Baseline: every molecule gets the mean correction of the training molecules."""
    mean = float(np.mean(delta))
    return lambda b: np.full(len(b), mean)


def element_counts_linear(batch: MoleculeBatch, delta: np.ndarray) -> Callable[[MoleculeBatch], np.ndarray]:
    """Baseline: a least-squares linear fit of the correction on the element counts (with intercept)."""
    from sklearn.linear_model import LinearRegression

    fit = LinearRegression().fit(batch.counts(), delta)
    return lambda b: np.asarray(fit.predict(b.counts()))


def delta_model(batch: MoleculeBatch, delta: np.ndarray) -> Callable[[MoleculeBatch], np.ndarray]:
    """The Δ-model (pair-distance features, ridge regression)."""
    return fit_delta_model(batch, delta).delta


#: The models compared, by name, in the order tables list them.
MODELS: dict[str, Fitter] = {
    "delta_model": delta_model,
    "baseline_mean": mean_correction,
    "baseline_counts": element_counts_linear,
}


@dataclass(frozen=True)
class Split:
    """Indices of the training and held-out molecules, and how they were chosen."""

    name: str
    train: np.ndarray
    test: np.ndarray
    description: str


def random_split(n: int, test_fraction: float = 0.2, seed: int = 0) -> Split:
    """A seeded random split: ``round(test_fraction * n)`` molecules held out."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction}")
    order = np.random.default_rng(seed).permutation(n)
    n_test = max(1, round(test_fraction * n))
    return Split(
        "random",
        np.sort(order[n_test:]),
        np.sort(order[:n_test]),
        f"{n_test} of {n} molecules held out at random (seed {seed})",
    )


def largest_split(heavy_atoms: np.ndarray) -> Split:
    """Hold out every molecule with the most heavy atoms; train on the smaller ones."""
    heavy = np.asarray(heavy_atoms)
    top = int(heavy.max())
    test = np.flatnonzero(heavy == top)
    train = np.flatnonzero(heavy < top)
    return Split(
        "largest",
        train,
        test,
        f"the {len(test)} molecules with {top} heavy atoms held out; trained on {len(train)} with at most "
        f"{int(heavy[train].max())}",
    )


@dataclass(frozen=True)
class SplitResult:
    """Held-out predictions of each model on one split (Hartree)."""

    split: Split
    truth: np.ndarray
    predictions: dict[str, np.ndarray]

    def mae_kcal_mol(self, model: str) -> float:
        return float(np.mean(np.abs(self.predictions[model] - self.truth)) * KCAL_PER_HARTREE)

    def max_error_kcal_mol(self, model: str) -> float:
        return float(np.max(np.abs(self.predictions[model] - self.truth)) * KCAL_PER_HARTREE)


def evaluate(
    batch: MoleculeBatch, delta: np.ndarray, split: Split, models: dict[str, Fitter] | None = None
) -> SplitResult:
    """Train each model on ``split.train`` and predict ``split.test``."""
    delta = np.asarray(delta, dtype=np.float64)
    train, test = batch.take(split.train), batch.take(split.test)
    predictions = {
        name: np.asarray(fit(train, delta[split.train])(test), dtype=np.float64)
        for name, fit in (models or MODELS).items()
    }
    return SplitResult(split, delta[split.test], predictions)


def error_rows(results: list[SplitResult]) -> list[dict[str, object]]:
    """One row per split and model: sizes, mean and largest absolute error (kcal/mol)."""
    rows: list[dict[str, object]] = []
    for res in results:
        for model in res.predictions:
            rows.append(
                {
                    "split": res.split.name,
                    "model": model,
                    "n_train": len(res.split.train),
                    "n_test": len(res.split.test),
                    "mae_kcal_mol": round(res.mae_kcal_mol(model), 3),
                    "max_error_kcal_mol": round(res.max_error_kcal_mol(model), 3),
                }
            )
    return rows


def metrics(results: list[SplitResult]) -> dict[str, float]:
    """Flat figures for the servable's metadata and the benchmark: ``mae_<split>_<model>_kcal_mol``."""
    out: dict[str, float] = {}
    for res in results:
        for model in res.predictions:
            out[f"mae_{res.split.name}_{model}_kcal_mol"] = round(res.mae_kcal_mol(model), 4)
        out[f"n_test_{res.split.name}"] = float(len(res.split.test))
    return out
