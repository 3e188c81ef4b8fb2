"""Connect benchmark (see ../shared/design/BENCHMARKS.md).

1. Connect over the whole real-data corpus (``../shared/data`` or
   ``$MATTERHUB_MIRROR``), three ways, alternating A B C A B C, medians and
   min-max spread:
   A. ``hub.submit`` of the corpus into a fresh hub: collect, grouping, every
      extractor, merge, validation, the blob store and the catalog transaction;
   B. the same parsers (the hub's extractors) called directly on the same
      groups of files, with no pipeline around them;
   C. only the third-party readers the extractors call (ASE, rosettasciio,
      Pillow, pandas, h5py, numpy), without the metadata the extractors derive
      (space groups, functionals, convergence, G4MP2 energies, ...).
   ``ratio_to_parsers`` = A/B (the hub's overhead; goal <= 1.3);
   ``ratio_extractors_to_libraries`` = B/C says what the extra metadata costs.
2. The quantum-chemistry corpus (``qc_programs/``: ORCA, NWChem, Psi4, Q-Chem,
   Firefly, Molpro, Jaguar, ADF, Dalton; and the Gaussian output of
   ``materialsio/``): the hub's extract step with its ``quantum_chemistry``
   extractor (cclib's detection on each file's head, cclib's parse, the record
   with method, energy, ending, geometry) against ``cclib.io.ccread`` alone on the
   same files, alternating, medians; ``qc_ratio`` = hub / cclib (goal <= 1.3).
3. Ingesting mapped table rows as records: a synthetic CSV (fixed seed;
   compositions drawn from the element frequencies of the Materials Project
   formation-energy set when the mirror has it), submitted with a mapping
   through the whole pipeline (collect, extract, validate, store, one
   transaction).  Reports records/s and the time of each step.

Usage: python benchmarks/bench_connect.py [--quick] [--rows N] [--repeat K]
The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import collections
import csv
import io
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hub import Hub  # noqa: E402
from hub.connect import extract as extract_step  # noqa: E402
from hub.connect.collect import collect  # noqa: E402
from hub.db.database import Database  # noqa: E402
from hub.extractors.base import ExtractionContext  # noqa: E402
from hub.extractors.registry import available_extractors  # noqa: E402
from hub.index import hook as index_hook  # noqa: E402
from hub.index.engine import SearchIndex  # noqa: E402


def corpus_root() -> Path | None:
    for cand in (os.environ.get("MATTERHUB_MIRROR"), REPO.parent / "shared" / "data"):
        if cand and Path(cand).is_dir():
            return Path(cand)
    return None


# -- the parsers, called directly (the limit) ------------------------------------


def _ase(path: Path, fmt: str, index: object = -1) -> None:
    import ase.io

    ase.io.read(path, format=fmt, index=index)


def _xyz(path: Path) -> None:
    import ase.io

    lines = path.read_text().splitlines(keepends=True)
    n = int(lines[0].split()[0])
    ase.io.read(io.StringIO("".join(lines[: n + 2])), format="extxyz", index=0)


def _vasp(group: tuple[Path, ...]) -> None:
    names = {p.name: p for p in group}
    run = next((p for n, p in names.items() if n.startswith("vasprun")), None)
    try:
        if run is not None:
            _ase(run, "vasp-xml")
            return
    except Exception:
        pass
    outcar = next((p for n, p in names.items() if n.startswith("OUTCAR")), None)
    if outcar is not None:
        try:
            _ase(outcar, "vasp-out")
        except Exception:
            pass


def _espresso(group: tuple[Path, ...]) -> None:
    for p in group:
        if p.suffix in (".out", ".log") and b"Program PWSCF" in p.read_bytes()[:20000]:
            _ase(p, "espresso-out", ":")
            return


def _cclib(path: Path) -> None:
    import logging

    from cclib.io import ccread

    ccread(str(path), loglevel=logging.CRITICAL)


def _rsciio(path: Path) -> None:
    suffix = path.suffix.lower()
    if suffix in (".dm3", ".dm4"):
        from rsciio.digitalmicrograph import file_reader
    elif suffix == ".emd":
        from rsciio.emd import file_reader
    else:
        from rsciio.tiff import file_reader
    file_reader(str(path), lazy=True)


def _image(path: Path) -> None:
    from PIL import Image

    with Image.open(path) as im:
        im.size  # noqa: B018


def _table(path: Path) -> None:
    import pandas as pd

    if path.suffix.lower() in (".csv", ".tsv"):
        pd.read_csv(path, comment=None, skiprows=1 if path.read_bytes()[:1] == b"#" else 0)
    elif path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        pq.ParquetFile(path).schema_arrow  # noqa: B018
    else:
        pd.read_excel(path)


def _arrays(path: Path) -> None:
    if path.suffix.lower() == ".npy":
        np.load(path, mmap_mode="r")
        return
    import h5py

    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: getattr(obj, "shape", None))


RAW = {
    "crystal": lambda g: _ase(
        g[0], "cif" if g[0].suffix.lower() == ".cif" else "vasp", ":" if g[0].suffix.lower() == ".cif" else -1
    ),
    "molecule_xyz": lambda g: _xyz(g[0]),
    "vasp": _vasp,
    "espresso": _espresso,
    "quantum_chemistry": lambda g: _cclib(g[0]),
    "microscopy": lambda g: _rsciio(g[0]),
    "image": lambda g: _image(g[0]),
    "tabular": lambda g: _table(g[0]),
    "arrays": lambda g: _arrays(g[0]),
}


def raw_parse(groups: list[extract_step.Group]) -> None:
    for g in groups:
        for ex in g.extractors:
            fn = RAW.get(ex.name)
            if fn is None:
                continue
            try:
                fn(g.files)
            except Exception:
                pass  # the hub reports these files as errors; the parser's failure costs what it costs


def extractors_direct(groups: list[extract_step.Group], context: ExtractionContext) -> None:
    """The hub's parsers (its extractors) called directly on the same groups, no pipeline
    (the generic extractor hashes each file: no blob store handed it the file's entry)."""
    for g in groups:
        for ex in g.extractors:
            try:
                ex.extract(g.files, context)
            except Exception:
                pass


def hub_submit(root: Path, workdir: Path, i: int) -> tuple[float, dict]:
    """The whole Connect pipeline into a fresh hub: collect, extract, merge, validate, store, commit."""
    hub = Hub(workdir / f"hub{i}", progress=False)
    t0 = time.perf_counter()
    sub = hub.submit(root, title="Corpus", authors=["Bench, Mark"])
    elapsed = time.perf_counter() - t0
    steps = {s["name"]: s["seconds"] for s in sub.steps}
    hub.close()
    return elapsed, {"status": sub.status, "errors": len(sub.errors), "steps": steps}


def spread(xs: list[float]) -> str:
    return f"{min(xs):.3f}-{max(xs):.3f}"


def bench_extraction(root: Path, repeat: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        collected = collect(root, Path(tmp))
    context = ExtractionContext(root=collected.root)
    groups = extract_step.plan(collected.files, available_extractors(), context)
    n_files = len(collected.files)
    size_mb = sum(f.stat().st_size for f in collected.files) / 1e6
    a, b, c = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        _, info = hub_submit(root, Path(tmp), -1)  # warm-up: imports and library caches
        extractors_direct(groups, context)
        raw_parse(groups)
        for i in range(repeat):
            a.append(hub_submit(root, Path(tmp), i)[0])
            t0 = time.perf_counter()
            extractors_direct(groups, context)
            b.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            raw_parse(groups)
            c.append(time.perf_counter() - t0)
    hub_s, ext_s, lib_s = statistics.median(a), statistics.median(b), statistics.median(c)
    return {
        "files": n_files,
        "groups": len(groups),
        "mb": round(size_mb, 2),
        "per_file_errors": info["errors"],
        "hub_s": round(hub_s, 4),
        "parsers_s": round(ext_s, 4),
        "libraries_s": round(lib_s, 4),
        "hub_spread": spread(a),
        "parsers_spread": spread(b),
        "libraries_spread": spread(c),
        "files_per_s": round(n_files / hub_s, 1),
        "mb_per_s": round(size_mb / hub_s, 2),
        "ratio_to_parsers": round(hub_s / ext_s, 3),
        "ratio_extractors_to_libraries": round(ext_s / lib_s, 3),
        "corpus_steps_s": info["steps"],
    }


def qc_files(root: Path) -> list[Path]:
    """The quantum-chemistry outputs of the corpus: every qc_programs file and the Gaussian output."""
    files = sorted(p for p in (root / "qc_programs").rglob("*") if p.is_file())
    gaussian = root / "materialsio" / "gaussian" / "molecule.log"
    return files + ([gaussian] if gaussian.is_file() else [])


def bench_quantum_chemistry(root: Path, repeat: int) -> dict:
    """The hub's extract step (quantum_chemistry extractor) against cclib alone, on the same files."""
    files = qc_files(root)
    context = ExtractionContext(root=root)
    extractors = available_extractors(["quantum_chemistry"])

    def hub_extract() -> int:
        groups = extract_step.plan(files, extractors, context)  # claims: cclib's detection on the head
        return sum(1 for r in extract_step.run(groups, context) if r.parts)

    def cclib_alone() -> None:
        for f in files:
            try:
                _cclib(f)
            except Exception:
                pass  # cclib 1.8.1 stops on the Jaguar 13.3 output; the hub keeps what it read

    records = hub_extract()  # warm-up: imports
    cclib_alone()
    a, b = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        hub_extract()
        a.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        cclib_alone()
        b.append(time.perf_counter() - t0)
    hub_s, cclib_s = statistics.median(a), statistics.median(b)
    return {
        "qc_files": len(files),
        "qc_records": records,
        "qc_mb": round(sum(f.stat().st_size for f in files) / 1e6, 2),
        "qc_hub_s": round(hub_s, 4),
        "qc_cclib_s": round(cclib_s, 4),
        "qc_hub_spread": spread(a),
        "qc_cclib_spread": spread(b),
        "qc_ratio": round(hub_s / cclib_s, 3),
    }


def element_weights(root: Path | None) -> tuple[list[str], np.ndarray]:
    """Element frequencies from the Materials Project formation-energy set when present."""
    counts: collections.Counter[str] = collections.Counter()
    if root is not None and (root / "matminer" / "flla_2015.csv").exists():
        import pandas as pd

        df = pd.read_csv(root / "matminer" / "flla_2015.csv", skiprows=1, usecols=["formula"])
        for formula in df["formula"]:
            counts.update(set(re.findall(r"[A-Z][a-z]?", str(formula))))
    if not counts:
        counts.update(
            {
                el: 1
                for el in [
                    "H",
                    "Li",
                    "B",
                    "C",
                    "N",
                    "O",
                    "F",
                    "Na",
                    "Mg",
                    "Al",
                    "Si",
                    "P",
                    "S",
                    "Cl",
                    "K",
                    "Ca",
                    "Ti",
                    "Fe",
                    "Co",
                    "Ni",
                    "Cu",
                    "Zn",
                    "Ga",
                    "Se",
                ]
            }
        )
    els = sorted(counts)
    w = np.array([counts[e] for e in els], dtype=float)
    return els, w / w.sum()


def write_table(path: Path, rows: int, root: Path | None) -> None:
    rng = np.random.default_rng(1234)
    els, w = element_weights(root)
    with open(path, "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(
            ["material_id", "formula", "band_gap", "formation_energy", "space_group", "nsites", "volume"]
        )
        for i in range(rows):
            k = int(rng.integers(1, 5))
            picked = rng.choice(len(els), size=k, replace=False, p=w)
            formula = "".join(f"{els[j]}{int(rng.integers(1, 7))}" for j in sorted(picked))
            wr.writerow(
                [
                    f"mp-{i + 1}",
                    formula,
                    round(float(rng.gamma(1.5, 1.2)), 4),
                    round(float(rng.normal(-1.2, 0.8)), 4),
                    int(rng.integers(1, 231)),
                    int(rng.integers(1, 60)),
                    round(float(rng.uniform(20, 900)), 3),
                ]
            )


MAPPING = {
    "custom.material_id": "material_id",
    "material.composition": "formula",
    "custom.band_gap": "band_gap",
    "custom.formation_energy": "formation_energy",
    "crystal_structure.space_group_number": "space_group",
    "crystal_structure.number_of_atoms": "nsites",
    "crystal_structure.volume": "volume",
}


def bench_mapped(rows: int, root: Path | None) -> dict:
    """Mapped rows through ``hub.submit``: durable (the catalog transaction committed,
    which is when the submission is reported complete) and searchable (the search
    index updated too, which ``submit`` also waits for)."""
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "table"
        data.mkdir()
        write_table(data / "materials.csv", rows, root)
        hub = Hub(Path(tmp) / "hub", progress=False)
        indexing = [0.0]
        sync = index_hook.sync_name

        def timed_sync(catalog: Database, index: SearchIndex, name: str) -> int:
            t = time.perf_counter()
            try:
                return sync(catalog, index, name)
            finally:
                indexing[0] += time.perf_counter() - t

        index_hook.sync_name = timed_sync  # the search index's dispatch hook, timed
        try:
            t0 = time.perf_counter()
            sub = hub.submit(data, title="Synthetic mapped table", authors=["Bench, Mark"], mapping=MAPPING)
            total = time.perf_counter() - t0
        finally:
            index_hook.sync_name = sync
        assert sub.status == "complete", sub.report()
        n = hub.stats()["records"]
        assert n == rows, (n, rows)
        assert hub.search("*", limit=0).total == rows + 1  # every record and the dataset are searchable
        steps = {s["name"]: s["seconds"] for s in sub.steps}
        hub.close()
    durable = total - indexing[0]
    return {
        "records": n,
        "ingest_s": round(durable, 3),
        "records_per_s": round(n / durable, 1),
        "index_s": round(indexing[0], 3),
        "searchable_s": round(total, 3),
        "searchable_records_per_s": round(n / total, 1),
        "steps_s": steps,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rows", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=None)
    args = ap.parse_args()
    rows = args.rows or (20_000 if args.quick else 100_000)
    repeat = args.repeat or (3 if args.quick else 7)
    root = corpus_root()
    out: dict = {"bench": "connect", "quick": args.quick, "nproc": os.cpu_count()}
    if root is not None:
        ext = bench_extraction(root, repeat)
        out.update(ext)
        print(
            f"Connect over {root} ({ext['files']} files in {ext['groups']} groups, {ext['mb']} MB; "
            f"{repeat} alternating runs, medians)"
        )
        print(
            f"  A hub.submit (whole pipeline)   {ext['hub_s']:.3f} s  (spread {ext['hub_spread']})  "
            f"{ext['files_per_s']} files/s  {ext['mb_per_s']} MB/s"
        )
        print(
            f"  B the extractors called directly {ext['parsers_s']:.3f} s  (spread {ext['parsers_spread']})"
        )
        print(
            f"  C the libraries' readers alone   {ext['libraries_s']:.3f} s  (spread {ext['libraries_spread']})"
        )
        print(
            f"  ratio A/B (hub to its parsers) {ext['ratio_to_parsers']} (goal <= 1.3); "
            f"B/C (extractors to bare libraries) {ext['ratio_extractors_to_libraries']}"
        )
        if (root / "qc_programs").is_dir():
            qc = bench_quantum_chemistry(root, repeat)
            out.update(qc)
            print(
                f"Quantum chemistry: {qc['qc_files']} outputs ({qc['qc_mb']} MB) -> {qc['qc_records']} records; "
                f"hub extract step {qc['qc_hub_s']:.3f} s (spread {qc['qc_hub_spread']}), cclib.io.ccread alone "
                f"{qc['qc_cclib_s']:.3f} s (spread {qc['qc_cclib_spread']}); ratio {qc['qc_ratio']} (goal <= 1.3)"
            )
    else:
        print("no real-data corpus found (set MATTERHUB_MIRROR): extraction part skipped")
    mapped = bench_mapped(rows, root)
    out.update(mapped)
    print(
        f"mapped rows: {mapped['records']} synthetic rows (seed 1234) -> durable records in "
        f"{mapped['ingest_s']} s = {mapped['records_per_s']} records/s (goal >= 5000); searchable (index "
        f"updated, {mapped['index_s']} s more) after {mapped['searchable_s']} s = "
        f"{mapped['searchable_records_per_s']} records/s"
    )
    print("  steps: " + ", ".join(f"{k} {v:.2f}s" for k, v in mapped["steps_s"].items() if v is not None))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
