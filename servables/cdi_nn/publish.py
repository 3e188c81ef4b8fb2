"""Describe and publish the CDI_NN models of Cherukara, Nashed & Harder (2018).

The two Keras 2.1 HDF5 files (``structure_weights.hdf5``, ``phase_weights.hdf5``)
are published as they are; their input and output schemas come from the models
(32x32x1 in, 32x32x1 out), their credit from ``metadata.yaml``.

Usage::

    python -m servables.cdi_nn.publish [--hub DIR] [--user NAME] [--data DIR]

``--data`` is the folder holding ``cdi_nn/`` (default ``$MATTERHUB_MIRROR`` or
``../shared/data``).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from hub.config import mirror_candidates

HERE = Path(__file__).resolve().parent


def data_root(given: str | None = None) -> Path:
    for cand in mirror_candidates(given):
        if cand and (Path(cand) / "cdi_nn").is_dir():
            return Path(cand)
    raise SystemExit("the CDI_NN files were not found: give --data DIR (the folder holding cdi_nn/)")


def metadata() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((HERE / "metadata.yaml").read_text())
    return data


def describe_models(hub: Any, root: Path) -> dict[str, Any]:
    """``{"structure": ServableDescription, "phase": ...}`` from the real files under ``root/cdi_nn``."""
    from hub.servables.schema import ArgSpec

    meta = metadata()
    common = meta["common"]
    out = {}
    for key, m in meta["models"].items():
        sv = hub.describe(
            root / "cdi_nn" / m["file"],
            name=m["name"],
            title=m["title"],
            description=" ".join(m["description"].split()),
            authors=common["authors"],
            paper_doi=common["paper_doi"],
            domains=common["domains"],
            publication_year=common["publication_year"],
            visible_to=common["visible_to"],
            inputs=ArgSpec.ndarray([None, 32, 32, 1], "float", dtype="float32", description=m["input"]),
            outputs=ArgSpec.ndarray([None, 32, 32, 1], "float", dtype="float32", description=m["output"]),
            source_repository=common["source_repository"],
            citation=" ".join(common["citation"].split()),
        )
        out[key] = sv
    return out


def example_patterns(root: Path, n: int = 8) -> np.ndarray:
    """``n`` real network inputs ``(n, 32, 32, 1)``: slices of the real 3D Bragg CDI volume
    (``ft_downsampled_32.npy``) normal to its last axis, the central one (through the Bragg
    peak) first and then its neighbours, each fed as the authors fed real data (the modulus,
    centred, scaled to a maximum of 10,000: :func:`real_data.authors_input`), so the
    networks give non-trivial outputs."""
    from .real_data import authors_input

    volume = np.load(root / "cdi_nn" / "ft_downsampled_32.npy").astype(np.float64)
    centre = int(np.unravel_index(int(np.argmax(volume)), volume.shape)[2])
    order = sorted(range(volume.shape[2]), key=lambda i: (abs(i - centre), i))[:n]
    return authors_input(np.stack([volume[:, :, i] ** 2 for i in order]))


def publish(hub: Any, root: Path) -> dict[str, str]:
    """Publish both models; returns ``{"structure": "owner/cdi-nn-structure", "phase": ...}``."""
    return {key: hub.publish_servable(sv) for key, sv in describe_models(hub, root).items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--hub", default=None, help="hub folder (default $MATTERHUB_HOME or ~/.matterhub)")
    parser.add_argument("--user", default=None)
    parser.add_argument("--data", default=None)
    args = parser.parse_args()
    from hub import Hub

    root = data_root(args.data)
    with Hub(args.hub, user=args.user) as hub:
        names = publish(hub, root)
        x = example_patterns(root, 2)
        for key, name in names.items():
            info = hub.servable(name)
            y = hub.run(name, x)
            print(f"{key}: published {info.id}@{info.version}; ran on 2 real patterns -> {y.shape}")


if __name__ == "__main__":
    main()
