"""Atomization-energy servable benchmark (see ../shared/design/BENCHMARKS.md).

The study of ``servables/atomization_delta`` (Ward et al. 2019, Δ-learning of
G4MP2 - B3LYP) is published into a temporary hub: the 102 real G4MP2 molecules
through Connect, the Δ-model trained on them, the ``atomization-delta``
servable.  Then:

a. Accuracy (not timed): held-out mean absolute errors in kcal/mol of the
   Δ-model and of two baselines (the mean correction; a linear fit on element
   counts) on a random split (20 %, seed 0) and with the largest molecules (9
   heavy atoms) held out.
b. Throughput: ``hub.run(name, molecules)`` (schema check, the worker pool, a
   pipe to a worker process that keeps the model loaded) side by side with the
   same model called directly in this process (the limit), on batches drawn from
   the real molecules (fixed seed, each randomly rotated and moved, so every XYZ
   text differs).  A and B alternate (A B A B ...) after a warm-up; medians and
   min-max spreads.  ``molecules_per_s`` is hub.run's at a batch of 2,000.
c. Where the in-process time goes at the largest batch: XYZ parsing,
   featurization, regression.
d. How far the held-out error can be trusted (not timed; issue 20): the MAE over 50
   seeded random splits and leave-one-out (median, 10th-90th percentiles, mean ± sd)
   for the model and both baselines; the representation's settings by nested
   cross-validation (the choice made inside each outer training fold) against the fixed
   settings on the same folds; train on molecules of at most k heavy atoms, test on
   the larger ones.

Needs the G4MP2 data: ``$MATTERHUB_MIRROR`` or ``../shared/data``, else it is
fetched from its public home (github.com/globus-labs/g4mp2-atomization-energy).

Usage: python benchmarks/bench_atomization.py [--quick]
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

sys.path.insert(0, str(REPO / "benchmarks"))

from bench_servables import alternate, ms  # noqa: E402

from hub import Hub  # noqa: E402
from servables.atomization_delta import publish as study  # noqa: E402
from servables.atomization_delta.statistics import study_statistics  # noqa: E402
from servables.atomization_delta.xyz import parse_xyz  # noqa: E402

#: The batch whose hub.run rate is the headline figure (goal: >= 2,000 molecules/s on 2 cores).
HEADLINE_BATCH = 2000


def timed(fn: Callable[[], Any], rounds: int) -> list[float]:
    fn()
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller sizes, under a minute on 2 cores")
    args = parser.parse_args()
    quick = args.quick
    batches = [100, HEADLINE_BATCH] if quick else [100, HEADLINE_BATCH, 20000]
    rounds = 5 if quick else 15
    out: dict[str, Any] = {"bench": "atomization", "quick": quick, "cores": os.cpu_count()}
    t_start = time.perf_counter()

    with tempfile.TemporaryDirectory() as tmp:
        hub = Hub(tmp, user="bench", progress=False)
        try:
            t0 = time.perf_counter()
            report = study.publish_study(hub)
            publish_s = time.perf_counter() - t0
            name = report["servable"]
            frame = study.load_molecules(hub, report["dataset"])
            model = study.train(frame)
            print(
                f"atomization benchmark ({'quick' if quick else 'full'}; {os.cpu_count()} cores): "
                f"{report['molecules']} real G4MP2 molecules; dataset, training and servable published in "
                f"{publish_s:.1f} s"
            )

            # -- a. accuracy --------------------------------------------------------------------
            m = report["metrics"]
            print("\na. held-out mean absolute error (kcal/mol)")
            print(f"   {'model':<34}{'random split':>14}{'largest held out':>18}")
            for model_name, label in (
                ("delta_model", "Δ-model (pair distances, ridge)"),
                ("baseline_counts", "baseline: linear on element counts"),
                ("baseline_mean", "baseline: mean correction"),
            ):
                print(
                    f"   {label:<34}{m[f'mae_random_{model_name}_kcal_mol']:>14.3f}"
                    f"{m[f'mae_largest_{model_name}_kcal_mol']:>18.3f}"
                )
            print(
                f"   ({int(m['n_test_random'])} random and {int(m['n_test_largest'])} largest molecules held out)"
            )
            out.update(
                molecules=report["molecules"],
                mae_kcal_mol=m["mae_random_delta_model_kcal_mol"],
                baseline_mean_mae=m["mae_random_baseline_mean_kcal_mol"],
                baseline_counts_mae=m["mae_random_baseline_counts_kcal_mol"],
                mae_largest_kcal_mol=m["mae_largest_delta_model_kcal_mol"],
                baseline_mean_mae_largest=m["mae_largest_baseline_mean_kcal_mol"],
                baseline_counts_mae_largest=m["mae_largest_baseline_counts_kcal_mol"],
            )

            # -- b. throughput ----------------------------------------------------------------
            print(f"\nb. throughput: hub.run vs the model in this process ({rounds} rounds, A B A B)")
            for batch in batches:
                inputs = study.sampled_inputs(frame, batch, seed=batch)

                def hub_run(inputs: list[dict[str, Any]] = inputs) -> Any:
                    return hub.run(name, inputs)

                def direct(inputs: list[dict[str, Any]] = inputs) -> Any:
                    return model(inputs)

                ta, tb = alternate(hub_run, direct, rounds)
                rate_a = batch / statistics.median(ta)
                rate_b = batch / statistics.median(tb)
                ratio = statistics.median(ta) / statistics.median(tb)
                print(
                    f"   batch {batch:>6}: hub.run {ms(ta)} = {rate_a:>9,.0f} mol/s   "
                    f"direct {ms(tb)} = {rate_b:>9,.0f} mol/s   ratio {ratio:.2f}"
                )
                out[f"molecules_per_s_batch{batch}"] = round(rate_a)
                out[f"direct_molecules_per_s_batch{batch}"] = round(rate_b)
                out[f"ratio_to_direct_batch{batch}"] = round(ratio, 3)
                if batch == HEADLINE_BATCH:
                    out.update(
                        molecules_per_s=round(rate_a),
                        direct_molecules_per_s=round(rate_b),
                        ratio_to_direct=round(ratio, 3),
                        batch=batch,
                        goal_molecules_per_s=2000,
                    )

            # -- c. where the in-process time goes --------------------------------------------
            big = study.sampled_inputs(frame, batches[-1], seed=1)
            texts = [x["xyz"] for x in big]
            parsed = parse_xyz(texts, model.elements)
            features = model.features.transform(parsed)
            parts = {
                "parse XYZ": timed(lambda: parse_xyz(texts, model.elements), rounds),
                "featurize": timed(lambda: model.features.transform(parsed), rounds),
                "ridge predict": timed(lambda: model.regressor.predict(features), rounds),
            }
            print(f"\nc. in-process time at batch {batches[-1]}:")
            for label, xs in parts.items():
                per = statistics.median(xs) / batches[-1] * 1e6
                print(f"   {label:<14} {ms(xs)}  ({per:.1f} us per molecule)")
                out[f"us_per_molecule_{label.split()[0].lower()}"] = round(per, 2)

            # -- d. how far the held-out error can be trusted (issue 20) --------------------------
            d = study_statistics(study.batch_of(frame), frame["delta"].to_numpy(), n_splits=50)
            labels = {
                "delta_model": "Δ-model",
                "baseline_counts": "linear on element counts",
                "baseline_mean": "mean correction",
            }
            print("\nd. held-out MAE (kcal/mol) as a spread: median (10th-90th percentile); mean ± sd")
            for key, title in (("repeated", "50 random 80/20 splits"), ("leave_one_out", "leave-one-out")):
                print(f"   {title}:")
                for model_name, label in labels.items():
                    sp = d[key][model_name]
                    print(
                        f"     {label:<26}{sp['median']:>7.2f} ({sp['p10']:.2f}-{sp['p90']:.2f}); "
                        f"{sp['mean']:.2f} ± {sp['std']:.2f}"
                    )
            nested = d["nested_cv"]
            chosen = d["chosen_features"]
            print(
                "   representation settings by nested 5x5-fold CV over "
                f"{len(chosen['grid']['cutoff']) * len(chosen['grid']['n_centers']) * len(chosen['grid']['r_min'])} "
                f"settings: tuned {nested['outer_mae_kcal_mol']['mean']:.2f} ± {nested['outer_mae_kcal_mol']['std']:.2f}, "
                f"fixed (3.2 Å, 12 Gaussians from 0.9 Å) {nested['default_settings_mae_kcal_mol']['mean']:.2f} ± "
                f"{nested['default_settings_mae_kcal_mol']['std']:.2f} on the same outer folds; "
                f"chosen per fold: {[(c['cutoff'], c['n_centers'], c['r_min']) for c in nested['chosen_per_fold']]}; "
                f"on all molecules: ({chosen['cutoff']}, {chosen['n_centers']}, {chosen['r_min']}) "
                f"CV {chosen['cv_mae_kcal_mol']:.3f} vs fixed {chosen['default_cv_mae_kcal_mol']:.3f}"
            )
            print("   size extrapolation (train on <= k heavy atoms, test on the larger):")
            for row in d["extrapolation"]:
                print(
                    f"     k={row['max_heavy_train']} ({row['n_train']:>3} train / {row['n_test']:>3} test): "
                    f"Δ-model {row['mae_delta_model_kcal_mol']:.2f}, element counts "
                    f"{row['mae_baseline_counts_kcal_mol']:.2f}"
                )
            out["statistics"] = d
            out.update(
                mae_median_random50=d["repeated"]["delta_model"]["median"],
                mae_p10_random50=d["repeated"]["delta_model"]["p10"],
                mae_p90_random50=d["repeated"]["delta_model"]["p90"],
                baseline_counts_median_random50=d["repeated"]["baseline_counts"]["median"],
                mae_loo=d["leave_one_out"]["delta_model"]["mean"],
                mae_nested_cv=nested["outer_mae_kcal_mol"]["mean"],
            )
        finally:
            hub.close()

    out["seconds"] = round(time.perf_counter() - t_start, 1)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
