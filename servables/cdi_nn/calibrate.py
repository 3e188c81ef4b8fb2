"""Find the input scale the authors' CDI_NN networks respond to, on simulated patterns.

The networks were trained on patterns whose normalisation the paper and the
authors' repository do not state.  This scans the two natural conventions --
the diffraction modulus ``c * sqrt(I)`` and the intensity ``c * I`` (``I`` from
an object of amplitude 1) -- over a range of ``c``, runs the structure and
phase networks on a simulated batch, and reports the errors of
:mod:`metrics` for each.  The best modulus scale is
:data:`simulate.MODEL_INPUT_SCALE`.

Usage::

    python -m servables.cdi_nn.calibrate [--data DIR] [--n 64] [--seed 100]
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from . import metrics, simulate

#: Scales tried for each convention.
MODULUS_SCALES = (2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0, 17.0, 20.0, 25.0, 30.0)
INTENSITY_SCALES = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)


def scan(
    structure: Any, phase: Any, batch: simulate.CDIBatch, convention: str, scales: tuple[float, ...]
) -> list[dict[str, float]]:
    """One row per scale: the batch summary of :func:`metrics.reconstruction_errors`."""
    rows = []
    for c in scales:
        if convention == "modulus":
            x = simulate.model_input(batch.intensity, scale=c)
        else:
            x = (c * batch.intensity)[..., None].astype(np.float32)
        a = structure.predict(x, verbose=0)[..., 0]
        p = metrics.phase_from_unit(phase.predict(x, verbose=0)[..., 0])
        errors = metrics.reconstruction_errors(a, p, batch.amplitude, batch.phase)
        rows.append({"convention": convention, "scale": c, **metrics.summarize(errors)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", default=None, help="the folder holding cdi_nn/ (default: the mirror)")
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--seed", type=int, default=100)
    args = parser.parse_args()
    from hub.servables.keras import load_model

    from .publish import data_root

    root = data_root(args.data)
    structure = load_model(root / "cdi_nn" / "structure_weights.hdf5")
    phase = load_model(root / "cdi_nn" / "phase_weights.hdf5")
    batch = simulate.simulate(args.n, seed=args.seed)
    rows = scan(structure, phase, batch, "modulus", MODULUS_SCALES)
    rows += scan(structure, phase, batch, "intensity", INTENSITY_SCALES)
    print(f"{'convention':<10} {'scale':>7} {'amp err':>8} {'IoU':>6} {'phase err':>10} {'flat phase':>10}")
    for r in rows:
        print(
            f"{r['convention']:<10} {r['scale']:>7g} {r['amplitude_error_mean']:>8.3f} "
            f"{r['support_iou_mean']:>6.3f} {r['phase_error_mean']:>10.3f} {r['phase_rms_truth_mean']:>10.3f}"
        )
    best = min(rows, key=lambda r: r["amplitude_error_mean"])
    print(f"lowest amplitude error: {best['convention']} x {best['scale']:g}")


if __name__ == "__main__":
    main()
