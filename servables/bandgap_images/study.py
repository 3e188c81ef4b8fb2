"""The band-gap-from-images study end to end: stand-in data, three models, the hub.

:func:`run_study` renders the stand-in (:mod:`standin_data`), splits it, fits
the colour-cluster model and the autoencoder, runs the onset estimator on every
spectrum and measures each against the band gaps the samples were made from.
:func:`publish` puts the stand-in into a hub as an MDF dataset (one record per
image) and publishes the three servables with that dataset as their training
data and their errors as metrics.  :func:`publish_study` does both for
``matterhub demo`` and skips what the hub already has.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from . import colour_clusters, image_autoencoder, onset_estimator, standin_data

HERE = Path(__file__).resolve().parent

#: The onset estimator is judged on band gaps inside this window (eV) ...
ONSET_RANGE_EV = (1.3, 5.0)
#: ... where it must recover them within this tolerance (eV).
ONSET_TOLERANCE_EV = 0.1
#: Band gaps whose colour a film shows (eV): below, films look dark; above, clear.
VISIBLE_RANGE_EV = (1.7, 3.1)

Echo = Callable[[str], None] | None


def metadata() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((HERE / "metadata.yaml").read_text())
    return data


def servable_names() -> dict[str, str]:
    return {key: str(sv["name"]) for key, sv in metadata()["servables"].items()}


@dataclass
class Study:
    """What :func:`run_study` made: the data, the split, the fitted models and their figures."""

    standin: standin_data.StandIn
    train: np.ndarray
    test: np.ndarray
    colour_model: Any
    autoencoder: Any
    onset: np.ndarray
    history: dict[str, list[float]]
    metrics: dict[str, dict[str, float]]
    timings: dict[str, float] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)


def onset_metrics(true_gap: np.ndarray, estimated: np.ndarray) -> dict[str, float]:
    """How well estimated onsets recover the true band gaps, inside and outside ONSET_RANGE_EV."""
    lo, hi = ONSET_RANGE_EV
    inside = (true_gap >= lo) & (true_gap <= hi)
    err = np.abs(estimated[inside] - true_gap[inside])
    found = np.isfinite(err)
    within = found & (err <= ONSET_TOLERANCE_EV)
    return {
        "n_in_range": float(inside.sum()),
        "range_low_eV": lo,
        "range_high_eV": hi,
        "tolerance_eV": ONSET_TOLERANCE_EV,
        "mae_eV": float(err[found].mean()) if found.any() else float("nan"),
        "max_error_eV": float(err[found].max()) if found.any() else float("nan"),
        "fraction_within_tolerance": float(within.mean()) if inside.any() else float("nan"),
        "fraction_not_found_in_range": float((~found).mean()) if inside.any() else float("nan"),
        "n_outside_range": float((~inside).sum()),
    }


def regression_metrics(true_gap: np.ndarray, predicted: np.ndarray, reference: float) -> dict[str, float]:
    """Errors (eV) of band-gap predictions, overall and for gaps inside VISIBLE_RANGE_EV."""
    err = np.abs(predicted - true_gap)
    visible = (true_gap >= VISIBLE_RANGE_EV[0]) & (true_gap <= VISIBLE_RANGE_EV[1])
    return {
        "test_mae_eV": float(err.mean()),
        "test_rmse_eV": float(np.sqrt((err**2).mean())),
        "baseline_mae_eV": float(np.abs(true_gap - reference).mean()),
        "visible_test_mae_eV": float(err[visible].mean()) if visible.any() else float("nan"),
        "n_test": float(len(true_gap)),
    }


def split_indices(n_images: int, test_fraction: float = 0.25, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The stand-in's random split: sorted indices of the training and the test images."""
    order = np.random.default_rng(seed).permutation(n_images)
    n_test = max(1, round(test_fraction * n_images))
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def run_study(
    data_root: str | Path | None = None,
    n_images: int = 300,
    *,
    size: int = 32,
    epochs: int = 30,
    latent_dim: int = 8,
    n_clusters: int = 12,
    test_fraction: float = 0.25,
    seed: int = 0,
    echo: Echo = None,
) -> Study:
    """Render the stand-in, fit the models and measure them (nothing is published)."""
    say = echo or (lambda _s: None)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    compounds = standin_data.load_compounds(standin_data.dielectric_csv(data_root))
    standin = standin_data.generate(compounds, n_images, size=size, seed=seed)
    timings["generate_s"] = time.perf_counter() - t0
    say(f"stand-in: {n_images} images of {size}x{size} px rendered in {timings['generate_s']:.1f} s")
    gaps = standin.band_gaps
    train, test = split_indices(n_images, test_fraction, seed)

    t = time.perf_counter()
    onset = onset_estimator.estimate_band_gaps(standin.energy_ev, standin.absorbance)
    timings["onset_s"] = time.perf_counter() - t

    t = time.perf_counter()
    colour_model = colour_clusters.make_model(n_clusters, seed).fit(standin.images[train], gaps[train])
    colour_pred = colour_model.predict(standin.images[test])
    timings["colour_fit_s"] = time.perf_counter() - t

    t = time.perf_counter()
    served, history = image_autoencoder.train(
        standin.images[train],
        latent_dim=latent_dim,
        epochs=epochs,
        seed=seed,
        validation=standin.images[test],
    )
    recon, _ = served.predict(standin.images[test].astype("float32"), verbose=0)
    timings["autoencoder_fit_s"] = time.perf_counter() - t
    flat = standin.images[test].astype(float).mean(axis=(1, 2), keepdims=True)
    metrics = {
        "onset_estimator": onset_metrics(gaps, onset),
        "colour_model": regression_metrics(gaps[test], colour_pred, float(np.median(gaps[train]))),
        "autoencoder": {
            "test_rmse_8bit": image_autoencoder.reconstruction_error(standin.images[test], recon),
            "flat_colour_rmse_8bit": image_autoencoder.reconstruction_error(
                standin.images[test], flat / 255.0
            ),
            "final_train_loss": history["loss"][-1],
            "epochs": float(epochs),
            "latent_dim": float(latent_dim),
            "n_train": float(len(train)),
        },
    }
    om, cm, am = metrics["onset_estimator"], metrics["colour_model"], metrics["autoencoder"]
    say(
        f"onset estimator: MAE {om['mae_eV']:.3f} eV, {om['fraction_within_tolerance']:.0%} within "
        f"{ONSET_TOLERANCE_EV} eV for band gaps in {ONSET_RANGE_EV[0]}-{ONSET_RANGE_EV[1]} eV"
    )
    say(
        f"colour clusters: test MAE {cm['test_mae_eV']:.2f} eV (median-gap baseline {cm['baseline_mae_eV']:.2f} eV)"
    )
    say(f"autoencoder: test RMSE {am['test_rmse_8bit']:.1f} of 255 after {epochs} epochs")
    settings = {
        "n_images": n_images,
        "size": size,
        "epochs": epochs,
        "latent_dim": latent_dim,
        "n_clusters": n_clusters,
        "seed": seed,
    }
    return Study(standin, train, test, colour_model, served, onset, history, metrics, timings, settings)


def _flat_metrics(metrics: dict[str, float]) -> dict[str, float]:
    return {k: float(v) for k, v in metrics.items() if np.isfinite(v)}


def submit_standin(hub: Any, folder: str | Path) -> str:
    """The source_id of the stand-in dataset in ``hub``, submitting ``folder`` if it is not there."""
    meta = metadata()["dataset"]
    try:
        return str(hub.dataset(meta["source_name"]).metadata["mdf"]["source_id"])
    except Exception:
        pass
    sub = hub.submit(
        folder,
        title=meta["title"],
        authors=meta["authors"],
        source_name=meta["source_name"],
        description=" ".join(meta["description"].split()),
        mapping=standin_data.RECORD_MAPPING,
        extractors=["mapping"],
        related_dois=meta["related_dois"],
        tags=meta["tags"],
        visible_to=["public"],
        progress=False,
    )
    if sub.status != "complete":
        raise RuntimeError(
            f"the stand-in dataset was not published: {sub.status} {sub.message} {sub.errors[:3]}"
        )
    return str(sub.source_id)


def _describe(hub: Any, key: str, obj: Any, dataset_id: str, metrics: dict[str, float], **extra: Any) -> Any:
    meta = metadata()
    sv = meta["servables"][key]
    return hub.describe(
        obj,
        name=sv["name"],
        title=sv["title"],
        description=" ".join(sv["description"].split()),
        authors=meta["authors"],
        paper_doi=meta["paper"]["doi"],
        dois=["10.1038/sdata.2016.134"],
        domains=sv["domains"],
        visible_to=["public"],
        training_data=[dataset_id],
        metrics=_flat_metrics(metrics),
        **extra,
    )


def publish(hub: Any, study: Study, folder: str | Path, check_runs: bool = True) -> dict[str, Any]:
    """Write and submit the stand-in, publish the three servables, and run each once through the hub."""
    from hub.servables.schema import ArgSpec

    folder = Path(folder)
    if not (folder / "records.json").is_file():
        standin_data.write_standin(study.standin, folder)
    dataset_id = submit_standin(hub, folder)
    size = study.standin.images.shape[1]
    images = ArgSpec.ndarray([None, size, size, 3], "integer", description="8-bit sRGB images of films")
    descriptions = {
        "autoencoder": _describe(
            hub, "autoencoder", study.autoencoder, dataset_id, study.metrics["autoencoder"]
        ),
        "colour_model": _describe(
            hub,
            "colour_model",
            study.colour_model,
            dataset_id,
            study.metrics["colour_model"],
            inputs=images,
            outputs=ArgSpec.ndarray([None], "float", description="predicted band gap", units="eV"),
            code=[HERE / "cie_colour.py", HERE / "colour_clusters.py"],
        ),
        "onset_estimator": _describe(
            hub,
            "onset_estimator",
            onset_estimator.estimate_band_gaps,
            dataset_id,
            study.metrics["onset_estimator"],
            code=[HERE / "onset_estimator.py"],
        ),
    }
    names = {key: hub.publish_servable(sv) for key, sv in descriptions.items()}
    out: dict[str, Any] = {"dataset": dataset_id, "servables": names, "metrics": study.metrics}
    if check_runs:
        out["runs"] = check_servables(hub, study, names)
    return out


def check_servables(hub: Any, study: Study, names: dict[str, str], n: int = 4) -> dict[str, bool]:
    """Run each published servable on a few test samples in the hub's workers; True when it agrees
    with the model in this process."""
    idx = study.test[:n]
    s = study.standin
    onset = hub.run(names["onset_estimator"], {"energy_eV": s.energy_ev, "absorbance": s.absorbance[idx]})
    colour = hub.run(names["colour_model"], s.images[idx])
    recon, latent = hub.run(names["autoencoder"], s.images[idx].astype("float32"))
    here_recon, here_latent = study.autoencoder.predict(s.images[idx].astype("float32"), verbose=0)
    return {
        "onset_estimator": bool(np.allclose(onset, study.onset[idx], equal_nan=True)),
        "colour_model": bool(np.allclose(colour, study.colour_model.predict(s.images[idx]))),
        "autoencoder": bool(
            np.allclose(recon, here_recon, atol=1e-4) and np.allclose(latent, here_latent, atol=1e-3)
        ),
    }


def _published(hub: Any, dataset_name: str, names: dict[str, str]) -> dict[str, Any] | None:
    """What the hub already holds of this study, or None when something is missing."""
    try:
        dataset_id = str(hub.dataset(dataset_name).metadata["mdf"]["source_id"])
    except Exception:
        return None
    found = {}
    for key, name in names.items():
        hits = hub.servables(f'dlhub.name:"{name}"', limit=1).hits
        if not hits:
            return None
        found[key] = hits[0].id
    return {"dataset": dataset_id, "servables": found}


def publish_study(
    hub: Any,
    data_root: str | Path | None = None,
    n_images: int = 240,
    *,
    size: int = 32,
    epochs: int = 20,
    seed: int = 0,
    workdir: str | Path | None = None,
    check_runs: bool = True,
    echo: Echo = None,
) -> dict[str, Any]:
    """Publish the study's dataset and servables into ``hub`` (for ``matterhub demo``).

    Parameters
    ----------
    hub
        The hub (acting as a user who may publish servables).
    data_root
        The folder holding ``matminer/dielectric_constant.csv`` (default:
        ``$MATTERHUB_MIRROR``, else ``../shared/data``).
    n_images, size, epochs, seed
        The stand-in's size and the autoencoder's training (the defaults keep the
        whole study near 30 s on 2 idle cores; the tutorial uses 400 images, 30 epochs).
    workdir
        Where the stand-in's files are written (default ``<hub>/demo-sources``).
    check_runs
        Run each servable once through the hub and compare with the model in memory.

    Returns
    -------
    dict
        ``dataset`` (source_id), ``servables`` (key -> ``owner/name``), ``metrics``,
        ``timings`` (seconds), ``runs`` (servable agreement) and ``skipped`` (True when
        the hub already had everything).
    """
    say = echo or (lambda _s: None)
    names = servable_names()
    have = _published(hub, metadata()["dataset"]["source_name"], names)
    if have is not None:
        say(f"= band gap from images: {have['dataset']} and its servables are already in the hub")
        return {**have, "skipped": True}
    t0 = time.perf_counter()
    study = run_study(data_root, n_images, size=size, epochs=epochs, seed=seed, echo=say)
    base = Path(workdir) if workdir is not None else Path(hub.home) / "demo-sources"
    folder = base / f"bandgap_images_standin_{n_images}x{size}_seed{seed}"
    t = time.perf_counter()
    out = publish(hub, study, folder, check_runs=check_runs)
    study.timings["publish_s"] = time.perf_counter() - t
    study.timings["total_s"] = time.perf_counter() - t0
    say(f"+ band gap from images: {out['dataset']}; servables {', '.join(out['servables'].values())}")
    return {**out, "timings": study.timings, "skipped": False}
