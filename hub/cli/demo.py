"""The demo hub: real data any machine has after ``pip install``, plus the real-data mirror.

The data every install has are ASE's molecules, crystals and test files and files
generated here; the mirror (``$MATTERHUB_MIRROR`` or ``../shared/data``) adds its
datasets when it is present.

``build_demo`` skips datasets already in the hub, so running it twice is cheap.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.config import mirror_candidates
from hub.records.names import organisation

if TYPE_CHECKING:
    from hub.api import HubAPI

Echo = Callable[[str], None] | None


@dataclass
class DemoSource:
    """A dataset the demo submits: where its files are and the metadata it is submitted with.

    ``mapping`` and ``extra`` (further metadata keywords) are passed to
    :meth:`hub.api.HubAPI.submit` as they are.
    """

    source_name: str
    title: str
    path: Path
    authors: list[str | dict[str, Any]]
    description: str
    mapping: dict[str, str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _generated_sources(workdir: Path) -> list[DemoSource]:
    """Files written from data that ships with ASE."""
    import ase
    import ase.io
    from ase.collections import dcdft, g2
    from ase.data import atomic_masses, atomic_numbers, chemical_symbols, covalent_radii, reference_states

    molecules = workdir / "g2_molecules"
    if not molecules.exists():
        molecules.mkdir(parents=True)
        for name in g2.names:
            ase.io.write(molecules / f"{name}.xyz", g2[name], format="extxyz")
    crystals = workdir / "dcdft_crystals"
    if not crystals.exists():
        crystals.mkdir(parents=True)
        for name in dcdft.names:
            ase.io.write(crystals / f"{name}.cif", dcdft[name], format="cif")
    elements = workdir / "elements" / "elements.csv"
    if not elements.exists():
        elements.parent.mkdir(parents=True)
        with open(elements, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["symbol", "Z", "atomic_mass", "covalent_radius", "reference_structure"])
            for sym in chemical_symbols[1:87]:
                z = atomic_numbers[sym]
                ref = reference_states[z] or {}
                w.writerow(
                    [sym, z, float(atomic_masses[z]), float(covalent_radii[z]), ref.get("symmetry", "")]
                )
    testdata = Path(ase.__file__).parent / "test" / "testdata"
    sources = [
        DemoSource(
            "ase_g2_molecules",
            "G2 molecules (from ASE)",
            molecules,
            ["Curtiss, Larry A."],
            "The 162 molecules of the G2 test set of Curtiss et al., as shipped with ASE.",
        ),
        DemoSource(
            "ase_dcdft_crystals",
            "Delta-codes DFT crystals (from ASE)",
            crystals,
            ["Lejaeghere, Kurt"],
            "The 71 elemental crystals of the delta-codes DFT comparison, as shipped with ASE.",
        ),
        DemoSource(
            "element_properties",
            "Element properties (from ASE)",
            elements.parent,
            [organisation("MatterHub demo")],
            "Atomic masses, covalent radii and reference structures, one record per element.",
            mapping={
                "material.composition": "symbol",
                "custom.Z": "Z",
                "custom.atomic_mass": "atomic_mass",
                "custom.covalent_radius": "covalent_radius",
                "custom.reference_structure": "reference_structure",
            },
        ),
    ]
    if (testdata / "minerals").is_dir():
        sources.append(
            DemoSource(
                "ase_minerals",
                "COD mineral structures (ASE test data)",
                testdata / "minerals",
                ["Grazulis, Saulius"],
                "Mineral CIFs from the Crystallography Open Database.",
            )
        )
    if (testdata / "vasp").is_dir():
        sources.append(
            DemoSource(
                "ase_vasp_examples",
                "VASP outputs (ASE test data)",
                testdata / "vasp",
                [organisation("ASE developers")],
                "Real VASP OUTCAR and vasprun.xml files from ASE's tests.",
            )
        )
    return sources


def _mirror_sources(root: Path) -> list[DemoSource]:
    """The real datasets of the mirror (see ../shared/data/README.md)."""
    candidates = [
        DemoSource(
            "materialsio_examples",
            "MaterialsIO test files",
            root / "materialsio",
            ["Ward, Logan", "Blaiszik, Ben"],
            "MDF's MaterialsIO test files: CIFs, a VASP run, a Quantum ESPRESSO run, a Gaussian log, "
            "DigitalMicrograph images and spectra, structured files.",
        ),
        DemoSource(
            "g4mp2_gdb_sugars",
            "G4MP2 energies of GDB sugar molecules",
            root / "g4mp2" / "GDB_Sugar_Data",
            [
                "Ward, Logan",
                "Blaiszik, Ben",
                "Foster, Ian",
                "Assary, Rajeev S.",
                "Narayanan, Badri",
                "Curtiss, Larry",
            ],
            "Molecules relaxed at B3LYP/6-31G(2df,p) with G4MP2 energies (Ward et al., MRS Commun. 2019).",
            extra={"related_dois": ["10.1557/mrc.2019.107"]},
        ),
        DemoSource(
            "mp_dielectric_constants",
            "Dielectric constants of 1,056 compounds (Materials Project)",
            root / "matminer" / "dielectric_constant.csv",
            ["Petousis, Ioannis"],
            "Band gaps, refractive indices and dielectric tensors (Petousis et al., Sci. Data 2016).",
            mapping={
                "material.composition": "formula",
                "custom.band_gap": "band_gap",
                "custom.refractive_index": "n",
                "custom.material_id": "material_id",
                "crystal_structure.space_group_number": "space_group",
                "crystal_structure.number_of_atoms": "nsites",
                "crystal_structure.volume": "volume",
            },
            extra={"related_dois": ["10.1038/sdata.2016.134"]},
        ),
        DemoSource(
            "rosettasciio_microscopy",
            "Electron microscopy test files (RosettaSciIO)",
            root / "rosettasciio",
            [organisation("HyperSpy developers")],
            "DigitalMicrograph, EMD and FEI/Olympus TIFF files with calibrated axes.",
        ),
    ]
    return [c for c in candidates if c.path.exists()]


#: The mirror's datasets that a public catalog also names: source_name -> (catalog, data key).
PUBLIC_HOMES = {"mp_dielectric_constants": ("matminer", "dielectric_constant_data")}


def _public_sources(say: Callable[[str], None]) -> list[DemoSource]:
    """Without a mirror: the datasets of :data:`PUBLIC_HOMES`, read from their public homes.

    Each is downloaded once, sha256-checked and cached in ``$MATTERHUB_CACHE``.
    """
    from hub.catalog.locate import public_mirror

    out = []
    for name, (catalog, key) in PUBLIC_HOMES.items():
        try:
            root = public_mirror(catalog, [key])
        except Exception as exc:  # offline, unreachable, or no catalogs beside the package
            say(f"- {name}: not in a mirror, and its public home is out of reach ({_first_line(exc)})")
            continue
        say(f"  {name}: read from its public home (catalogs/{catalog}.yaml), sha256 checked")
        out += [s for s in _mirror_sources(root) if s.source_name == name]
    return out


def _first_line(exc: BaseException, limit: int = 400) -> str:
    text = str(getattr(exc, "message", "") or exc) or type(exc).__name__
    return text.splitlines()[0][:limit]


def _default_mirror() -> Path | None:
    return next((c for c in mirror_candidates() if c.is_dir()), None)


def build_demo(hub: HubAPI, data_dir: Path | None = None, echo: Echo = print) -> dict[str, Any]:
    """Ingest the demo datasets into ``hub`` and return (and print) what it holds."""
    say = echo or (lambda _s: None)
    # generated sources are written beside an embedded hub; for a hub service, to a temporary folder
    home = hub.home
    workdir = (
        home / "demo-sources" if isinstance(home, Path) else Path(tempfile.mkdtemp(prefix="matterhub-demo-"))
    )
    sources = _generated_sources(workdir)
    mirror = data_dir if data_dir is not None else _default_mirror()
    if mirror is not None and mirror.is_dir():
        sources += _mirror_sources(mirror)
        say(f"real-data mirror: {mirror}")
    else:
        say(
            "no real-data mirror found (set MATTERHUB_MIRROR to a copy of the data, see catalogs/); "
            "ingesting data that ships with ASE, and what is reachable at its public home:"
        )
        sources += _public_sources(say)

    have = {d.source_name for d in hub.datasets(all_versions=True)}
    submissions = []
    for src in sources:
        if src.source_name in have:
            say(f"= {src.source_name}: already in the hub")
            continue
        sub = hub.submit(
            src.path,
            title=src.title,
            authors=src.authors,
            source_name=src.source_name,
            description=src.description,
            mapping=src.mapping,
            progress=False,
            **src.extra,
        )
        submissions.append(sub)
        errs = f", {len(sub.errors)} per-file errors" if sub.errors else ""
        say(f"+ {src.source_name}: {sub.status} -> {sub.source_id}{errs}")
        for e in sub.errors[:5]:
            say(f"    {e['path']}: {e['message'].splitlines()[0][:140]}")
        if len(sub.errors) > 5:
            say(f"    ... {len(sub.errors) - 5} more (matterhub status {sub.id})")

    report = summarize(hub)
    say("")
    say(
        f"hub {hub.home}: {report['datasets']} datasets, {report['records']} records, {report['files']} files"
    )
    for d in report["per_dataset"]:
        say(f"  {d['source_id']:<34} {d['records']:>6} records  {d['files']:>5} files  {d['title']}")
    top = ", ".join(f"{b['value']} {b['count']}" for b in report["elements"][:20])
    say(f"records per element (a facet over everything, top 20): {top}")
    say(f"per-file errors: {report['errors']}")
    say("")
    say("searches (each chosen for data this hub holds):")
    report["searches"] = []
    present = {d.source_name for d in hub.datasets()}
    for search in choose_searches(present):
        res = hub.search(search.query, limit=3, **search.options)
        shown = ", ".join(_label(h.document) for h in res.hits)
        say(f"  {search.query!r:<58} {res.total:>5} hits  e.g. {shown}")
        for name, facet in res.facets.items():
            say(
                f"      facet {name}: "
                + ", ".join(f"{b['value']} {b['count']}" for b in facet["buckets"][:8])
            )
        report["searches"].append(
            {"query": search.query, "total": res.total, "top": [h.id for h in res.hits]}
        )
    say("")
    report["intake"] = _demo_intake(hub, say)
    say("")
    try:
        report["servable"] = _demo_servable(hub, say)
    except ModuleNotFoundError as exc:
        from hub.plugins import missing_dependency

        missing = missing_dependency(exc, "the demo's servable")
        if missing is None:
            raise
        say(f"servable: not run: {missing.message}")
        report["servable"] = {"not_run": missing.message}
    report["studies"] = _demo_studies(hub, mirror if mirror is not None and mirror.is_dir() else None, say)
    report["submissions"] = [s.to_dict() for s in submissions]
    report["next"] = next_steps(hub.home)
    say("")
    say("next:")
    for command, what in report["next"]:
        say(f"  {command:<26} {what}" if len(command) <= 26 else f"  {command}\n  {'':<26} {what}")
    return report


def next_steps(home: str | Path, cwd: Path | None = None) -> list[tuple[str, str]]:
    """The commands a user types next: in a source checkout the Makefile's, else the installed ones."""
    cwd = cwd or Path.cwd()
    checkout = (cwd / "Makefile").is_file() and (cwd / "notebooks" / "tutorials").is_dir()
    try:
        shown = Path(home).resolve().relative_to(cwd.resolve())
    except ValueError:
        shown = Path(home)
    if checkout:
        return [
            ("make demo SERVE=1", "the Voila dashboards over this hub: search, publish, run servables"),
            (
                "make demo SERVE=lab",
                "JupyterLab with the MatterHub side panel; tutorials in notebooks/tutorials",
            ),
            (
                f".venv/bin/matterhub --hub {shown} search 'material.elements:Co'",
                "the same hub from the shell",
            ),
        ]
    return [
        (f"matterhub --hub {shown} dashboards", "the Voila dashboards (pip install 'matterhub[widgets]')"),
        (
            f"MATTERHUB_HOME={shown} jupyter lab",
            "JupyterLab with the side panel (pip install 'matterhub[lab]')",
        ),
        (f"matterhub --hub {shown} search 'material.elements:Co'", "search from the shell"),
    ]


#: The three science use cases of the MDF/DLHub paper: (name, package under servables/, module).
STUDIES = [
    ("atomization energies (Ward et al. 2019)", "atomization_delta", "publish"),
    ("coherent diffraction imaging (Cherukara, Nashed & Harder 2018)", "cdi_nn", "study"),
    (
        "band gap from optical images (Stein et al. 2019; a labelled stand-in)",
        "bandgap_images",
        "study",
    ),
]


def study_module(folder: str, module: str) -> Any | None:
    """``servables.<folder>.<module>`` of this checkout (or of the working directory), else None.

    The studies are the checkout's ``servables`` package, which is not installed: unless it is
    imported already, it is imported from its folder (``sys.path`` stays as it is).
    """
    import importlib
    import importlib.util
    import sys

    if "servables" not in sys.modules:
        # the checkout's root (this file is hub/cli/demo.py), else the working directory; the
        # studies' package, not the hub's own hub/servables
        for root in (Path(__file__).resolve().parents[2], Path.cwd()):
            init = root / "servables" / "__init__.py"
            if init.is_file() and (init.parent / folder).is_dir():
                spec = importlib.util.spec_from_file_location(
                    "servables", init, submodule_search_locations=[str(init.parent)]
                )
                assert spec is not None and spec.loader is not None
                package = importlib.util.module_from_spec(spec)
                sys.modules["servables"] = package
                spec.loader.exec_module(package)
                break
        else:
            return None
    return importlib.import_module(f"servables.{folder}.{module}")


def _demo_studies(hub: HubAPI, mirror: Path | None, say: Callable[[str], None]) -> dict[str, Any]:
    """Each study publishes its dataset and trained servables (a second run finds them there).

    A study runs on the real data when the mirror holds it or its public home is reachable,
    else on data the demo generates, or it says why it did not run and what would make it run.
    """
    from hub.catalog.locate import RemoteDataError
    from hub.plugins import missing_dependency

    out: dict[str, Any] = {}
    for title, folder, module_name in STUDIES:
        say("")
        say(f"study: {title}")
        try:
            module = study_module(folder, module_name)
            if module is None:
                raise FileNotFoundError(
                    f"the studies live in a source checkout's servables/{folder}/ (not in the installed "
                    "package): run `make demo` in a clone of the MatterHub repository"
                )
            if folder == "atomization_delta":
                report = module.publish_study(hub, _holding(mirror, "g4mp2"))
                m = report["metrics"]
                say(f"  data: real, {report['data']}")
                say(
                    f"  {report['dataset']} ({report['molecules']} molecules) -> {report['servable']}; held-out "
                    f"MAE {m['mae_random_delta_model_kcal_mol']:.2f} kcal/mol (random split), "
                    f"{m['mae_largest_delta_model_kcal_mol']:.2f} (largest molecules); element-count baseline "
                    f"{m['mae_random_baseline_counts_kcal_mol']:.2f} / {m['mae_largest_baseline_counts_kcal_mol']:.2f}"
                )
            else:
                report = module.publish_study(hub, mirror, echo=lambda s: say(f"  {s}"))
        except ModuleNotFoundError as exc:
            missing = missing_dependency(exc, f"the {folder} study")
            if missing is None:
                raise
            report = {"not_run": missing.message}
        except RemoteDataError as exc:
            report = {"not_run": _first_line(exc), "to_run": DATA_HINT}
        except FileNotFoundError as exc:
            report = {"not_run": _first_line(exc)}
        if "not_run" in report:
            say(f"  not run: {report['not_run']}")
            if "to_run" in report:
                say(f"  to run it: {report['to_run']}")
        out[folder] = report
    return out


#: What brings a study's real data.
DATA_HINT = (
    "set MATTERHUB_MIRROR to a copy of the data (catalogs/*.yaml name each file and where it belongs), "
    "or run where its public home is reachable (it is then downloaded once, sha256-checked, into "
    "$MATTERHUB_CACHE)"
)


def _holding(mirror: Path | None, folder: str) -> Path | None:
    """``mirror`` when it holds ``folder``, else None (the study then looks for its data itself)."""
    return mirror if mirror is not None and (mirror / folder).is_dir() else None


def _demo_intake(hub: HubAPI, say: Callable[[str], None]) -> dict[str, Any]:
    """Load a dataset through its Intake catalog: nothing is read before ``read()``."""
    cat = hub.catalog("mdf.source_name:element_properties")
    entry = cat[next(iter(cat))].read()  # the dataset's own catalog: its files and record groups
    table = entry["elements.csv"].read()
    say(
        f"intake: hub.catalog('mdf.source_name:element_properties') -> {list(cat)}; "
        f"elements.csv -> pandas {table.shape[0]} rows x {table.shape[1]} columns"
    )
    out: dict[str, Any] = {"element_table": list(table.shape)}
    if "mp_dielectric_constants" in {d.source_name for d in hub.datasets()}:
        gaps = hub.catalog("mdf.source_name:mp_dielectric_constants")
        frame = gaps[next(iter(gaps))].read()["dielectric_constant.csv"].read()
        say(
            f"intake: the Materials Project dielectric set -> pandas {frame.shape[0]} rows; "
            f"median band gap {frame['band_gap'].median():.2f} eV"
        )
        out["dielectric_rows"] = int(frame.shape[0])
    return out


def _demo_servable(hub: HubAPI, say: Callable[[str], None]) -> dict[str, Any]:
    """Publish a small model trained on data ASE ships, then run it through the worker pool.

    A linear model of experimental atomization energies (the 55 molecules of
    ``ase.data.g2_1``) from element counts: the simplest additive baseline of the
    kind Ward et al. correct with machine learning.
    """
    import numpy as np
    from ase.data import g2_1
    from ase.units import kcal, mol
    from sklearn.linear_model import LinearRegression

    data: dict[str, Any] = g2_1.data
    names = [n for n in g2_1.molecule_names if len(data[n]["symbols"]) > 1]
    elements = sorted({s for n in names for s in _symbols(data[n]["symbols"])})
    X = np.array([[_symbols(data[n]["symbols"]).count(e) for e in elements] for n in names], dtype=np.float64)
    y = np.array([g2_1.get_atomization_energy(n) * kcal / mol for n in names])  # type: ignore[no-untyped-call]  # eV
    model = LinearRegression(fit_intercept=False).fit(X, y)
    name = "atomization_energy_from_counts"
    owner = hub.principal.name
    existing = hub.servables(f"dlhub.name:{name}", limit=1)
    if existing.total:
        full = f"{owner}/{name}"
    else:
        sv = hub.describe(
            model,
            name=name,
            title="Atomization energy from element counts (G2-1 baseline)",
            authors=[organisation("MatterHub demo")],
            description=f"Linear model of the experimental atomization energies (eV) of the G2-1 molecules "
            f"from the counts of {', '.join(elements)} atoms.",
        )
        full = hub.publish_servable(sv)
    probe = ["CH4", "H2O", "NH3", "C2H6"]
    features = np.array(
        [[_symbols(data[n]["symbols"]).count(e) for e in elements] for n in probe], dtype=np.float64
    )
    predicted = hub.run(full, features)
    values = [float(v) for v in np.asarray(predicted).ravel()]
    say(f"servable: published {full}; hub.run on {', '.join(probe)} (in a worker process):")
    for n, v in zip(probe, values, strict=True):
        say(
            f"  {n:<6} predicted {v:6.2f} eV   experiment {g2_1.get_atomization_energy(n) * kcal / mol:6.2f} eV"  # type: ignore[no-untyped-call]
        )
    return {"servable": full, "predictions": dict(zip(probe, values, strict=True))}


def _symbols(text: str) -> list[str]:
    import re

    return re.findall(r"[A-Z][a-z]?", text)


@dataclass(frozen=True)
class DemoSearch:
    """A search the demo shows: the query and the keywords it is run with (facets, sort, kinds)."""

    query: str
    options: dict[str, Any] = field(default_factory=dict)
    #: the datasets (source names) it finds things in: it is shown when the hub holds one of them
    needs: tuple[str, ...] = ()


#: What the demo searches for: one slot per line of its output, each a list of searches in order
#: of preference; the first whose data the hub holds is shown (the real-data mirror's first, then
#: the data every install has).
DEMO_SEARCHES: list[list[DemoSearch]] = [
    [DemoSearch("material.elements:Co", {"facets": ["material.elements"]})],
    [
        DemoSearch(
            "dft.code:VASP AND dft.converged:true", needs=("ase_vasp_examples", "materialsio_examples")
        ),
        DemoSearch(
            "crystal_structure.space_group_number:229",
            {"facets": ["material.elements"]},
            needs=("ase_dcdft_crystals",),
        ),
    ],
    [
        DemoSearch("custom.band_gap:>5", {"sort": "-custom.band_gap"}, needs=("mp_dielectric_constants",)),
        DemoSearch(
            "custom.covalent_radius:>=2", {"sort": "-custom.covalent_radius"}, needs=("element_properties",)
        ),
    ],
    [
        DemoSearch(
            "electron_microscopy.beam_energy:>=100",
            {"facets": ["electron_microscopy.acquisition_mode"]},
            needs=("rosettasciio_microscopy", "materialsio_examples"),
        ),
        DemoSearch(
            "crystal_structure.number_of_atoms:>=8",
            {"facets": ["crystal_structure.space_group_number"]},
            needs=("ase_minerals",),
        ),
    ],
    [
        DemoSearch(
            "dft.energy_method:G4MP2 AND material.elements:O",
            {"sort": "dft.total_energy"},
            needs=("g4mp2_gdb_sugars",),
        ),
        DemoSearch(
            "material.elements:N AND material.elements:O",
            {"facets": ["material.elements"]},
            needs=("ase_g2_molecules",),
        ),
    ],
    [
        DemoSearch(
            "dielectrik~1 OR microscopy",
            {"kinds": ["dataset"]},
            needs=("mp_dielectric_constants", "rosettasciio_microscopy"),
        ),
        DemoSearch("moleculs~1 OR crystals", {"kinds": ["dataset"]}, needs=("ase_g2_molecules",)),
    ],
]


def choose_searches(present: set[str]) -> list[DemoSearch]:
    """The search of each slot of :data:`DEMO_SEARCHES` whose data the hub holds."""
    chosen = []
    for slot in DEMO_SEARCHES:
        for search in slot:
            if not search.needs or present.intersection(search.needs):
                chosen.append(search)
                break
    return chosen


def _label(doc: dict[str, Any]) -> str:
    material = (doc.get("material") or {}).get("composition")
    if material:
        return str(material)
    titles = (doc.get("dc") or {}).get("titles") or [{}]
    files = doc.get("files") or [{}]
    return str(titles[0].get("title") or files[0].get("filename") or "?")


def summarize(hub: HubAPI) -> dict[str, Any]:
    """What the demo reports about a hub.

    Returns
    -------
    dict
        The hub's :meth:`~hub.api.HubAPI.stats`, plus ``per_dataset`` (each dataset you
        may see as a dict), ``elements`` (the element facet's buckets), ``errors`` (how many
        extraction errors your submissions report) and ``home``.
    """
    stats = hub.stats()
    facets = hub.search("*", limit=0, facets=[{"field": "material.elements", "size": 120}]).facets
    errors = sum(len(s.errors) for s in hub.submissions())
    return {
        **stats,
        "per_dataset": [ds.to_dict() for ds in hub.datasets()],
        "elements": facets["material.elements"]["buckets"],
        "errors": errors,
        "home": str(hub.home),
    }
