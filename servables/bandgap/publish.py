"""Train, describe and publish the band-gap servable.

1. Submit the training data (matminer's ``dielectric_constant.csv``: 1,056
   Materials Project compounds) to the hub as a dataset, so the servable can
   name its training data by hub id.
2. Train a scikit-learn pipeline (composition features from ASE's element data
   -> extremely randomized trees) on formula -> band gap, and measure its 5-fold
   cross-validated mean absolute error.
3. Describe and publish it with the dataset's hub id, the paper's DOI and the
   cross-validated error.

Usage::

    python -m servables.bandgap.publish [--hub DIR] [--user NAME] [--data DIR] [--trees N]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from hub.config import mirror_candidates

from .features import CompositionFeaturizer

HERE = Path(__file__).resolve().parent


def data_file(given: str | None = None) -> Path:
    for cand in mirror_candidates(given):
        if cand and (Path(cand) / "matminer" / "dielectric_constant.csv").is_file():
            return Path(cand) / "matminer" / "dielectric_constant.csv"
    raise SystemExit("dielectric_constant.csv was not found: give --data DIR (the folder holding matminer/)")


def metadata() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((HERE / "metadata.yaml").read_text())
    return data


def load_data(csv: Path) -> pd.DataFrame:
    """Formula and band gap (eV) of every compound; line 1 of the file is a ``# ref:`` comment."""
    df = pd.read_csv(csv, skiprows=1, usecols=["formula", "band_gap", "material_id"])
    return df.dropna(subset=["formula", "band_gap"]).reset_index(drop=True)


def make_model(trees: int = 300, seed: int = 0) -> Any:
    from sklearn.ensemble import ExtraTreesRegressor
    from sklearn.pipeline import Pipeline

    return Pipeline(
        [
            ("features", CompositionFeaturizer()),
            ("trees", ExtraTreesRegressor(n_estimators=trees, random_state=seed, n_jobs=1)),
        ]
    )


def train(df: pd.DataFrame, trees: int = 300, folds: int = 5, seed: int = 0) -> tuple[Any, dict[str, float]]:
    """The fitted pipeline and its cross-validated errors (eV)."""
    from sklearn.model_selection import KFold, cross_validate

    X, y = df["formula"].tolist(), df["band_gap"].to_numpy()
    cv = cross_validate(
        make_model(trees, seed),
        X,
        y,
        cv=KFold(folds, shuffle=True, random_state=seed),
        scoring=("neg_mean_absolute_error", "neg_root_mean_squared_error", "r2"),
    )
    metrics = {
        "cv_folds": float(folds),
        "cv_mae_eV": float(-cv["test_neg_mean_absolute_error"].mean()),
        "cv_mae_std_eV": float(cv["test_neg_mean_absolute_error"].std()),
        "cv_rmse_eV": float(-cv["test_neg_root_mean_squared_error"].mean()),
        "cv_r2": float(cv["test_r2"].mean()),
        "baseline_mae_eV": float(np.abs(y - y.mean()).mean()),
        "n_train": float(len(y)),
    }
    return make_model(trees, seed).fit(X, y), metrics


def submit_training_data(hub: Any, csv: Path) -> str:
    """The hub id (source_id) of the training data, submitting it if the hub does not have it."""
    ds_meta = metadata()["dataset"]
    try:
        return str(hub.dataset(ds_meta["source_name"]).metadata["mdf"]["source_id"])
    except Exception:
        pass
    sub = hub.submit(
        csv,
        title=ds_meta["title"],
        authors=ds_meta["authors"],
        source_name=ds_meta["source_name"],
        related_dois=ds_meta["related_dois"],
        description=" ".join(ds_meta["description"].split()),
    )
    if not sub.ok:
        raise SystemExit(f"the training data could not be submitted: {sub.message}")
    return str(sub.source_id)


def describe_model(hub: Any, model: Any, metrics: dict[str, float], dataset_id: str) -> Any:
    from hub.servables.schema import ArgSpec

    meta = metadata()
    return hub.describe(
        model,
        name=meta["name"],
        title=meta["title"],
        description=" ".join(meta["description"].split()),
        authors=meta["authors"],
        dois=meta["dois"],
        domains=meta["domains"],
        visible_to=meta["visible_to"],
        training_data=[dataset_id],
        metrics=metrics,
        inputs=ArgSpec.list_of("string", description="chemical formulas, e.g. ['GaAs', 'MgO']"),
        outputs=ArgSpec.ndarray([None], "float", description="predicted band gap", units="eV"),
        examples=[["GaAs", "MgO"]],
        requirements=["ase"],
        code=[HERE / "features.py"],
    )


def publish(hub: Any, csv: Path, trees: int = 300) -> tuple[str, Any, dict[str, float]]:
    """Submit the data, train, publish; returns the servable name, the model and its metrics."""
    dataset_id = submit_training_data(hub, csv)
    model, metrics = train(load_data(csv), trees=trees)
    return hub.publish_servable(describe_model(hub, model, metrics, dataset_id)), model, metrics


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--hub", default=None, help="hub folder (default $MATTERHUB_HOME or ~/.matterhub)")
    parser.add_argument("--user", default=None)
    parser.add_argument("--data", default=None)
    parser.add_argument("--trees", type=int, default=300)
    args = parser.parse_args()
    from hub import Hub

    with Hub(args.hub, user=args.user) as hub:
        name, _, metrics = publish(hub, data_file(args.data), trees=args.trees)
        print(
            f"published {name}: 5-fold CV MAE {metrics['cv_mae_eV']:.3f} eV (baseline {metrics['baseline_mae_eV']:.3f} eV)"
        )
        print("GaAs, MgO, Si ->", hub.run(name, ["GaAs", "MgO", "Si"]), "eV")


if __name__ == "__main__":
    main()
