"""Band-gap-from-images benchmark (see ../shared/design/BENCHMARKS.md).

Measures, side by side in one run (A B A B ... after a warm-up; medians and
min-max spreads):

a. Generating the stand-in (servables/bandgap_images): images/s of the whole
   rendering (film parameters, thickness texture, per-pixel CIE colour, camera
   noise, the spectrum of the same spot) against the limit, the bare physics
   (the per-pixel transmittance and colour integral alone, in the same numpy
   calls); ``ratio_generate_to_physics`` = A / B time.  Then writing the files
   and submitting them to a hub (one record per image): ``publish_images_per_s``.
b. The three servables through ``hub.run`` (schema check, worker process)
   against the same model called in this process: the onset estimator on
   spectra, the colour-cluster model and the autoencoder on images.
   ``ratio_*_hub`` = hub time / in-process time for one batch.

Compounds and band gaps are the real Materials Project dielectric set (from
``$MATTERHUB_MIRROR`` or ``../shared/data``); film parameters are drawn with a
fixed seed.  The autoencoder is timed with untrained weights (throughput does
not depend on them).  Sizes: full 1,000 images of 32x32 px, batches of 200;
``--quick`` 80 images, batches of 40.

c. The science figure (``--measured``, or after a full run): the onset estimator on
   absorbance computed from MEASURED n and k of real semiconductors and oxides
   (servables/bandgap_images/measured_spectra.py, needs the ``refractiveindex``
   package), per material and by split, the servable's window (``global_max``,
   before) against ``first_edge`` (after); the stand-in's figure is a
   self-consistency check of the renderer it was tuned on.
d. The colour model on MEASURED optical constants (``--colour``; with ``--measured``, or after a
   full or quick run): film images rendered from measured n and k of real materials
   (servables/bandgap_images/measured_images.py) instead of the Tauc edge; the model as the
   servable trains it (on the Tauc stand-in, 400 images of Materials Project gaps) judged on
   them against the literature gaps (``colour_mae_measured_eV``, the headline; baseline: the
   training median), by what colour can show (gaps below 1.7 eV dark, 1.7-3.1 eV visible,
   above 3.1 eV clear), and leave one material out among the measured-n,k images
   (``colour_mae_measured_lomo_eV``); ``colour_mae_measured_coherent_eV`` keeps the films'
   interference (the stand-in has none).  The stand-in's own test MAE is the self-consistency
   check.  8 images of 32x32 px per material (``--quick``: 4).

Usage: python benchmarks/bench_bandgap_images.py [--quick] [--measured] [--colour]
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

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("KERAS_BACKEND", "jax")

from hub import Hub  # noqa: E402
from servables.bandgap_images import (  # noqa: E402
    cie_colour,
    colour_clusters,
    film_optics,
    image_autoencoder,
    measured_images,
    measured_spectra,
    onset_estimator,
    standin_data,
    study,
)


def alternate(a: Callable[[], Any], b: Callable[[], Any], repeats: int) -> tuple[list[float], list[float]]:
    """Times of ``a`` and ``b`` run alternately ``repeats`` times each, after one warm-up of each."""
    a()
    b()
    ta: list[float] = []
    tb: list[float] = []
    for _ in range(repeats):
        for fn, out in ((a, ta), (b, tb)):
            t = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t)
    return ta, tb


def spread(times: list[float]) -> str:
    return f"{statistics.median(times):.3f} s ({min(times):.3f}-{max(times):.3f})"


def bare_physics(plan: Any, size: int) -> None:
    """The limit of (a): transmittance and colour of every pixel, nothing else."""
    weights = cie_colour.xyz_weights()
    energies = film_optics.energy_of(cie_colour.WAVELENGTHS_NM)
    for row in plan.to_dict("records"):
        film = standin_data.film_of(row)
        d = np.full((size * size, 1), film.thickness_nm)
        cie_colour.transmitted_colour(film.transmittance(energies, d), weights)
        film.transmittance(film_optics.ENERGY_GRID_EV, d).mean(axis=0)


def measured_section() -> dict[str, Any]:
    """c. The estimator on measured spectra: per material, by split, before/after."""
    print("\nc. onset estimator on MEASURED optical constants (refractiveindex.info), literature gaps")
    out: dict[str, Any] = {}
    for method in ("global_max", "first_edge"):
        res = measured_spectra.evaluate(method, ("development", "held_out", "unresolved"))
        print(
            f"   {method}" + (" (the servable's default, before)" if method == "global_max" else " (after)")
        )
        for r in res["rows"]:
            print(
                f"     {r['split']:<11} {r['formula']:<15} {r['data']:<28} {r['thickness_nm']:>7.0f} nm  "
                f"literature {r['literature_eV']:.2f} ({r['literature_transition']:<8})  "
                f"estimate {r['estimate_eV']:.2f} ({r['estimated_transition']:<8})  error {r['error_eV']:+.2f}"
            )
        for key in ("development", "held_out", "all", "all_as_500nm_films", "unresolved"):
            m = res[key]
            print(
                f"     {key:<20} mean |error| {m['mean_abs_error_eV']:.3f} eV, max {m['max_abs_error_eV']:.3f}, "
                f"{m['n_missed']:.0f} of {m['n']:.0f} missed"
            )
            for name, value in m.items():
                out[f"measured_{method}_{key}_{name}"] = value
    return out


def colour_section(quick: bool) -> dict[str, Any]:
    """d. The colour model on images rendered from measured n and k: transfer, leave one out."""
    n_per_material = 4 if quick else 8
    print(
        "\nd. colour model on images rendered from MEASURED n and k (refractiveindex.info), "
        f"literature gaps; {n_per_material} images of 32x32 px per material"
    )
    res = measured_images.evaluate(n_standin=400, n_per_material=n_per_material, size=32, seed=0)
    tr, lomo = res["transfer"], res["leave_one_material_out"]
    print(f"   excluded: {'; '.join(f'{k}: {v}' for k, v in res['excluded'].items()) or 'none'}")
    print(f"   trained on the Tauc stand-in (training median {tr['training_median_eV']:.2f} eV):")
    print("     set         material        gap   predicted (range)     |error|  baseline  class")
    for name in ("admitted", "coherent", "unresolved"):
        for r in tr[f"rows_{name}"].to_dict("records"):
            print(
                f"     {name:<11} {r['formula']:<15} {r['gap_ev']:.2f}  {r['predicted_mean_ev']:.2f} "
                f"({r['predicted_min_ev']:.2f}-{r['predicted_max_ev']:.2f})  {r['mae_ev']:6.2f}  "
                f"{r['baseline_mae_ev']:8.2f}  {r['class']}"
            )
    print("   leave one material out (trained on the other materials' measured-n,k images):")
    for r in lomo["rows"].to_dict("records"):
        print(
            f"     {r['formula']:<15} {r['gap_ev']:.2f}  {r['predicted_mean_ev']:.2f} "
            f"({r['predicted_min_ev']:.2f}-{r['predicted_max_ev']:.2f})  {r['mae_ev']:6.2f}  "
            f"{r['baseline_mae_ev']:8.2f}  {r['class']}"
        )
    out: dict[str, Any] = {
        "colour_selfcheck_standin_mae_eV": tr["standin"]["mae_eV"],
        "colour_selfcheck_standin_baseline_mae_eV": tr["standin"]["baseline_mae_eV"],
        "colour_training_median_eV": tr["training_median_eV"],
    }
    for label, m in (
        ("measured", tr["admitted"]),
        ("measured_coherent", tr["coherent"]),
        ("measured_lomo", lomo["summary"]),
        ("measured_unresolved", tr["unresolved"]),
    ):
        print(
            f"   {label:<20} MAE {m['mae_eV']:.3f} eV (baseline {m['baseline_mae_eV']:.3f}) over "
            f"{m['n_materials']:.0f} materials; dark {m['dark_mae_eV']:.2f} ({m['dark_baseline_mae_eV']:.2f}), "
            f"visible {m['visible_mae_eV']:.2f} ({m['visible_baseline_mae_eV']:.2f}), "
            f"clear {m['clear_mae_eV']:.2f} ({m['clear_baseline_mae_eV']:.2f})"
        )
        out[f"colour_n_{label}_materials"] = m["n_materials"]
        out[f"colour_mae_{label}_eV"] = m["mae_eV"]
        out[f"colour_baseline_mae_{label}_eV"] = m["baseline_mae_eV"]
        for cls in ("dark", "visible", "clear"):
            if not m[f"n_{cls}"]:
                continue  # no material of this class in the set (the unresolved pages have no dark one)
            out[f"colour_n_{label}_{cls}"] = m[f"n_{cls}"]
            out[f"colour_mae_{label}_{cls}_eV"] = m[f"{cls}_mae_eV"]
            out[f"colour_baseline_mae_{label}_{cls}_eV"] = m[f"{cls}_baseline_mae_eV"]
    print(
        f"   self-consistency check (stand-in test images, Tauc-rendered like its training images): "
        f"MAE {out['colour_selfcheck_standin_mae_eV']:.3f} eV "
        f"(baseline {out['colour_selfcheck_standin_baseline_mae_eV']:.3f})"
    )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes (under 60 s on 2 cores)")
    parser.add_argument("--measured", action="store_true", help="only the measured-n,k figures (c and d)")
    parser.add_argument("--colour", action="store_true", help="only the colour model on measured n, k (d)")
    args = parser.parse_args()
    if args.measured or args.colour:
        figures = {} if args.colour else measured_section()
        figures.update(colour_section(args.quick))
        print()
        print(json.dumps({k: round(v, 4) for k, v in figures.items()}))
        return 0
    n_images, batch, repeats, size = (80, 40, 3, 32) if args.quick else (1000, 200, 5, 32)
    compounds = standin_data.load_compounds(standin_data.dielectric_csv())
    print(f"band gap from images: {n_images} stand-in images of {size}x{size} px, batches of {batch}")
    print(f"(real compositions and band gaps of {len(compounds)} Materials Project compounds; seed 0)")

    # a. generation
    plan = standin_data.plan_samples(compounds, n_images, seed=0)
    ta, tb = alternate(
        lambda: standin_data.generate(compounds, n_images, size=size, seed=0),
        lambda: bare_physics(plan, size),
        repeats,
    )
    gen = statistics.median(ta)
    print("\na. stand-in generation")
    print(f"   render images + spectra   {spread(ta)} = {n_images / gen:,.0f} images/s")
    print(f"   bare physics (the limit)  {spread(tb)}")
    ratio_gen = gen / statistics.median(tb)
    print(f"   ratio {ratio_gen:.2f}")
    standin = standin_data.generate(compounds, n_images, size=size, seed=0)
    out: dict[str, Any] = {"bench": "bandgap_images", "images": n_images, "size": size, "batch": batch}
    out.update(generate_images_per_s=n_images / gen, ratio_generate_to_physics=ratio_gen)

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        folder = standin_data.write_standin(standin, Path(tmp) / "standin")
        t_write = time.perf_counter() - t
        with Hub(Path(tmp) / "hub", user="bench", progress=False) as hub:
            t = time.perf_counter()
            sub = hub.submit(
                folder,
                title="bench stand-in",
                authors=[{"name": "MatterHub developers", "nameType": "Organizational"}],
                mapping=standin_data.RECORD_MAPPING,
                extractors=["mapping"],
                source_name="bench_bandgap_images",
            )
            t_submit = time.perf_counter() - t
            assert sub.status == "complete", sub.message
            print(
                f"   write files {t_write:.2f} s, submit {t_submit:.2f} s "
                f"({n_images} records) = {n_images / (t_write + t_submit):,.0f} images/s published"
            )
            out["publish_images_per_s"] = n_images / (t_write + t_submit)

            # b. servables
            gaps = standin.band_gaps
            colour = colour_clusters.make_model(12, seed=0).fit(standin.images, gaps)
            _, served = image_autoencoder.build(size, 8)
            names = {
                "onset": hub.publish_servable(
                    hub.describe(onset_estimator.estimate_band_gaps, name="bench-onset")
                ),
                "colour": hub.publish_servable(
                    hub.describe(
                        colour,
                        name="bench-colour",
                        code=[
                            REPO / "servables" / "bandgap_images" / f
                            for f in ("cie_colour.py", "colour_clusters.py")
                        ],
                    )
                ),
                "autoencoder": hub.publish_servable(hub.describe(served, name="bench-autoencoder")),
            }
            spectra = {"energy_eV": standin.energy_ev, "absorbance": standin.absorbance[:batch]}
            images = standin.images[:batch]
            floats = images.astype("float32")
            cases = {
                "onset": (
                    lambda: hub.run(names["onset"], spectra),
                    lambda: onset_estimator.estimate_band_gaps(**spectra),
                    "spectra",
                ),
                "colour": (
                    lambda: hub.run(names["colour"], images),
                    lambda: colour.predict(images),
                    "images",
                ),
                "autoencoder": (
                    lambda: hub.run(names["autoencoder"], floats),
                    lambda: served.predict(floats, verbose=0),
                    "images",
                ),
            }
            print(f"\nb. servables, one batch of {batch}: hub.run vs the model in this process")
            for key, (hub_call, local_call, unit) in cases.items():
                th, tl = alternate(hub_call, local_call, repeats)
                ratio = statistics.median(th) / statistics.median(tl)
                rate = batch / statistics.median(th)
                print(
                    f"   {key:<12} hub {spread(th)} = {rate:,.0f} {unit}/s   here {spread(tl)}   ratio {ratio:.2f}"
                )
                out[f"{key}_{unit}_per_s_hub"] = rate
                out[f"ratio_{key}_hub"] = ratio
    synthetic = study.onset_metrics(
        standin.band_gaps, onset_estimator.estimate_band_gaps(standin.energy_ev, standin.absorbance)
    )
    print(
        f"\n   self-consistency check (stand-in spectra from the model the estimator inverts): "
        f"{synthetic['fraction_within_tolerance']:.0%} within 0.1 eV, MAE {synthetic['mae_eV']:.3f} eV"
    )
    out["selfcheck_standin_fraction_within_0.1_eV"] = synthetic["fraction_within_tolerance"]
    out.update(measured_section())
    out.update(colour_section(args.quick))
    print()
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in out.items()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
