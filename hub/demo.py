"""The demo hub: real data any machine has after ``pip install`` (ASE's
molecules, crystals and test files, files generated here), plus the real-data
mirror (``$MATTERHUB_MIRROR`` or ``../shared/data``) when it is present.

``build_demo`` skips datasets already in the hub, so running it twice is cheap.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.config import mirror_root

if TYPE_CHECKING:
    from hub.client import Hub

Echo = Callable[[str], None] | None


@dataclass
class DemoSource:
    source_name: str
    title: str
    path: Path
    authors: list[str]
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
            ["MatterHub demo"],
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
                ["ASE developers"],
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
            ["HyperSpy developers"],
            "DigitalMicrograph, EMD and FEI/Olympus TIFF files with calibrated axes.",
        ),
    ]
    return [c for c in candidates if c.path.exists()]


def _default_mirror() -> Path | None:
    found = mirror_root()
    if found:
        return found
    here = Path(__file__).resolve().parents[2] / "shared" / "data"
    return here if here.is_dir() else None


def build_demo(hub: Hub, data_dir: Path | None = None, echo: Echo = print) -> dict[str, Any]:
    """Ingest the demo datasets into ``hub`` and return (and print) what it holds."""
    say = echo or (lambda _s: None)
    workdir = hub.home / "demo-sources"
    sources = _generated_sources(workdir)
    mirror = data_dir if data_dir is not None else _default_mirror()
    if mirror is not None and mirror.is_dir():
        sources += _mirror_sources(mirror)
        say(f"real-data mirror: {mirror}")
    else:
        say("no real-data mirror found (set MATTERHUB_MIRROR); ingesting data that ships with ASE only")

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
    say("searches:")
    report["searches"] = []
    for query, options in DEMO_SEARCHES:
        res = hub.search(query, limit=3, **options)
        shown = ", ".join(_label(h.document) for h in res.hits)
        say(f"  {query!r:<58} {res.total:>5} hits  e.g. {shown}")
        for name, facet in res.facets.items():
            say(
                f"      facet {name}: "
                + ", ".join(f"{b['value']} {b['count']}" for b in facet["buckets"][:8])
            )
        report["searches"].append({"query": query, "total": res.total, "top": [h.id for h in res.hits]})
    say("")
    report["intake"] = _demo_intake(hub, say)
    say("")
    report["servable"] = _demo_servable(hub, say)
    report["studies"] = _demo_studies(hub, mirror if mirror is not None and mirror.is_dir() else None, say)
    report["submissions"] = [s.to_dict() for s in submissions]
    return report


#: The three science use cases of the MDF/DLHub paper: (name, folder under servables/, module).
STUDIES = [
    ("atomization energies (Ward et al. 2019)", "atomization_delta", "publish"),
    ("coherent diffraction imaging (Cherukara, Nashed & Harder 2018)", "cdi_nn", "cdi_study"),
    (
        "band gap from optical images (Stein et al. 2019; a labelled stand-in)",
        "bandgap_images",
        "bandgap_images_study",
    ),
]


def _study_module(folder: str, module: str) -> Any | None:
    """``servables/<folder>/<module>.py`` of this checkout (or the working directory), else None.
    The folder joins ``sys.path``: a study's modules import each other by name."""
    import importlib
    import sys

    for root in (Path(__file__).resolve().parents[1], Path.cwd()):
        path = root / "servables" / folder
        if (path / f"{module}.py").is_file():
            if str(path) not in sys.path:
                sys.path.insert(0, str(path))
            name = module if module != "publish" else f"_demo_{folder}_publish"
            if name in sys.modules:
                return sys.modules[name]
            if module == "publish":  # every servable folder has a publish.py: load it by path
                import importlib.util

                spec = importlib.util.spec_from_file_location(name, path / "publish.py")
                assert spec is not None and spec.loader is not None
                mod = importlib.util.module_from_spec(spec)
                sys.modules[name] = mod
                spec.loader.exec_module(mod)
                return mod
            return importlib.import_module(module)
    return None


def _demo_studies(hub: Hub, mirror: Path | None, say: Callable[[str], None]) -> dict[str, Any]:
    """Each study publishes its dataset and trained servables (a second run finds them there)."""
    out: dict[str, Any] = {}
    for title, folder, module_name in STUDIES:
        say("")
        module = _study_module(folder, module_name)
        if module is None or mirror is None:
            say(f"study {title}: skipped (needs the checkout's servables/ and the real-data mirror)")
            continue
        say(f"study: {title}")
        if folder == "atomization_delta":
            report = module.publish_study(hub, mirror)
            m = report["metrics"]
            say(
                f"  {report['dataset']} ({report['molecules']} molecules) -> {report['servable']}; held-out MAE "
                f"{m['mae_random_delta_model_kcal_mol']:.2f} kcal/mol (random split), "
                f"{m['mae_largest_delta_model_kcal_mol']:.2f} (largest molecules); element-count baseline "
                f"{m['mae_random_baseline_counts_kcal_mol']:.2f} / {m['mae_largest_baseline_counts_kcal_mol']:.2f}"
            )
        else:
            report = module.publish_study(hub, mirror, echo=lambda s: say(f"  {s}"))
        out[folder] = report
    return out


def _demo_intake(hub: Hub, say: Callable[[str], None]) -> dict[str, Any]:
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


def _demo_servable(hub: Hub, say: Callable[[str], None]) -> dict[str, Any]:
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
    y = np.array([g2_1.get_atomization_energy(n) * kcal / mol for n in names])  # eV
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
            authors=["MatterHub demo"],
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
            f"  {n:<6} predicted {v:6.2f} eV   experiment {g2_1.get_atomization_energy(n) * kcal / mol:6.2f} eV"
        )
    return {"servable": full, "predictions": dict(zip(probe, values, strict=True))}


def _symbols(text: str) -> list[str]:
    import re

    return re.findall(r"[A-Z][a-z]?", text)


#: What the demo searches for: (query, options).
DEMO_SEARCHES: list[tuple[str, dict[str, Any]]] = [
    ("material.elements:Co", {"facets": ["material.elements"]}),
    ("dft.code:VASP AND dft.converged:true", {}),
    ("custom.band_gap:>5", {"sort": "-custom.band_gap"}),
    ("electron_microscopy.beam_energy:>=100", {"facets": ["electron_microscopy.acquisition_mode"]}),
    ("dft.energy_method:G4MP2 AND material.elements:O", {"sort": "dft.total_energy"}),
    ("dielectrik~1 OR microscopy", {"kinds": ["dataset"]}),
]


def _label(doc: dict[str, Any]) -> str:
    material = (doc.get("material") or {}).get("composition")
    if material:
        return str(material)
    titles = (doc.get("dc") or {}).get("titles") or [{}]
    files = doc.get("files") or [{}]
    return str(titles[0].get("title") or files[0].get("filename") or "?")


def summarize(hub: Hub) -> dict[str, Any]:
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
