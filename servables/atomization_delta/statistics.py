"""How far the Δ-model's held-out error can be trusted: many splits, leave-one-out, tuned features, size.

One 80/20 split of 102 molecules scores the model on 20 of them; another seed gives
another number.  This module gives the spread and the choices behind the figures:

* :func:`repeated_splits`: ``n`` seeded random 80/20 splits; the MAE of every model on
  each (report the median and the 10th-90th percentiles, not one lucky split);
* :func:`leave_one_out`: each molecule predicted by models trained on the others;
* :func:`nested_cv`: the representation's settings (cutoff, number of Gaussians, first
  centre) chosen by cross-validation *inside* each outer training fold, so the outer
  error is not biased by the choice, and the settings each fold chose;
  :func:`choose_features` makes the final choice on every molecule, with its table;
* :func:`extrapolation_curve`: train on molecules with at most ``k`` heavy atoms and
  test on the larger ones, for every ``k``: does the correction carry over to size?

Every model is refitted from scratch on each training set (the ridge penalty too, by its
own leave-one-out inside the training molecules), so no held-out molecule touches a fit.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .evaluation import MODELS, Fitter, Split, evaluate, random_split
from .features import PairDistanceFeatures
from .model import KCAL_PER_HARTREE, fit_delta_model
from .xyz import MoleculeBatch

#: The settings of the representation searched by :func:`nested_cv` and :func:`choose_features`.
GRID: dict[str, tuple[float, ...]] = {
    "cutoff": (2.5, 3.2, 4.0, 5.0),
    "n_centers": (8, 12, 16),
    "r_min": (0.7, 0.9, 1.1),
}


@dataclass(frozen=True)
class Spread:
    """A sample of errors (kcal/mol) summarised: mean ± standard deviation, median, 10th-90th percentiles."""

    n: int
    mean: float
    std: float
    median: float
    p10: float
    p90: float

    @classmethod
    def of(cls, values: Sequence[float] | np.ndarray) -> Spread:
        """The spread of ``values``."""
        v = np.asarray(values, dtype=np.float64)
        p10, median, p90 = np.percentile(v, [10, 50, 90])
        return cls(len(v), float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0, median, p10, p90)

    def to_dict(self, digits: int = 3) -> dict[str, float]:
        """As a dict of rounded figures."""
        return {k: (round(v, digits) if isinstance(v, float) else v) for k, v in asdict(self).items()}

    def __str__(self) -> str:
        return f"{self.median:.2f} ({self.p10:.2f}-{self.p90:.2f}); mean {self.mean:.2f} ± {self.std:.2f}"


def repeated_splits(
    batch: MoleculeBatch,
    delta: np.ndarray,
    n_splits: int = 50,
    test_fraction: float = 0.2,
    seed: int = 0,
    models: Mapping[str, Fitter] | None = None,
) -> dict[str, np.ndarray]:
    """The MAE (kcal/mol) of each model on ``n_splits`` random splits, seeds ``seed .. seed+n_splits-1``."""
    out: dict[str, list[float]] = {name: [] for name in (models or MODELS)}
    for s in range(seed, seed + n_splits):
        result = evaluate(batch, delta, random_split(len(batch), test_fraction, s), dict(models or MODELS))
        for name in out:
            out[name].append(result.mae_kcal_mol(name))
    return {name: np.asarray(v) for name, v in out.items()}


def leave_one_out(
    batch: MoleculeBatch, delta: np.ndarray, models: Mapping[str, Fitter] | None = None
) -> dict[str, np.ndarray]:
    """The absolute error (kcal/mol) of each model on each molecule, trained on all the others."""
    n = len(batch)
    out: dict[str, np.ndarray] = {name: np.empty(n) for name in (models or MODELS)}
    every = np.arange(n)
    for i in range(n):
        split = Split("loo", np.delete(every, i), np.array([i]), f"molecule {i} held out")
        result = evaluate(batch, delta, split, dict(models or MODELS))
        for name in out:
            out[name][i] = abs(float(result.predictions[name][0] - result.truth[0])) * KCAL_PER_HARTREE
    return out


def _features(batch: MoleculeBatch, settings: Mapping[str, float]) -> PairDistanceFeatures:
    return PairDistanceFeatures(
        elements=batch.elements,
        cutoff=float(settings["cutoff"]),
        n_centers=int(settings["n_centers"]),
        r_min=float(settings["r_min"]),
    )


def _folds(n: int, k: int, seed: int) -> list[np.ndarray]:
    return [np.sort(f) for f in np.array_split(np.random.default_rng(seed).permutation(n), k)]


def cv_mae(
    batch: MoleculeBatch, delta: np.ndarray, settings: Mapping[str, float], folds: int = 5, seed: int = 0
) -> float:
    """The ``folds``-fold cross-validated MAE (kcal/mol) of the Δ-model with the representation ``settings``."""
    features = _features(batch, settings)
    errors = []
    for test in _folds(len(batch), folds, seed):
        train = np.setdiff1d(np.arange(len(batch)), test)
        model = fit_delta_model(batch.take(train), delta[train], features)
        errors.append(np.abs(model.delta(batch.take(test)) - delta[test]))
    return float(np.mean(np.concatenate(errors)) * KCAL_PER_HARTREE)


def grid_settings(grid: Mapping[str, Sequence[float]] | None = None) -> list[dict[str, float]]:
    """Every combination of the grid's values (default :data:`GRID`), in a fixed order."""
    g = grid or GRID
    return [dict(zip(g, values, strict=True)) for values in itertools.product(*g.values())]


def choose_features(
    batch: MoleculeBatch,
    delta: np.ndarray,
    grid: Mapping[str, Sequence[float]] | None = None,
    folds: int = 5,
    seed: int = 0,
) -> tuple[dict[str, float], list[dict[str, float]]]:
    """The settings of least cross-validated MAE on ``batch``, and the table of every setting tried."""
    table = [{**s, "cv_mae_kcal_mol": cv_mae(batch, delta, s, folds, seed)} for s in grid_settings(grid)]
    best = min(table, key=lambda row: row["cv_mae_kcal_mol"])
    return {k: best[k] for k in (grid or GRID)}, table


@dataclass(frozen=True)
class NestedCV:
    """The outer-fold errors of the Δ-model whose representation each outer training fold chose."""

    outer_mae_kcal_mol: list[float]
    chosen: list[dict[str, float]]
    #: The outer-fold errors of the default settings (3.2 Å, 12 Gaussians from 0.9 Å) on the same folds.
    default_mae_kcal_mol: list[float]


def nested_cv(
    batch: MoleculeBatch,
    delta: np.ndarray,
    grid: Mapping[str, Sequence[float]] | None = None,
    outer: int = 5,
    inner: int = 5,
    seed: int = 0,
) -> NestedCV:
    """Choose the representation inside each of ``outer`` training folds; score on the held-out fold."""
    maes: list[float] = []
    defaults: list[float] = []
    chosen: list[dict[str, float]] = []
    default = PairDistanceFeatures(elements=batch.elements)
    for test in _folds(len(batch), outer, seed):
        train = np.setdiff1d(np.arange(len(batch)), test)
        tb, td = batch.take(train), delta[train]
        settings, _ = choose_features(tb, td, grid, inner, seed + 1)
        chosen.append(settings)
        for features, into in ((_features(batch, settings), maes), (default, defaults)):
            model = fit_delta_model(tb, td, features)
            into.append(
                float(np.mean(np.abs(model.delta(batch.take(test)) - delta[test])) * KCAL_PER_HARTREE)
            )
    return NestedCV(maes, chosen, defaults)


def extrapolation_curve(
    batch: MoleculeBatch,
    delta: np.ndarray,
    min_train: int = 10,
    models: Mapping[str, Fitter] | None = None,
) -> list[dict[str, Any]]:
    """For each ``k``: train on molecules with at most ``k`` heavy atoms, test on the larger ones.

    Rows with fewer than ``min_train`` training molecules are left out.  Each row has
    ``max_heavy_train``, ``n_train``, ``n_test`` and ``mae_<model>_kcal_mol``.
    """
    heavy = batch.heavy_atoms()
    rows = []
    for k in np.unique(heavy)[:-1]:
        train, test = np.flatnonzero(heavy <= k), np.flatnonzero(heavy > k)
        if len(train) < min_train:
            continue
        split = Split("size", train, test, f"trained on <= {k} heavy atoms")
        result = evaluate(batch, delta, split, dict(models or MODELS))
        row: dict[str, Any] = {"max_heavy_train": int(k), "n_train": len(train), "n_test": len(test)}
        row.update(
            {f"mae_{name}_kcal_mol": round(result.mae_kcal_mol(name), 3) for name in result.predictions}
        )
        rows.append(row)
    return rows


def repeated_metrics(
    batch: MoleculeBatch, delta: np.ndarray, n_splits: int = 50, seed: int = 0
) -> dict[str, float]:
    """Flat figures of :func:`repeated_splits` for a servable's metrics.

    ``mae_random<n>_<model>_{median,p10,p90}_kcal_mol`` for every model, and ``n_splits``.
    """
    out: dict[str, float] = {"n_splits": float(n_splits)}
    for name, values in repeated_splits(
        batch, np.asarray(delta, dtype=np.float64), n_splits, seed=seed
    ).items():
        spread = Spread.of(values)
        for stat in ("median", "p10", "p90"):
            out[f"mae_random{n_splits}_{name}_{stat}_kcal_mol"] = round(float(getattr(spread, stat)), 4)
    return out


def study_statistics(
    batch: MoleculeBatch, delta: np.ndarray, n_splits: int = 50, nested: bool = True, seed: int = 0
) -> dict[str, Any]:
    """Every figure of this module for one data set, as JSON-ready data.

    ``repeated`` and ``leave_one_out``: a :class:`Spread` per model; ``nested_cv``: the
    tuned model's outer MAE, the default settings' on the same folds and the settings
    each fold chose; ``chosen_features``: the final choice on every molecule and its
    cross-validated MAE; ``extrapolation``: :func:`extrapolation_curve`'s rows.
    """
    delta = np.asarray(delta, dtype=np.float64)
    out: dict[str, Any] = {
        "molecules": len(batch),
        "n_splits": n_splits,
        "repeated": {
            k: Spread.of(v).to_dict() for k, v in repeated_splits(batch, delta, n_splits, seed=seed).items()
        },
        "leave_one_out": {k: Spread.of(v).to_dict() for k, v in leave_one_out(batch, delta).items()},
        "extrapolation": extrapolation_curve(batch, delta),
    }
    if nested:
        result = nested_cv(batch, delta, seed=seed)
        settings, table = choose_features(batch, delta, seed=seed)
        out["nested_cv"] = {
            "outer_mae_kcal_mol": Spread.of(result.outer_mae_kcal_mol).to_dict(),
            "default_settings_mae_kcal_mol": Spread.of(result.default_mae_kcal_mol).to_dict(),
            "chosen_per_fold": result.chosen,
        }
        best = min(table, key=lambda row: row["cv_mae_kcal_mol"])
        default = next(
            row for row in table if (row["cutoff"], row["n_centers"], row["r_min"]) == (3.2, 12, 0.9)
        )
        out["chosen_features"] = {
            **settings,
            "cv_mae_kcal_mol": round(best["cv_mae_kcal_mol"], 3),
            "default_cv_mae_kcal_mol": round(default["cv_mae_kcal_mol"], 3),
            "grid": {k: list(v) for k, v in GRID.items()},
        }
    return out


__all__ = [
    "GRID",
    "NestedCV",
    "Spread",
    "choose_features",
    "cv_mae",
    "extrapolation_curve",
    "grid_settings",
    "leave_one_out",
    "nested_cv",
    "repeated_metrics",
    "repeated_splits",
    "study_statistics",
]
