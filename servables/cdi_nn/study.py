"""The coherent diffraction imaging study of the MDF/DLHub paper, end to end.

Cherukara, Nashed & Harder (Sci. Rep. 8, 16520, 2018) invert a 32x32 coherent
diffraction pattern into the object's structure and phase with two networks.
:func:`publish_study` puts that use case into a hub:

1. a simulated batch (:mod:`simulate`, by default its ``authors`` parameter set) published as an MDF dataset
   ``cdi_nn_simulated``: one NetCDF file with the intensities, the network
   inputs and the true amplitudes and phases, and ``samples.csv`` mapped to one
   searchable record per sample (``custom.shape``, ``custom.strain``, ...);
2. the servables: the authors' two networks (when their files are in the data
   mirror) and MatterHub's stand-in pair trained on the simulator
   (``standin/``, always, labelled as such);
3. each pair run through ``hub.run`` on the batch, scored with :mod:`metrics`;
   :func:`evaluate_held_out` scores them on crystals of sizes and phase ramps the
   stand-in never saw, :func:`evaluate_real` on real Bragg CDI patterns.

Running it again reuses what the hub already holds.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hub.config import mirror_candidates

from . import metrics, publish, real_data, simulate, train_standin

HERE = Path(__file__).resolve().parent

if TYPE_CHECKING:
    import xarray as xr

    from hub.api import Hub

#: The dataset's source_name in the hub.
SOURCE_NAME = "cdi_nn_simulated"
#: The NetCDF file of the dataset and its per-sample table.
ARRAYS_FILE = "cdi_simulated.nc"
SAMPLES_FILE = "samples.csv"
#: Samples and seed of the published batch (the stand-in never saw this seed).
N_SAMPLES = 64
SEED = 2018
#: Columns of samples.csv -> record fields (one record per sample).
MAPPING = {
    "custom.sample": "sample",
    "custom.shape": "shape",
    "custom.facets": "facets",
    "custom.extent_px": "extent_px",
    "custom.strain": "strain",
    "custom.max_phase_rad": "max_phase",
    "custom.edge_px": "edge_px",
    "custom.ramp_rad_per_px": "ramp",
    "custom.support_px": "support_px",
}
#: Per-sample parameters carried in the NetCDF file (those of the ``faceted`` set's datasets first).
PARAMETERS = (
    "shape",
    "facets",
    "extent_px",
    "strain",
    "max_phase",
    "support_px",
    "aspect",
    "edge_px",
    "ramp",
    "offset",
)
#: Samples and seed of :func:`evaluate_held_out`'s batches (seeds neither trained, validated nor
#: reported on by ``train_standin``).
N_HELD_OUT = 256
HELD_OUT_SEED = 2019
#: The stand-in's files.
STANDIN_DIR = HERE / "standin"

Echo = Callable[[str], None] | None


def find_data_root(given: str | os.PathLike[str] | None = None) -> Path | None:
    """The folder holding ``cdi_nn/`` with the authors' files (``given``, ``$MATTERHUB_MIRROR``
    or ``../shared/data``, else their public home through ``catalogs/cdi_nn.yaml``: downloaded
    once, sha256-checked, into the cache), or None: then only the stand-in is published."""
    from hub.catalog.locate import RemoteDataError, public_mirror

    for cand in mirror_candidates(given):
        if cand and (Path(cand) / "cdi_nn" / "structure_weights.hdf5").is_file():
            return Path(cand)
    try:
        return public_mirror("cdi_nn", ["structure_model_data", "phase_model_data"])
    except (RemoteDataError, FileNotFoundError):
        return None


# -- the dataset --------------------------------------------------------------------------------


def to_xarray(
    batch: simulate.CDIBatch, seed: int | None = None, settings: str = simulate.DEFAULT
) -> xr.Dataset:
    """The batch as an xarray Dataset: ``intensity``, ``model_input`` (sample, qy, qx);
    ``amplitude``, ``phase`` (sample, y, x); the drawn parameters per sample; the
    simulator's parameter set ``settings`` as an attribute."""
    import xarray as xr

    n = len(batch)
    q = np.arange(simulate.SIZE) - simulate.SIZE // 2
    params = {k: [p[k] for p in batch.params] for k in batch.params[0]}
    data = {
        "intensity": (
            ("sample", "qy", "qx"),
            batch.intensity.astype(np.float32),
            {"long_name": "far-field intensity |FFT(object)|^2", "units": "1"},
        ),
        "model_input": (
            ("sample", "qy", "qx"),
            simulate.model_input(batch.intensity)[..., 0],
            {
                "long_name": "network input: scale * sqrt(intensity)",
                "scale": simulate.MODEL_INPUT_SCALE,
            },
        ),
        "amplitude": (
            ("sample", "y", "x"),
            batch.amplitude.astype(np.float32),
            {"long_name": "object amplitude (structure)", "units": "1"},
        ),
        "phase": (
            ("sample", "y", "x"),
            batch.phase.astype(np.float32),
            {"long_name": "object phase g.u (strain)", "units": "rad"},
        ),
        "shape": (("sample",), np.array(params["shape"], dtype=str)),
        "strain": (("sample",), np.array(params["strain"], dtype=str)),
        "facets": (("sample",), np.array(params["facets"], dtype=np.int32)),
        "extent_px": (("sample",), np.array(params["extent_px"], dtype=np.float32)),
        "max_phase": (("sample",), np.array(params["max_phase"], dtype=np.float32), {"units": "rad"}),
        "support_px": (("sample",), np.array(params["support_px"], dtype=np.int32)),
        "aspect": (("sample",), np.array(params["aspect"], dtype=np.float32)),
        "edge_px": (
            ("sample",),
            np.array(params["edge_px"], dtype=np.float32),
            {"long_name": "sigma of the Gaussian softening the edges", "units": "px"},
        ),
        "ramp": (("sample",), np.array(params["ramp"], dtype=np.float32), {"units": "rad/px"}),
        "offset": (("sample",), np.array(params["offset"], dtype=np.float32), {"units": "rad"}),
    }
    coords = {"sample": np.arange(n), "qy": q, "qx": q, "y": q, "x": q}
    attrs = {
        "title": "Simulated coherent diffraction patterns of strained 2D crystals",
        "simulator": "servables/cdi_nn/simulate.py (MatterHub)",
        "parameter_set": settings,
        "seed": -1 if seed is None else int(seed),
        "grid": f"{simulate.SIZE}x{simulate.SIZE}; q = 0 (the Bragg peak) and r = 0 at index {simulate.SIZE // 2}",
        "reference": "Cherukara, Nashed & Harder, Sci. Rep. 8, 16520 (2018), doi:10.1038/s41598-018-34525-1",
    }
    return xr.Dataset(data, coords=coords, attrs=attrs)


def from_xarray(ds: xr.Dataset) -> simulate.CDIBatch:
    """A batch back from :func:`to_xarray`'s Dataset (e.g. read from the hub through Intake)."""
    keys = [k for k in PARAMETERS if k in ds]
    columns = {k: np.asarray(ds[k].values).tolist() for k in keys}
    params = [{k: columns[k][i] for k in keys} for i in range(ds.sizes["sample"])]
    return simulate.CDIBatch(
        intensity=np.asarray(ds["intensity"].values, dtype=np.float64),
        amplitude=np.asarray(ds["amplitude"].values, dtype=np.float64),
        phase=np.asarray(ds["phase"].values, dtype=np.float64),
        params=params,
    )


def write_dataset(
    batch: simulate.CDIBatch, folder: Path, seed: int | None = None, settings: str = simulate.DEFAULT
) -> Path:
    """Write the batch as ``folder/cdi_simulated.nc`` and ``folder/samples.csv``; returns ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    to_xarray(batch, seed, settings).to_netcdf(folder / ARRAYS_FILE, engine="h5netcdf")
    with open(folder / SAMPLES_FILE, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["sample", *batch.params[0]])
        for i, p in enumerate(batch.params):
            w.writerow([i, *p.values()])
    return folder


def publish_dataset(hub: Hub, folder: Path, seed: int, settings: str = simulate.DEFAULT) -> str:
    """Submit the folder as the ``cdi_nn_simulated`` dataset; returns its source_id."""
    sub = hub.submit(
        folder,
        title="Simulated coherent diffraction patterns of strained 2D crystals (CDI NN study)",
        authors=[{"name": "MatterHub developers", "nameType": "Organizational"}],
        source_name=SOURCE_NAME,
        description=(
            "2D crystal sections with strain-induced phases and their 32x32 far-field intensities "
            f"|FFT|^2, simulated with seed {seed} and the simulator's '{settings}' parameter set "
            f"({_describe_set(settings)}), as the training data of Cherukara, Nashed & Harder "
            "(Sci. Rep. 8, 16520, 2018) were made; with the true amplitude and phase of each object. "
            f"{ARRAYS_FILE} holds the arrays; each row of {SAMPLES_FILE} is one sample's record."
        ),
        mapping=MAPPING,
        visible_to=["public"],
        related_dois=["10.1038/s41598-018-34525-1"],
        tags=["coherent diffraction imaging", "simulation", "phase retrieval"],
        progress=False,
    )
    if not sub.ok:
        raise RuntimeError(f"the {SOURCE_NAME} submission failed: {sub.message} {sub.errors}")
    return str(sub.source_id)


def _describe_set(name: str) -> str:
    """A parameter set in words, for the dataset's description."""
    s = simulate.parameter_set(name)
    edges = (
        f"edges softened by a Gaussian of {s.edge_px[0]:g}-{s.edge_px[1]:g} px"
        if s.edge_px[1]
        else "sharp facets"
    )
    ramps = f"ramps of {s.ramp[0]:g}-{s.ramp[1]:g} rad/px" if s.ramp[1] else "no ramp"
    wraps = "wrapped over -pi..pi" if s.wrap else f"at most {s.max_phase[1]:g} rad"
    return f"{s.extent_px[0]:g}-{s.extent_px[1]:g} px across, {edges}, phases {wraps} with {ramps}"


# -- the servables ------------------------------------------------------------------------------


def describe_standin(hub: Hub, folder: Path | None = None) -> dict[str, Any]:
    """``{"structure": ServableDescription, "phase": ...}`` of the stand-in in ``folder``
    (default :data:`STANDIN_DIR`), with its held-out errors from ``training.json`` as metrics."""
    from hub.servables.schema import ArgSpec

    folder = folder or STANDIN_DIR

    meta = publish.metadata()
    common, models = meta["standin"]["common"], meta["standin"]["models"]
    report = json.loads((folder / "training.json").read_text())
    val = report["validation"]
    held = report["held_out"]
    figures = {
        "sim_amplitude_error": round(val["amplitude_error_mean"], 4),
        "sim_phase_error_rad": round(val["phase_error_mean"], 4),
        "sim_support_iou": round(val["support_iou_mean"], 4),
        "heldout_amplitude_error": round(held["amplitude_error_mean"], 4),
        "heldout_phase_error_rad": round(held["phase_error_mean"], 4),
        "heldout_support_iou": round(held["support_iou_mean"], 4),
    }
    out = {}
    for key, m in models.items():
        out[key] = hub.describe(
            folder / m["file"],
            name=m["name"],
            title=m["title"],
            description=" ".join(m["description"].split()),
            authors=common["authors"],
            dois=[meta["common"]["paper_doi"]],
            domains=meta["common"]["domains"],
            visible_to=common["visible_to"],
            inputs=ArgSpec.ndarray([None, 32, 32, 1], "float", dtype="float32", description=m["input"]),
            outputs=ArgSpec.ndarray([None, 32, 32, 1], "float", dtype="float32", description=m["output"]),
            metrics=figures,
            stand_in=True,
            trained_on=(
                f"MatterHub CDI simulator (servables/cdi_nn/simulate.py), parameter set {report['settings']}; "
                f"held out: {report['held_out_settings']}"
            ),
            training=json.dumps(
                {k: report[k] for k in ("n_train", "epochs", "seed", "settings", "parameters")}
            ),
        )
    return out


def _published(hub: Hub, name: str) -> str | None:
    owner = hub.principal.name
    hits = hub.servables(f"dlhub.name:{name}", limit=1)
    return f"{owner}/{name}" if hits.total else None


def publish_servables(hub: Hub, data_root: Path | None) -> dict[str, str]:
    """Publish (or find) the stand-in pair and, with ``data_root``, the authors' pair.

    With the authors' pair also two pipelines that take raw intensities
    (``cdi-nn-structure-from-intensity``, ``cdi-nn-phase-from-intensity``:
    :func:`real_data.detector_input`, then the network).

    Returns ``{"standin_structure", "standin_phase"[, "structure", "phase",
    "structure_from_intensity", "phase_from_intensity"]}`` -> ``owner/name``.
    """
    names: dict[str, str] = {}
    meta = publish.metadata()
    wanted = {f"standin_{k}": m["name"] for k, m in meta["standin"]["models"].items()}
    if data_root is not None:
        wanted.update({k: m["name"] for k, m in meta["models"].items()})
    for key, name in wanted.items():
        found = _published(hub, name)
        if found:
            names[key] = found
    if not all(k in names for k in ("standin_structure", "standin_phase")):
        for key, sv in describe_standin(hub).items():
            names[f"standin_{key}"] = hub.publish_servable(sv)
    if data_root is not None and not all(k in names for k in ("structure", "phase")):
        for key, sv in publish.describe_models(hub, data_root).items():
            names[key] = hub.publish_servable(sv)
    if data_root is not None:
        for key in ("structure", "phase"):
            pipe = f"{meta['models'][key]['name']}-from-intensity"
            found = _published(hub, pipe)
            names[f"{key}_from_intensity"] = found or hub.publish_servable(
                hub.pipeline(
                    [real_data.detector_input, names[key]],
                    name=pipe,
                    title=f"{meta['models'][key]['title']}, from raw diffraction intensities",
                    description=(
                        "Raw diffraction intensities (a frame of counts of any scale, at least 32x32, or a "
                        "stack of them) prepared as the authors prepared real data (the 32x32 window around "
                        "the Bragg peak, sqrt(I), centred, scaled to a maximum of 10,000), then the "
                        f"authors' {key} network."
                    ),
                    visible_to=meta["common"]["visible_to"],
                    domains=meta["common"]["domains"],
                )
            )
    return names


# -- running and scoring --------------------------------------------------------------------------


def predict(hub: Hub, structure: str, phase: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Run a structure/phase servable pair through the hub: ``(amplitude, phase in radians)``, each ``(n, 32, 32)``."""
    amp = np.asarray(hub.run(structure, x))[..., 0]
    ph = metrics.phase_from_unit(np.asarray(hub.run(phase, x))[..., 0])
    return amp, ph


def score(hub: Hub, names: dict[str, str], batch: simulate.CDIBatch) -> dict[str, dict[str, float]]:
    """Batch errors of each published pair: ``{"authors": {...}, "standin": {...}}``."""
    x = simulate.model_input(batch.intensity)
    pairs = {"standin": ("standin_structure", "standin_phase"), "authors": ("structure", "phase")}
    out = {}
    for label, (s, p) in pairs.items():
        if s in names and p in names:
            amp, ph = predict(hub, names[s], names[p], x)
            errors = metrics.reconstruction_errors(amp, ph, batch.amplitude, batch.phase)
            out[label] = metrics.summarize(errors)
    return out


def evaluate_held_out(
    hub: Hub, names: dict[str, str], n: int = N_HELD_OUT, seed: int = HELD_OUT_SEED
) -> dict[str, Any]:
    """Each published pair scored, through ``hub.run``, on crystals the stand-in never saw.

    ``held_out``: ``n`` crystals of the ``authors-heldout`` parameter set (23-28 px,
    phase ramps of 0.6-0.9 rad/px: sizes and ramps outside the stand-in's training
    range); ``in_range``: ``n`` new crystals (same seed) of its training range
    (``authors-train``), for comparison.  Each is ``{"authors": summary, "standin":
    summary}`` (see :func:`score`; the authors' pair only when it is published).
    """
    out: dict[str, Any] = {"n": n, "seed": seed}
    for key, settings in (("held_out", train_standin.HELD_OUT_SET), ("in_range", train_standin.TRAINING_SET)):
        out[key] = score(hub, names, simulate.simulate(n, seed=seed, settings=settings))
        out[f"{key}_settings"] = settings
    return out


def standin_input_max(n: int = 256, seed: int = 7) -> float:
    """The median maximum of the stand-in's training inputs (``14 sqrt(I)`` of simulated crystals
    of its training range).

    Real patterns have no absolute scale; the stand-in is fed them scaled to the maximum its
    training inputs typically had (a property of the simulator, not of the test data).
    """
    x = simulate.model_input(simulate.simulate(n, seed=seed, settings=train_standin.TRAINING_SET).intensity)
    return float(np.median(x.reshape(len(x), -1).max(axis=1)))


def evaluate_real(hub: Hub, names: dict[str, str], root: Path) -> dict[str, Any]:
    """Each published pair scored on the real Bragg CDI patterns (:mod:`real_data`), through ``hub.run``.

    The authors' networks get the authors' convention (sqrt(I), centred, maximum 10,000); the
    stand-in gets the real patterns at its training inputs' typical maximum
    (:func:`standin_input_max`).  Returns ``consistency`` (the projection-slice check per
    axis), ``pairs`` (per pair: ``input_max``, the per-axis errors and their means) and
    ``authors_scale_scan`` (the authors' networks at other maxima: a sensitivity check that
    looks at the test patterns, so not a score).
    """
    real = real_data.patterns(root)
    pairs = {"authors": ("structure", "phase"), "standin": ("standin_structure", "standin_phase")}
    maxima = {"authors": real_data.AUTHORS_INPUT_MAX, "standin": standin_input_max()}
    out: dict[str, Any] = {"consistency": real_data.consistency(root), "peak": list(real.peak), "pairs": {}}
    for label, (s, p) in pairs.items():
        if s not in names or p not in names:
            continue
        x = real_data.authors_input(real.intensity, maxima[label])
        errors = real_data.score(np.asarray(hub.run(names[s], x)), np.asarray(hub.run(names[p], x)), real)
        out["pairs"][label] = {"input_max": maxima[label], "per_axis": errors, **metrics.summarize(errors)}
    if "structure" in names and "phase" in names:
        scan = {}
        for maximum in (1.0, 300.0, 1_000.0, 3_000.0, 10_000.0, 30_000.0):
            x = real_data.authors_input(real.intensity, maximum)
            errors = real_data.score(
                np.asarray(hub.run(names["structure"], x)), np.asarray(hub.run(names["phase"], x)), real
            )
            scan[maximum] = metrics.summarize(errors)
        out["authors_scale_scan"] = scan
    return out


def publish_study(
    hub: Hub,
    data_root: str | os.PathLike[str] | None = None,
    *,
    n: int = N_SAMPLES,
    seed: int = SEED,
    settings: str = simulate.DEFAULT,
    authors_models: bool = True,
    workdir: Path | None = None,
    echo: Echo = None,
) -> dict[str, Any]:
    """Publish the CDI study's dataset and servables into ``hub`` and score the servables.

    Parameters
    ----------
    hub
        The hub (the demo hub, a notebook's, a test's).
    data_root
        The folder holding ``cdi_nn/`` with the authors' networks (default: the
        mirror, ``$MATTERHUB_MIRROR`` or ``../shared/data``).  Without it only
        the stand-in is published.
    n, seed
        Size and seed of the simulated batch (a batch already in the hub is reused).
    settings
        The simulator's parameter set (:data:`simulate.PARAMETER_SETS`; ``"faceted"``
        reproduces the earlier figures).
    authors_models
        Publish the authors' networks when their files are found (False: the stand-in only).
    workdir
        Where the dataset's files are written (default ``hub.home/demo-sources/cdi_nn_simulated``).

    Returns
    -------
    dict
        ``dataset`` (source_id), ``servables`` (``{"standin_structure": "owner/name", ...}``),
        ``authors_models`` (bool), ``errors`` (batch summaries per pair, see
        :func:`metrics.summarize`), ``samples``.
    """
    say = echo or (lambda _s: None)
    root = find_data_root(data_root) if authors_models else None
    existing = hub.datasets(source_name=SOURCE_NAME)
    if existing:
        source_id = existing[0].source_id
        say(f"= {SOURCE_NAME}: already in the hub ({source_id})")
        batch = load_batch(hub, source_id)
    else:
        batch = simulate.simulate(n, seed=seed, settings=settings)
        folder = write_dataset(batch, workdir or hub.home / "demo-sources" / SOURCE_NAME, seed, settings)
        source_id = publish_dataset(hub, folder, seed, settings)
        say(f"+ {SOURCE_NAME}: {len(batch)} simulated CDI samples -> {source_id}")
    names = publish_servables(hub, root)
    if root is None:
        why = "not asked for" if not authors_models else "not found (give data_root or set MATTERHUB_MIRROR)"
        say(
            f"the authors' CDI_NN networks were {why}: MatterHub's stand-in, trained on the simulator, stands in"
        )
    say("servables: " + ", ".join(names.values()))
    errors = score(hub, names, batch)
    for label, e in errors.items():
        say(
            f"  {label:<8} amplitude error {e['amplitude_error_mean']:.3f}  support IoU {e['support_iou_mean']:.3f}  "
            f"phase error {e['phase_error_mean']:.3f} rad (flat guess {e['phase_rms_truth_mean']:.3f})"
        )
    return {
        "dataset": source_id,
        "servables": names,
        "authors_models": root is not None,
        "errors": errors,
        "samples": len(batch),
    }


def load_batch(hub: Hub, source_id: str | None = None) -> simulate.CDIBatch:
    """The published batch, read through the dataset's Intake catalog (lazily, then loaded)."""
    sid = source_id or hub.dataset(SOURCE_NAME).source_id
    files = hub.catalog(f"mdf.source_id:{sid}")[sid].read()
    return from_xarray(files[ARRAYS_FILE].read().load())
