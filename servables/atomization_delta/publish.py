"""The atomization-energy study of Ward et al. (2019), end to end: data, Δ-model, servable.

1. Publish the G4MP2 molecules (``g4mp2/GDB_Sugar_Data``: geometries, G4MP2
   energies, and the B3LYP energies table) as an MDF dataset through Connect:
   one record per molecule.
2. Load them back through the hub's Intake catalog and join each molecule's
   B3LYP 0 K energy from the dataset's table.
3. Score the Δ-model of E0(G4MP2) - E0(B3LYP) and two baselines (the mean
   correction; a linear fit on element counts) on two held-out splits (random;
   the largest molecules), then train it on every molecule.
4. Publish it as the servable ``atomization-delta`` with its training data's hub
   id, the paper's DOI, the held-out errors and the atomic reference energies.

Usage::

    python -m servables.atomization_delta.publish [--hub DIR] [--user NAME] [--data DIR] [--seed N]

``--data`` is the folder holding ``g4mp2/`` (default ``$MATTERHUB_MIRROR`` or
``../shared/data``; without them the files are fetched from their public home).  ``publish_study(hub, data_root)`` does all of it for
``matterhub demo``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from hub.config import mirror_candidates

from .data import MIRROR_FOLDER, U0_FIELD, fetch_public_copy, load_molecules, submit_dataset
from .evaluation import SplitResult, error_rows, evaluate, largest_split, metrics, random_split
from .model import G4MP2_ATOMIC_ENERGIES, AtomizationDeltaModel, fit_delta_model
from .statistics import repeated_metrics
from .xyz import MoleculeBatch, from_arrays, to_xyz

HERE = Path(__file__).resolve().parent
#: The servable's own modules, packaged with it (``code/`` in the artifact).
CODE = [HERE / f"{m}.py" for m in ("xyz", "features", "model")]
#: Elements of the data set, in feature order (by atomic number).
ELEMENTS = ("H", "C", "O")


def data_folder(data_root: str | os.PathLike[str] | None = None) -> Path:
    """The folder of the G4MP2 data (``g4mp2/GDB_Sugar_Data``).

    Found under ``data_root``, ``$MATTERHUB_MIRROR`` or ``../shared/data``; without
    any of them (a fresh machine, Binder), copied from its public home into the
    hub's download cache (see :func:`data.fetch_public_copy`).

    Raises
    ------
    FileNotFoundError
        When ``data_root`` is given but holds no ``g4mp2/GDB_Sugar_Data``.
    """
    if data_root:
        folder = Path(data_root) / MIRROR_FOLDER
        if not folder.is_dir():
            raise FileNotFoundError(
                f"{data_root} holds no {MIRROR_FOLDER.as_posix()} (a copy of data/input of "
                "github.com/globus-labs/g4mp2-atomization-energy); give the folder that holds g4mp2/"
            )
        return folder
    for root in mirror_candidates():
        if (Path(root) / MIRROR_FOLDER).is_dir():
            return Path(root) / MIRROR_FOLDER
    return fetch_public_copy()


def metadata() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((HERE / "metadata.yaml").read_text())
    return data


def batch_of(frame: pd.DataFrame) -> MoleculeBatch:
    """The molecules of a :func:`~data.load_molecules` frame as one batch."""
    return from_arrays(frame["symbols"].tolist(), frame["positions"].tolist(), ELEMENTS)


def servable_inputs(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The servable's input for the molecules of ``frame``: ``[{"xyz": ..., "u0": ...}, ...]``."""
    return [
        {"xyz": to_xyz(s, p, comment=name), "u0": float(u0)}
        for s, p, name, u0 in zip(
            frame["symbols"], frame["positions"], frame["name"], frame["u0"], strict=True
        )
    ]


def sampled_inputs(frame: pd.DataFrame, n: int, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` servable inputs drawn from the real molecules of ``frame`` (with replacement, seeded),
    each randomly rotated and moved, so no two texts are the same: a large, realistic batch."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(frame), size=n)
    out = []
    for k, i in enumerate(picks):
        rotation, _ = np.linalg.qr(rng.normal(size=(3, 3)))
        pos = np.asarray(frame["positions"].iloc[i]) @ rotation.T + rng.normal(scale=5.0, size=3)
        name = f"{frame['name'].iloc[i]} #{k}"
        out.append(
            {"xyz": to_xyz(frame["symbols"].iloc[i], pos, comment=name), "u0": float(frame["u0"].iloc[i])}
        )
    return out


def evaluate_study(frame: pd.DataFrame, test_fraction: float = 0.2, seed: int = 0) -> list[SplitResult]:
    """The Δ-model and both baselines, each scored on the random and the largest-molecules split."""
    batch, delta = batch_of(frame), frame["delta"].to_numpy()
    splits = [random_split(len(frame), test_fraction, seed), largest_split(frame["n_heavy"].to_numpy())]
    return [evaluate(batch, delta, split) for split in splits]


def train(frame: pd.DataFrame) -> AtomizationDeltaModel:
    """The Δ-model fitted on every molecule of ``frame``."""
    return fit_delta_model(batch_of(frame), frame["delta"].to_numpy())


def describe_servable(
    hub: Any,
    model: AtomizationDeltaModel,
    figures: dict[str, float],
    dataset_id: str,
    n_train: int,
    example: list[dict[str, Any]],
) -> Any:
    """The servable description: schemas, credit, training data, held-out errors, reference
    energies, an ``example`` input (real molecules) and how a record of the dataset is an input."""
    from hub.servables.record_input import RecordInput
    from hub.servables.schema import ArgSpec

    meta = metadata()
    molecule = ArgSpec.dict_of(
        {
            "xyz": ArgSpec.scalar(
                "string",
                description="XYZ text of the molecule relaxed at B3LYP/6-31G(2df,p)",
                units="Å",
                format="xyz",
            ),
            "u0": ArgSpec.scalar(
                "float",
                description="B3LYP/6-31G(2df,p) 0 K energy, electronic plus zero-point",
                units="Hartree",
            ),
        }
    )
    prediction = ArgSpec.dict_of(
        {
            "g4mp2_0k": ArgSpec.scalar("float", description="predicted G4MP2 0 K energy", units="Hartree"),
            "atomization_energy": ArgSpec.scalar(
                "float",
                description="sum of the G4MP2 0 K atomic energies minus the predicted G4MP2 0 K energy",
                units="Hartree",
            ),
        }
    )
    return hub.describe(
        model,
        type="python",
        name=meta["name"],
        title=meta["title"],
        description=" ".join(meta["description"].split()),
        authors=meta["authors"],
        paper_doi=meta["paper_doi"],
        dois=meta["dois"],
        domains=meta["domains"],
        visible_to=meta["visible_to"],
        training_data=[dataset_id],
        metrics={**figures, "n_train": float(n_train)},
        inputs=ArgSpec.list_of(molecule, description="molecules (C, H, O) with their B3LYP 0 K energies"),
        outputs=ArgSpec.list_of(prediction, description="one prediction per molecule, in input order"),
        examples=[example],
        input_from_record=RecordInput(
            source_name=meta["dataset"]["source_name"],
            file="*.xyz",
            parts={"xyz": "file:text", "u0": U0_FIELD},
        ),
        code=CODE,
        requirements=["scikit-learn"],
        reference_atomic_energies=dict(model.atomic_energies),
        reference_atomic_energies_units="Hartree",
        reference_atomic_energies_source=" ".join(meta["reference_source"].split()),
        low_fidelity_method="B3LYP/6-31G(2df,p)",
        high_fidelity_method="G4MP2",
        representation=(
            f"element counts + Gaussian-expanded pair-distance sums per element pair "
            f"(cutoff {model.features.cutoff} Å, {model.features.n_centers} Gaussians from "
            f"{model.features.r_min} Å)"
        ),
    )


def publish_study(
    hub: Any, data_root: str | os.PathLike[str] | None = None, *, test_fraction: float = 0.2, seed: int = 0
) -> dict[str, Any]:
    """Publish the G4MP2 dataset and the trained ``atomization-delta`` servable into ``hub``.

    Parameters
    ----------
    hub
        The hub to publish into (its principal owns the servable).
    data_root
        The folder holding ``g4mp2/GDB_Sugar_Data`` (default ``$MATTERHUB_MIRROR``
        or ``../shared/data``, else the data's public home).
    test_fraction, seed
        The random held-out split.

    Returns
    -------
    dict
        ``dataset`` (source_id), ``servable`` (``owner/atomization-delta``),
        ``molecules``, ``metrics`` (held-out MAEs, kcal/mol) and ``errors`` (the
        error table's rows).
    """
    meta = metadata()
    folder = data_folder(data_root)
    dataset_id = submit_dataset(hub, folder, meta["dataset"])
    frame = load_molecules(hub, dataset_id)
    results = evaluate_study(frame, test_fraction, seed)
    # one split is one draw: the spread over 50 seeded splits goes with it
    figures = {**metrics(results), **repeated_metrics(batch_of(frame), frame["delta"].to_numpy())}
    model = train(frame)
    example = servable_inputs(frame.head(1))
    name = hub.publish_servable(describe_servable(hub, model, figures, dataset_id, len(frame), example))
    from hub.catalog.locate import cache_dir

    fetched = folder.resolve().is_relative_to(cache_dir().resolve())
    return {
        "data": f"Ward et al.'s G4MP2 molecules, {'downloaded from their public home to' if fetched else 'from'} "
        f"{folder}",
        "dataset": dataset_id,
        "servable": name,
        "molecules": len(frame),
        "metrics": figures,
        "errors": error_rows(results),
        "reference_atomic_energies": dict(G4MP2_ATOMIC_ENERGIES),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--hub", default=None, help="hub folder (default $MATTERHUB_HOME or ~/.matterhub)")
    parser.add_argument("--user", default=None)
    parser.add_argument("--data", default=None, help="folder holding g4mp2/ (default $MATTERHUB_MIRROR)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--test-fraction", type=float, default=0.2)
    args = parser.parse_args()
    from hub import Hub

    with Hub(args.hub, user=args.user) as hub:
        report = publish_study(hub, args.data, test_fraction=args.test_fraction, seed=args.seed)
        print(f"dataset {report['dataset']}: {report['molecules']} molecules")
        print(f"servable {report['servable']}; held-out errors (kcal/mol):")
        print(pd.DataFrame(report["errors"]).to_string(index=False))
        frame = load_molecules(hub, report["dataset"]).head(3)
        out = hub.run(report["servable"], servable_inputs(frame))
        for name, ref, pred in zip(frame["name"], frame["g4mp2_0k"], out, strict=True):
            print(f"  {name:<28} G4MP2 {ref:.6f} Ha, predicted {pred['g4mp2_0k']:.6f} Ha")


if __name__ == "__main__":
    main()
