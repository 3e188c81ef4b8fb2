"""CDI study benchmark (see ../shared/design/BENCHMARKS.md).

Diffraction patterns per second inverted into structure and phase: a pair of
networks (structure, then phase) through ``hub.run`` (schema check, access
check, the worker pool keeping the models loaded) side by side with the same
two Keras files called directly in this process (the limit).  A and B alternate
(A B A B ...) after a warm-up; medians and min-max spreads.

Pairs: MatterHub's stand-in (``servables/cdi_nn/standin``, always) and the
authors' networks of Cherukara et al. (2018) (when ``../shared/data/cdi_nn`` or
``$MATTERHUB_MIRROR`` has them).  Inputs: patterns from the project's CDI
simulator (``servables/cdi_nn/simulate.py``, fixed seed), 32x32, as the
networks take them.  Also: the simulator's own patterns/s, and (not timed) both pairs
scored on crystals of a held-out parameter range (``study.evaluate_held_out``: 23-28 px,
phase ramps of 0.6-0.9 rad/px, sizes and ramps the stand-in was not trained on; and new
crystals of its training range for comparison), and on real data: patterns cut from a
measured 3D Bragg CDI volume through its peak, against the projections of its 3D
reconstruction (``servables/cdi_nn/real_data.py``).

Sizes: --quick batches 1 and 64, 5 rounds, 64 held-out crystals; full batches 1, 64 and
512, 15 rounds, 256 held-out crystals.

Usage: python benchmarks/bench_cdi.py [--quick]
The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_servables import alternate, ms  # noqa: E402

from hub import Hub  # noqa: E402
from hub.servables.keras import load_model  # noqa: E402
from servables.cdi_nn import simulate, study  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes, under a minute on 2 cores")
    args = parser.parse_args()
    quick = args.quick
    batches = (1, 64) if quick else (1, 64, 512)
    rounds = 5 if quick else 15
    t_start = time.perf_counter()
    out: dict[str, Any] = {"bench": "cdi", "quick": quick, "cores": os.cpu_count(), "rounds": rounds}

    t0 = time.perf_counter()
    batch = simulate.simulate(max(batches), seed=0)
    out["simulated_patterns_per_s"] = round(len(batch) / (time.perf_counter() - t0), 1)
    x_all = simulate.model_input(batch.intensity)
    print(
        f"CDI benchmark ({'quick' if quick else 'full'}); {os.cpu_count()} cores; "
        f"{len(batch)} simulated patterns (seed 0, 32x32): {out['simulated_patterns_per_s']:,.0f} patterns/s simulated"
    )

    root = study.find_data_root()
    with tempfile.TemporaryDirectory() as tmp, Hub(tmp, user="bench", progress=False) as hub:
        names = study.publish_servables(hub, root)
        files = {
            "standin": (study.STANDIN_DIR / "structure.keras", study.STANDIN_DIR / "phase.keras"),
        }
        if root is not None:
            files["authors"] = (
                root / "cdi_nn" / "structure_weights.hdf5",
                root / "cdi_nn" / "phase_weights.hdf5",
            )
        else:
            print("the authors' networks (../shared/data/cdi_nn) are not here: the stand-in only")
        keys = {"standin": ("standin_structure", "standin_phase"), "authors": ("structure", "phase")}
        print(
            f"\n{'pair':<8} {'batch':>5}   {'hub.run (structure + phase)':<34} {'keras predict, in process':<34} ratio"
        )
        for pair, (s_file, p_file) in files.items():
            direct_s, direct_p = load_model(s_file), load_model(p_file)
            s_name, p_name = (names[k] for k in keys[pair])
            for size in batches:
                x = x_all[:size]

                def via_hub(x: np.ndarray = x, s: str = s_name, p: str = p_name) -> Any:
                    return hub.run(s, x), hub.run(p, x)

                def direct(x: np.ndarray = x, s: Any = direct_s, p: Any = direct_p) -> Any:
                    return s.predict(x, verbose=0), p.predict(x, verbose=0)

                np.testing.assert_allclose(via_hub()[0], direct()[0], rtol=1e-4, atol=1e-5)
                th, td = alternate(via_hub, direct, rounds)
                ratio = statistics.median(th) / statistics.median(td)
                print(f"{pair:<8} {size:>5}   {ms(th):<34} {ms(td):<34} {ratio:.3f}")
                out[f"{pair}_batch{size}_hub_ms"] = round(statistics.median(th) * 1e3, 3)
                out[f"{pair}_batch{size}_direct_ms"] = round(statistics.median(td) * 1e3, 3)
                out[f"{pair}_ratio_batch{size}"] = round(ratio, 3)
        headline = "authors" if "authors" in files else "standin"
        big = max(batches)
        out["headline_pair"] = headline
        out["patterns_per_s_hub"] = round(big / (out[f"{headline}_batch{big}_hub_ms"] / 1e3), 1)
        out["patterns_per_s_direct"] = round(big / (out[f"{headline}_batch{big}_direct_ms"] / 1e3), 1)
        out["ratio_batch64"] = out[f"{headline}_ratio_batch64"]
        out["ratio_batch1"] = out[f"{headline}_ratio_batch1"]
        held = study.evaluate_held_out(hub, names, n=64 if quick else study.N_HELD_OUT)
        print(
            f"\nsimulated crystals (not timed), {held['n']} per range, seed {held['seed']}: the held-out range "
            f"({held['held_out_settings']}: sizes and phase ramps the stand-in never saw) and its training "
            f"range ({held['in_range_settings']})"
        )
        print(
            f"   {'range':<9} {'pair':<8} {'amplitude err':>14} {'support IoU':>12} {'phase err (flat)':>18}"
        )
        for where in ("held_out", "in_range"):
            for label, errs in held[where].items():
                print(
                    f"   {where:<9} {label:<8} {errs['amplitude_error_mean']:>14.3f} "
                    f"{errs['support_iou_mean']:>12.3f} {errs['phase_error_mean']:>9.3f} "
                    f"({errs['phase_rms_truth_mean']:.3f})"
                )
                prefix = "heldout" if where == "held_out" else "inrange"
                for key in ("amplitude_error_mean", "support_iou_mean", "phase_error_mean"):
                    out[f"{prefix}_{label}_{key}"] = round(errs[key], 4)
                out[f"{prefix}_flat_phase_error_mean"] = round(errs["phase_rms_truth_mean"], 4)
        out["heldout_n"] = held["n"]
        if root is not None:
            real = study.evaluate_real(hub, names, root)
            print(
                "\nreal data (not timed): the slices through the peak of a measured 3D Bragg CDI volume, "
                "against the projections of its 3D reconstruction; projection-slice check per axis "
                + ", ".join(f"{c:.3f}" for c in real["consistency"])
            )
            print(
                f"   {'pair':<8} {'input max':>10} {'amplitude err':>14} {'support IoU':>12} {'phase err (flat)':>18}"
            )
            for label, pair_errors in real["pairs"].items():
                print(
                    f"   {label:<8} {pair_errors['input_max']:>10,.0f} {pair_errors['amplitude_error_mean']:>14.3f} "
                    f"{pair_errors['support_iou_mean']:>12.3f} {pair_errors['phase_error_mean']:>9.3f} "
                    f"({pair_errors['phase_rms_truth_mean']:.3f})"
                )
            print("   the authors' networks at other input maxima (sensitivity, looks at the test patterns):")
            for maximum, scan in real["authors_scale_scan"].items():
                print(
                    f"   {'':<8} {maximum:>10,.0f} {scan['amplitude_error_mean']:>14.3f} "
                    f"{scan['support_iou_mean']:>12.3f} {scan['phase_error_mean']:>9.3f}"
                )
            out["real_data"] = {
                "consistency": [round(c, 4) for c in real["consistency"]],
                **{
                    f"{label}_{key}": round(errs[key], 4)
                    for label, errs in real["pairs"].items()
                    for key in (
                        "amplitude_error_mean",
                        "support_iou_mean",
                        "phase_error_mean",
                        "phase_rms_truth_mean",
                    )
                },
            }
    out["seconds"] = round(time.perf_counter() - t_start, 1)
    print(
        f"\n{headline} pair, batch {big}: {out['patterns_per_s_hub']:,.0f} patterns/s through hub.run, "
        f"{out['patterns_per_s_direct']:,.0f} patterns/s with Keras in process (ratio at batch 64: "
        f"{out['ratio_batch64']}; goal of bench_servables: <= 1.05 for large batches)"
    )
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
