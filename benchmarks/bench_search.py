"""Discover (search) benchmark (see ../shared/design/BENCHMARKS.md).

Over N generated MDF record documents (full run 1,000,000; ``--quick`` 100,000):

1. Index build through the hub's real indexing path: ``SearchIndex.replace_sources``
   fed a stream of ``IndexDoc`` (one commit at the end), in records/s (the time
   spent generating the synthetic documents is measured and left out), and the
   index size on disk per record.  A sample also times the hub's Python document
   preparation alone (``prepare_document``), to show its share.
2. Six query shapes through the hub, ``SearchIndex.search(q, principal, facets=...,
   limit=10)`` as a non-admin principal (so the ACL filter applies): term, boolean,
   range, fuzzy, wildcard, and a query with three facets (terms on
   ``material.elements``, terms on ``dft.code``, histogram on ``custom.band_gap``).
   Each shape cycles through a fixed list of values so no cache flatters it.
3. The same queries on RAW tantivy (the ``tantivy`` package directly, the same
   index directory, one searcher): equivalent Query objects / ``parse_query``
   strings, the same ACL term-set filter, the same 10 stored documents fetched and
   decoded, and the same facets as ONE ``searcher.aggregate`` request (the
   histogram with the interval the hub chose for that query).  Hub and raw
   alternate A B A B (the order flips every round) after a warm-up pass that
   also checks both return the same totals and facets.
   ``ratio_to_engine`` = hub p50 / raw p50 (goal <= 1.5); faceted p50 goal
   <= 30 ms at 1,000,000 records on 2 cores.  A third side, alternating with
   the two, runs on raw tantivy the very query object the hub compiled for that
   value (compiled before timing): ``<shape>_ratio_same_query`` = hub p50 / its
   p50 is the hub's own cost (parse, access filter, hits) without the extra
   engine work its query language asks for (``field:value`` matches the exact
   keyword or the word, so a term is two posting lists where the raw peer reads
   one).  Each side's CPU time (the calling thread's, where tantivy searches) is
   kept too: ``<shape>_cpu_ratio`` = hub / raw CPU p50, steadier than wall time
   on a machine shared with other work.

The build streams the documents (BATCH at a time) into one writer whose heap is
bounded, so ``--records 10000000`` runs in bounded memory (disk: about the
printed bytes/record, plus room for tantivy's merges).

Documents: fixed seed (numpy default_rng(1234)); compositions drawn from the
element frequencies of the Materials Project formation-energy set
(``matminer/flla_2015.csv`` in the mirror) when present, else from a fixed table
approximating how often each element occurs in Materials Project entries; about
200 datasets of Zipf-like sizes with their own owner, visibility and DFT code;
``dft`` on ~40% of records (45% at 1,000,000), ``custom`` on ~50% (48%); real-looking
file names and sizes.

Usage: python benchmarks/bench_search.py [--quick] [--records N] [--repeat K]
                                         [--keep DIR [--reuse]] [--profile]
The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import datetime as _dt
import io
import json
import os
import pstats
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import tantivy

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hub.access import PUBLISHED, Action, Kind, Principal, Resource  # noqa: E402
from hub.access.index import document_acl  # noqa: E402
from hub.index.documents import prepare_document  # noqa: E402
from hub.index.engine import IndexDoc, SearchIndex  # noqa: E402

SEED = 1234
N_DATASETS = 200
BATCH = 10_000
PRINCIPAL = Principal("alice", frozenset({"lab"}))
Q = tantivy.Query
Occur = tantivy.Occur

# -- element frequencies ----------------------------------------------------------------

#: Fallback: roughly how many Materials Project entries contain each element.
ELEMENT_TABLE = {
    "O": 60000, "Li": 22000, "H": 9000, "F": 14000, "S": 12000, "P": 10000, "Mn": 11000,
    "Fe": 10000, "Co": 9000, "Ni": 8500, "Cu": 7500, "Si": 8000, "N": 7000, "Mg": 8000,
    "Na": 8000, "K": 7000, "Ca": 6000, "Ba": 6500, "Sr": 5500, "Al": 6000, "Zn": 5000,
    "V": 8000, "Ti": 6000, "Cr": 6000, "Mo": 5000, "W": 4000, "Se": 5500, "Te": 4500,
    "Cl": 5500, "Br": 3500, "I": 3500, "C": 6000, "B": 5000, "Bi": 4500, "Sb": 4500,
    "Sn": 4500, "Ge": 4500, "Ga": 4000, "In": 4000, "La": 5000, "Ce": 2500, "Nd": 2500,
    "Pr": 2500, "Sm": 2000, "Eu": 2000, "Gd": 1800, "Tb": 1800, "Dy": 1800, "Ho": 1800,
    "Er": 1800, "Tm": 1600, "Yb": 1800, "Lu": 1500, "Y": 4000, "Zr": 3500, "Nb": 4500,
    "Ag": 3000, "Au": 2000, "Pd": 2500, "Pt": 2000, "Rh": 2000, "Ru": 2000, "Ir": 1500,
    "Os": 1000, "Re": 1500, "Hg": 2000, "Cd": 2500, "Pb": 3000, "Tl": 2000, "Cs": 4000,
    "Rb": 3500, "As": 3500, "Sc": 2500, "Hf": 1500, "Ta": 2500, "U": 3000, "Th": 1000,
    "Np": 800, "Pu": 800, "Be": 1000, "Tc": 500, "Ac": 300, "Pa": 200, "Pm": 300, "Xe": 100,
}  # fmt: skip


def corpus_root() -> Path | None:
    for cand in (os.environ.get("MATTERHUB_MIRROR"), REPO.parent / "shared" / "data"):
        if cand and Path(cand).is_dir():
            return Path(cand)
    return None


def element_weights(root: Path | None) -> tuple[list[str], np.ndarray, str]:
    """Element symbols, their probabilities, and where the frequencies came from."""
    counts: collections.Counter[str] = collections.Counter()
    origin = "a fixed table approximating element occurrence in Materials Project entries"
    path = root / "matminer" / "flla_2015.csv" if root is not None else None
    if path is not None and path.exists():
        import pandas as pd

        df = pd.read_csv(path)
        if "formula" not in df.columns:  # matminer files may start with a comment line
            df = pd.read_csv(path, skiprows=1)
        if "formula" in df.columns:
            symbol = re.compile(r"[A-Z][a-z]?")  # also reads dict strings like "{'As': 1.0}"
            for formula in df["formula"]:
                counts.update(set(symbol.findall(str(formula))))
            origin = f"element occurrences in {path.name} ({len(df)} formulas)"
    if not counts:
        counts.update(ELEMENT_TABLE)
    els = sorted(counts)
    w = np.array([counts[e] for e in els], dtype=float)
    return els, w / w.sum(), origin


# -- synthetic MDF records --------------------------------------------------------------

PREFIXES = [
    "oqmd", "mp", "aflow", "jarvis", "nomad", "cod", "icsd", "matbench", "qm9", "g4mp2",
    "perovskite", "hea", "c2db", "twodmatpedia", "citrine", "polymer", "zeolite", "mof",
    "thermoelectric", "catalysis",
]  # fmt: skip
TOPICS = [
    "bulk", "surfaces", "defects", "phonons", "elastic", "magnetic", "layers", "alloys",
    "oxides", "battery", "dielectric", "piezo", "hull", "relax",
]  # fmt: skip
USERS = ["alice", "bob", "carol", "dave", "erin"]
CODES = ["VASP", "Quantum ESPRESSO", "Gaussian"]
METHODS = {
    "VASP": (["PBE", "PBE+U", "SCAN", "HSE06"], [0.6, 0.25, 0.1, 0.05]),
    "Quantum ESPRESSO": (["PBE", "PBEsol", "LDA"], [0.7, 0.2, 0.1]),
    "Gaussian": (["B3LYP", "G4MP2", "wB97X-D"], [0.6, 0.3, 0.1]),
}
#: (filename, mime type, data type, log10 size mean, log10 size sd)
FILE_KINDS = {
    "VASP": ("vasprun.xml", "application/xml", "vasp", 6.6, 0.5),
    "Quantum ESPRESSO": ("pw.out", "text/plain", "espresso", 5.4, 0.4),
    "Gaussian": ("calc.log", "text/plain", "gaussian", 5.0, 0.4),
    "cif": ("structure.cif", "chemical/x-cif", "crystal", 3.6, 0.3),
    "poscar": ("POSCAR", "text/plain", "crystal", 3.1, 0.3),
}
COMMON_SPACE_GROUPS = np.array([225, 62, 14, 139, 194, 221, 2, 166, 12, 15, 227, 191, 129, 123, 11])


class Datasets:
    """About 200 datasets: names, Zipf-like sizes (contiguous records), owner, ACL, dates."""

    def __init__(self, rng: np.random.Generator, n_records: int) -> None:
        names: list[str] = []
        for i in range(N_DATASETS):
            prefix = PREFIXES[i % len(PREFIXES)]
            topic = TOPICS[i // len(PREFIXES)]
            names.append(f"{prefix}_{topic}")
        assert len(set(names)) == N_DATASETS
        order = rng.permutation(N_DATASETS)
        weights = 1.0 / np.arange(1, N_DATASETS + 1) ** 0.9
        sizes = np.floor(weights[order] / weights.sum() * n_records).astype(np.int64)
        sizes[np.argmax(sizes)] += n_records - int(sizes.sum())
        self.names = names
        self.sizes = sizes
        self.start = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        self.of_record = np.repeat(np.arange(N_DATASETS), sizes)
        self.version = rng.choice([1, 2, 3], size=N_DATASETS, p=[0.7, 0.2, 0.1])
        self.source_id = [f"{n}_v{v}" for n, v in zip(names, self.version, strict=True)]
        vis = rng.choice(4, size=N_DATASETS, p=[0.65, 0.15, 0.08, 0.12])
        visible = [["public"], ["group:lab"], ["user:alice"], ["group:theory"]]  # the last hidden from alice
        self.visible_to = [visible[v] for v in vis]
        self.owner = [USERS[u] for u in rng.choice(len(USERS), size=N_DATASETS, p=[0.1, 0.3, 0.2, 0.2, 0.2])]
        self.acl = [
            document_acl(Resource(Kind.DATASET, o, PUBLISHED, {Action.SEE: frozenset(v)}))
            for v, o in zip(self.visible_to, self.owner, strict=True)
        ]
        day0 = _dt.datetime(2015, 1, 1, tzinfo=_dt.UTC)
        secs = rng.integers(0, 11 * 365 * 86400, size=N_DATASETS)
        self.ingest_date = [
            (day0 + _dt.timedelta(seconds=int(s))).isoformat(timespec="seconds") for s in secs
        ]
        self.p_dft = rng.beta(0.8, 1.2, size=N_DATASETS)  # mean 0.4
        self.code = rng.choice(3, size=N_DATASETS, p=[0.65, 0.25, 0.10])
        self.p_custom = rng.beta(1.0, 1.0, size=N_DATASETS)  # mean 0.5
        self.structure_file = rng.choice(["cif", "poscar"], size=N_DATASETS)


def hill(symbols: list[str], counts: list[int]) -> str:
    pairs = dict(zip(symbols, counts, strict=True))
    keys = sorted(pairs)
    if "C" in pairs:
        keys = ["C"] + (["H"] if "H" in pairs else []) + [k for k in keys if k not in ("C", "H")]
    return "".join(k + (str(pairs[k]) if pairs[k] > 1 else "") for k in keys)


def anonymous(counts: list[int]) -> str:
    return "".join(chr(65 + i) + (str(n) if n > 1 else "") for i, n in enumerate(sorted(counts)))


def generate(n_records: int, root: Path | None) -> tuple[Iterator[IndexDoc], dict[str, Any]]:
    """A stream of IndexDocs, made BATCH at a time with vectorized numpy; ``info['gen_s']``
    accumulates the time spent generating."""
    rng = np.random.default_rng(SEED)
    els, w, origin = element_weights(root)
    logw = np.log(w)
    ds = Datasets(rng, n_records)
    info: dict[str, Any] = {"gen_s": 0.0, "elements_from": origin, "datasets": N_DATASETS}
    sym = np.array(els)

    def batches() -> Iterator[IndexDoc]:
        for lo in range(0, n_records, BATCH):
            t0 = time.perf_counter()
            b = min(BATCH, n_records - lo)
            d = ds.of_record[lo : lo + b]
            scroll = np.arange(lo, lo + b) - ds.start[d] + 1
            # compositions: k distinct elements by frequency (Gumbel top-k), small integer amounts
            k = rng.choice([1, 2, 3, 4, 5], size=b, p=[0.04, 0.30, 0.42, 0.19, 0.05])
            keys = logw[None, :] + rng.gumbel(size=(b, len(els)))
            picked = np.argsort(-keys, axis=1)[:, :5]
            amounts = rng.choice(
                [1, 2, 3, 4, 5, 6, 7, 8], size=(b, 5), p=[0.35, 0.25, 0.15, 0.1, 0.05, 0.04, 0.03, 0.03]
            )
            amounts = np.where(np.arange(5)[None, :] < k[:, None], amounts, 0)
            g = np.gcd.reduce(np.where(amounts > 0, amounts, 0), axis=1)
            amounts = amounts // np.maximum(g, 1)[:, None]
            z = rng.choice([1, 2, 4], size=b, p=[0.4, 0.35, 0.25])
            sg = np.where(
                rng.random(b) < 0.45,
                COMMON_SPACE_GROUPS[rng.integers(0, len(COMMON_SPACE_GROUPS), size=b)],
                rng.integers(1, 231, size=b),
            )
            vol_per_atom = rng.uniform(8.0, 30.0, size=b)
            has_dft = rng.random(b) < ds.p_dft[d]
            other_code = rng.random(b) < 0.1  # a few records of a dataset used another code
            code = np.where(other_code, rng.integers(0, 3, size=b), ds.code[d])
            meth_u = rng.random(b)
            converged = rng.random(b) < 0.93
            e_per_atom = rng.uniform(2.0, 9.0, size=b)
            cutoff_u = rng.integers(0, 4, size=b)
            has_custom = rng.random(b) < ds.p_custom[d]
            metal = rng.random(b) < 0.35
            gap = np.where(metal, 0.0, np.round(rng.gamma(1.5, 1.3, size=b), 4))
            eform = np.round(rng.normal(-1.2, 0.9, size=b), 4)
            size_z = rng.standard_normal(b)
            sha = rng.bytes(32 * b).hex()
            out: list[IndexDoc] = []
            for i in range(b):
                di = int(d[i])
                n_el = int(k[i])
                symbols = [str(s) for s in sym[picked[i, :n_el]]]
                counts = [int(c) for c in amounts[i, :n_el]]
                natoms = int(sum(counts) * z[i])
                sid = ds.source_id[di]
                sc = int(scroll[i])
                rid = f"{sid}.{sc}"
                c = CODES[int(code[i])] if has_dft[i] else None
                fkind = FILE_KINDS[c] if c else FILE_KINDS[str(ds.structure_file[di])]
                doc: dict[str, Any] = {
                    "mdf": {
                        "source_name": ds.names[di],
                        "source_id": sid,
                        "version": int(ds.version[di]),
                        "resource_type": "record",
                        "record_id": rid,
                        "scroll_id": sc,
                        "visible_to": ds.visible_to[di],
                        "ingest_date": ds.ingest_date[di],
                        "extractors": [fkind[2]],
                    },
                    "files": [
                        {
                            "filename": fkind[0],
                            "path": f"calcs/{sc:07d}/{fkind[0]}",
                            "length": int(10 ** (fkind[3] + fkind[4] * size_z[i])),
                            "mime_type": fkind[1],
                            "sha256": sha[64 * i : 64 * i + 64],
                            "data_type": fkind[2],
                        }
                    ],
                    "material": {"composition": hill(symbols, counts), "elements": sorted(symbols)},
                    "crystal_structure": {
                        "space_group_number": int(sg[i]),
                        "number_of_atoms": natoms,
                        "volume": round(float(natoms * vol_per_atom[i]), 3),
                        "stoichiometry": anonymous(counts),
                    },
                }
                if c:
                    names, p = METHODS[c]
                    method = names[int(np.searchsorted(np.cumsum(p), meth_u[i] * 0.999999))]
                    scale = 30.0 if c == "Gaussian" else 1.0  # molecules: all-electron energies
                    dft: dict[str, Any] = {
                        "code": c,
                        "method": method,
                        "converged": bool(converged[i]),
                        "total_energy": round(float(-natoms * e_per_atom[i] * scale), 6),
                    }
                    if c != "Gaussian":
                        dft["cutoff_energy"] = [400.0, 520.0, 600.0, 680.0][int(cutoff_u[i])]
                    doc["dft"] = dft
                if has_custom[i]:
                    doc["custom"] = {"band_gap": float(gap[i]), "formation_energy": float(eform[i])}
                out.append(IndexDoc(rid, "record", sid, ds.acl[di], doc))
            info["gen_s"] += time.perf_counter() - t0
            yield from out

    return batches(), info


# -- query shapes ---------------------------------------------------------------------------

TERM = ["Co", "Fe", "Li", "Ni", "Mn", "Cu", "Ti", "Zn", "Al", "Si", "Mg", "V"]
BOOL = [("Co", "O"), ("Fe", "S"), ("Li", "F"), ("Ni", "O"), ("Mn", "O"), ("Cu", "Se"),
        ("Ti", "N"), ("Zn", "O"), ("Si", "C"), ("Mg", "H"), ("V", "O"), ("Cr", "P")]  # fmt: skip
RANGE = [(-50, -10), (-40, -5), (-60, -20), (-30, -15), (-80, -40), (-25, -5),
         (-45, -35), (-100, -60), (-20, -10), (-55, -25), (-70, -30), (-35, -12)]  # fmt: skip
FUZZY = ["Fe2O", "CoO", "Li2S", "MnO", "NiO", "CuO", "O2Ti", "SZn", "O2Si", "CoLiO", "FeO", "LiO"]
WILD = [
    "oqmd",
    "mp",
    "aflow",
    "jarvis",
    "nomad",
    "cod",
    "icsd",
    "matbench",
    "perovskite",
    "mof",
    "hea",
    "qm9",
]
FACET_EL = ["O", "Li", "Fe", "Co", "Ni", "Mn", "Cu", "S", "Si", "N", "Ti", "Zn"]
FACETS: list[Any] = [
    "material.elements",
    "dft.code",
    {"field": "custom.band_gap", "type": "histogram"},
]

SHAPES: dict[str, tuple[list[Any], Callable[[Any], str]]] = {
    "term": (TERM, lambda v: f"material.elements:{v}"),
    "boolean": (
        BOOL,
        lambda v: f"material.elements:{v[0]} AND dft.converged:true AND NOT material.elements:{v[1]}",
    ),
    "range": (RANGE, lambda v: f"dft.total_energy:[{v[0]} TO {v[1]}]"),
    "fuzzy": (FUZZY, lambda v: f"material.composition:{v}~1"),
    "wildcard": (WILD, lambda v: f"mdf.source_name:{v}*"),
    "faceted": (FACET_EL, lambda v: f"material.elements:{v}"),
}


class Raw:
    """The same work on the bare tantivy package: same directory, one searcher."""

    def __init__(self, path: Path) -> None:
        self.index = tantivy.Index.open(str(path))
        self.schema = self.index.schema
        self.acl = Q.term_set_query(self.schema, "acl", PRINCIPAL.tokens())
        self.intervals: dict[str, float] = {}  # histogram interval the hub chose, per faceted value

    def query(self, shape: str, v: Any) -> tantivy.Query:
        s = self.schema
        if shape in ("term", "faceted"):
            q = Q.term_query(s, "kw.material.elements", v)
        elif shape == "boolean":
            q = Q.boolean_query(
                [
                    (Occur.Must, Q.term_query(s, "kw.material.elements", v[0])),
                    (Occur.Must, Q.term_query(s, "kw.dft.converged", True)),
                    (Occur.MustNot, Q.term_query(s, "kw.material.elements", v[1])),
                ]
            )
        elif shape == "range":
            q = self.index.parse_query(f"kw.dft.total_energy:[{float(v[0])!r} TO {float(v[1])!r}]")
        elif shape == "fuzzy":
            # the analyzed (lowercased) field: what the hub's fuzzy matches (a superset of the
            # case-sensitive keyword match, which it also runs)
            q = Q.fuzzy_term_query(s, "tx.material.composition", v.lower(), distance=1)
        elif shape == "wildcard":
            q = Q.regex_query(s, "pv", re.escape("mdf.source_name=") + re.escape(v) + ".*")
        else:
            raise ValueError(shape)
        return Q.boolean_query([(Occur.Must, q), (Occur.Must, self.acl)])

    def run(self, shape: str, v: Any, q: tantivy.Query | None = None) -> dict[str, Any]:
        """One query of ``shape`` for value ``v`` (``q``: this query object instead of the peer's own)."""
        q = self.query(shape, v) if q is None else q
        searcher = self.index.searcher()
        res = searcher.search(q, 10, count=True)
        docs = [json.loads(searcher.doc(addr)["src"][0]) for _, addr in res.hits]
        out: dict[str, Any] = {"total": int(getattr(res, "count", 0) or 0), "docs": docs}
        if shape == "faceted":
            interval = self.intervals.get(v, 1.0)
            agg = searcher.aggregate(
                q,
                {
                    "el": {"terms": {"field": "kw.material.elements", "size": 10}},
                    "code": {"terms": {"field": "kw.dft.code", "size": 10}},
                    "gap": {"histogram": {"field": "kw.custom.band_gap", "interval": interval}},
                },
            )
            out["facets"] = {
                "material.elements": [(b["key"], int(b["doc_count"])) for b in agg["el"]["buckets"]],
                "dft.code": [(b["key"], int(b["doc_count"])) for b in agg["code"]["buckets"]],
                "custom.band_gap": [(float(b["key"]), int(b["doc_count"])) for b in agg["gap"]["buckets"]],
            }
        return out


def hub_run(index: SearchIndex, shape: str, v: Any) -> Any:
    query = SHAPES[shape][1](v)
    return index.search(query, PRINCIPAL, facets=FACETS if shape == "faceted" else (), limit=10)


def hub_facets(res: Any) -> dict[str, list[tuple[Any, int]]]:
    return {
        name: [(b["value"], b["count"]) for b in f["buckets"] if name != "custom.band_gap" or b["count"]]
        for name, f in res.facets.items()
    }


# -- measuring --------------------------------------------------------------------------------


def pct(xs: list[float], p: float) -> float:
    return float(np.percentile(np.array(xs), p))


def dir_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(path: Path, n: int, root: Path | None) -> dict[str, Any]:
    docs, info = generate(n, root)
    index = SearchIndex(path)
    t0 = time.perf_counter()
    count = index.replace_sources([], docs)
    total = time.perf_counter() - t0
    assert count == n, (count, n)
    build_s = total - info["gen_s"]
    size = dir_bytes(path)
    searcher = index.searcher()
    return {
        "records": n,
        "gen_s": round(info["gen_s"], 2),
        "build_s": round(build_s, 2),
        "build_records_per_s": round(n / build_s, 1),
        "index_bytes": size,
        "bytes_per_record": round(size / n, 1),
        "segments": int(searcher.num_segments),
        "elements_from": info["elements_from"],
        "peak_rss_mb_after_build": round(rss_mb(), 1),
    }


def prep_cost(root: Path | None, n: int = 5_000) -> dict[str, float]:
    """The hub's Python side of indexing alone: prepare_document (one walk) per record."""
    docs, _ = generate(n, root)
    sample = list(docs)
    t0 = time.perf_counter()
    for d in sample:
        prepare_document(d.id, d.kind, d.source, d.acl, d.doc)
    t1 = time.perf_counter()
    return {"prepare_document_us": round((t1 - t0) / n * 1e6, 1)}


class _Counting:
    """A searcher that counts the passes over the index (search, aggregate) made through it."""

    def __init__(self, searcher: tantivy.Searcher, calls: collections.Counter[str]) -> None:
        self._s, self._calls = searcher, calls

    def search(self, *a: Any, **k: Any) -> Any:
        self._calls["search"] += 1
        return self._s.search(*a, **k)

    def aggregate(self, *a: Any, **k: Any) -> Any:
        self._calls["aggregate"] += 1
        return self._s.aggregate(*a, **k)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._s, name)


def engine_passes(index: SearchIndex, raw: Raw) -> dict[str, str]:
    """How many passes over the index one query makes, hub vs raw (a count, not a time)."""
    out = {}
    real_hub = index.searcher
    real_raw = raw.index
    for shape, (values, _) in SHAPES.items():
        hub_calls: collections.Counter[str] = collections.Counter()
        raw_calls: collections.Counter[str] = collections.Counter()

        def hub_searcher(calls: collections.Counter[str] = hub_calls) -> Any:
            return _Counting(real_hub(), calls)

        index.searcher = hub_searcher  # type: ignore[method-assign]
        raw.index = _Proxy(real_raw, raw_calls)  # type: ignore[assignment]
        try:
            hub_run(index, shape, values[0])
            raw.run(shape, values[0])
        finally:
            index.searcher = real_hub  # type: ignore[method-assign]
            raw.index = real_raw
        out[shape] = (
            f"hub {hub_calls['search']} search + {hub_calls['aggregate']} aggregate, "
            f"raw {raw_calls['search']} search + {raw_calls['aggregate']} aggregate"
        )
    return out


class _Proxy:
    def __init__(self, index: tantivy.Index, calls: collections.Counter[str]) -> None:
        self._index, self._calls = index, calls

    def searcher(self) -> Any:
        return _Counting(self._index.searcher(), self._calls)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._index, name)


def warm_and_check(index: SearchIndex, raw: Raw) -> dict[str, Any]:
    """One pass of every query on both sides: warms caches, takes the hub's histogram
    intervals for the raw side, and checks both sides return the same results."""
    mismatches: list[str] = []
    totals: dict[str, list[int]] = {}
    for shape, (values, _) in SHAPES.items():
        totals[shape] = []
        for v in values:
            h = hub_run(index, shape, v)
            if shape == "faceted":
                raw.intervals[v] = float(h.facets["custom.band_gap"].get("interval") or 1.0)
            r = raw.run(shape, v)
            same = raw.run(shape, v, index.build_query(SHAPES[shape][1](v), PRINCIPAL))
            totals[shape].append(h.total)
            if h.total != r["total"]:
                mismatches.append(f"{shape} {v!r}: hub total {h.total} != raw {r['total']}")
            if h.total != same["total"]:
                mismatches.append(f"{shape} {v!r}: hub total {h.total} != its query on raw {same['total']}")
            if shape == "faceted":
                hf = hub_facets(h)
                for name, buckets in r["facets"].items():
                    rb = [b for b in buckets if name != "custom.band_gap" or b[1]]
                    if hf[name] != rb:
                        mismatches.append(f"faceted {v!r} {name}: hub {hf[name][:3]}... != raw {rb[:3]}...")
    return {"mismatches": mismatches, "totals": totals}


def measure(index: SearchIndex, raw: Raw, rounds: int) -> dict[str, dict[str, Any]]:
    """Hub, raw, and raw running the hub's query, alternating (the order rotates every
    round and value)."""
    hub_t: dict[str, list[float]] = {s: [] for s in SHAPES}
    raw_t: dict[str, list[float]] = {s: [] for s in SHAPES}
    same_t: dict[str, list[float]] = {s: [] for s in SHAPES}
    # CPU time of the calling thread (tantivy searches in it): on a shared machine a
    # query's wall time also counts the turns it waited for a core
    hub_cpu: dict[str, list[float]] = {s: [] for s in SHAPES}
    raw_cpu: dict[str, list[float]] = {s: [] for s in SHAPES}
    hub_round: dict[str, list[float]] = {s: [] for s in SHAPES}
    raw_round: dict[str, list[float]] = {s: [] for s in SHAPES}
    compiled = {
        (shape, repr(v)): index.build_query(make(v), PRINCIPAL)
        for shape, (vs, make) in SHAPES.items()
        for v in vs
    }
    orders = [(0, 1, 2), (1, 2, 0), (2, 0, 1), (0, 2, 1), (2, 1, 0), (1, 0, 2)]
    pc, tc = time.perf_counter, time.thread_time
    for r in range(rounds):
        for shape, (values, _) in SHAPES.items():
            h_this, r_this = [], []
            for j, v in enumerate(values):
                for side in orders[(r + j) % len(orders)]:
                    t0, c0 = pc(), tc()
                    if side == 0:
                        hub_run(index, shape, v)
                        h_this.append(pc() - t0)
                        hub_cpu[shape].append(tc() - c0)
                    elif side == 1:
                        raw.run(shape, v)
                        r_this.append(pc() - t0)
                        raw_cpu[shape].append(tc() - c0)
                    else:
                        raw.run(shape, v, compiled[shape, repr(v)])
                        same_t[shape].append(pc() - t0)
            hub_t[shape] += h_this
            raw_t[shape] += r_this
            hub_round[shape].append(statistics.median(h_this))
            raw_round[shape].append(statistics.median(r_this))
    out: dict[str, dict[str, Any]] = {}
    for shape in SHAPES:
        h, rw = hub_t[shape], raw_t[shape]
        out[shape] = {
            "hub_p50_ms": round(pct(h, 50) * 1e3, 3),
            "hub_p95_ms": round(pct(h, 95) * 1e3, 3),
            "raw_p50_ms": round(pct(rw, 50) * 1e3, 3),
            "raw_p95_ms": round(pct(rw, 95) * 1e3, 3),
            "hub_spread_ms": [round(min(hub_round[shape]) * 1e3, 3), round(max(hub_round[shape]) * 1e3, 3)],
            "raw_spread_ms": [round(min(raw_round[shape]) * 1e3, 3), round(max(raw_round[shape]) * 1e3, 3)],
            "ratio_to_engine": round(pct(h, 50) / pct(rw, 50), 3),
            "same_query_p50_ms": round(pct(same_t[shape], 50) * 1e3, 3),
            "hub_cpu_p50_ms": round(pct(hub_cpu[shape], 50) * 1e3, 3),
            "raw_cpu_p50_ms": round(pct(raw_cpu[shape], 50) * 1e3, 3),
            "cpu_ratio": round(pct(hub_cpu[shape], 50) / max(pct(raw_cpu[shape], 50), 1e-9), 3),
            "ratio_same_query": round(pct(h, 50) / pct(same_t[shape], 50), 3),
            "samples": len(h),
        }
    return out


def profile_hub(index: SearchIndex, shape: str, repeat: int = 5) -> str:
    values = SHAPES[shape][0]
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(repeat):
        for v in values:
            hub_run(index, shape, v)
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(14)
    return buf.getvalue()


def code_version() -> dict[str, Any]:
    """The commit measured, and whether hub/ had uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", "hub"], capture_output=True, text=True
        ).stdout.strip()
        return {"commit": head, "hub_dirty": bool(dirty)}
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "hub_dirty": None}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="100,000 records, under 60 s")
    ap.add_argument("--records", type=int, default=None, help="records to generate (full run: 1,000,000)")
    ap.add_argument("--repeat", type=int, default=None, help="alternating rounds over every query value")
    ap.add_argument("--keep", type=Path, default=None, help="build the index in DIR and keep it")
    ap.add_argument("--reuse", action="store_true", help="with --keep: reuse the index already in DIR")
    ap.add_argument("--profile", action="store_true", help="cProfile the hub's faceted and fuzzy paths")
    args = ap.parse_args()
    n = args.records or (100_000 if args.quick else 1_000_000)
    rounds = args.repeat or (5 if args.quick else 10)
    root = corpus_root()
    t_start = time.perf_counter()
    version = code_version()  # before the run: the code imported is the code measured

    tmp = None
    if args.keep is not None:
        path = args.keep
    else:
        tmp = tempfile.mkdtemp(prefix="bench_search_")
        path = Path(tmp) / "index"
    marker = path / "bench_search.json"
    try:
        built = json.loads(marker.read_text()) if args.reuse and marker.exists() else {}
        # (opening an index of another schema version empties it: then it is built again)
        if built.get("records") == n and SearchIndex(path).count() == n:
            print(f"reusing the index in {path} (built earlier; build figures are from that run)")
        else:
            if path.exists():
                shutil.rmtree(path)
            built = build(path, n, root)
            if args.keep is not None:
                marker.write_text(json.dumps(built))
        prep = prep_cost(root, 2_000 if args.quick else 5_000)
        index = SearchIndex(path)
        raw = Raw(path)
        check = warm_and_check(index, raw)
        passes = engine_passes(index, raw)
        lat = measure(index, raw, rounds)
        profiles = {s: profile_hub(index, s, 2) for s in ("faceted", "fuzzy")} if args.profile else {}
        visible = index.search("*", PRINCIPAL, limit=0).total
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)

    prep_share = (prep["prepare_document_us"]) * 1e-6 * built["build_records_per_s"]
    print(
        f"Discover benchmark: {n:,} synthetic MDF records (numpy default_rng({SEED}); {N_DATASETS} datasets; "
        f"compositions from {built['elements_from']}); nproc {os.cpu_count()}; "
        f"commit {version['commit']}{' + uncommitted hub/ changes' if version['hub_dirty'] else ''}"
    )
    print(
        f"  build through SearchIndex.replace_sources: {built['build_s']} s = "
        f"{built['build_records_per_s']:,.0f} records/s (generation {built['gen_s']} s, excluded); "
        f"{built['bytes_per_record']:,.0f} bytes/record on disk "
        f"({built['index_bytes'] / 1e6:,.1f} MB, {built['segments']} segments)"
    )
    print(
        f"  hub Python prep per record: prepare_document {prep['prepare_document_us']} us "
        f"= {prep_share:.0%} of the build time"
    )
    print(
        f"  queries as {PRINCIPAL.user} (groups {sorted(PRINCIPAL.groups)}): ACL filter on, "
        f"{visible:,} of {n:,} records visible; {rounds} alternating rounds x 12 values per shape"
    )
    print(
        f"  {'shape':9} {'hub p50':>9} {'hub p95':>9} {'raw p50':>9} {'raw p95':>9} {'ratio':>6}"
        f"  {'hub round-median spread':>24}  {'raw spread':>16}  matches (median)"
        "  [raw running the hub's query: p50, hub/it]"
    )
    for shape, m in lat.items():
        med_total = int(statistics.median(check["totals"][shape]))
        print(
            f"  {shape:9} {m['hub_p50_ms']:>8.2f}  {m['hub_p95_ms']:>8.2f}  {m['raw_p50_ms']:>8.2f}  "
            f"{m['raw_p95_ms']:>8.2f}  {m['ratio_to_engine']:>5.2f}  "
            f"{m['hub_spread_ms'][0]:>10.2f}-{m['hub_spread_ms'][1]:<10.2f}  "
            f"{m['raw_spread_ms'][0]:>7.2f}-{m['raw_spread_ms'][1]:<7.2f}  {med_total:,}"
            f"  [{m['same_query_p50_ms']:.2f} ms, {m['ratio_same_query']:.2f}]"
            f"  cpu p50 {m['hub_cpu_p50_ms']:.2f}/{m['raw_cpu_p50_ms']:.2f} ms = {m['cpu_ratio']:.2f}"
        )
    print(
        "  passes over the index per query: "
        + "; ".join(f"{k}: {v}" for k, v in passes.items() if k in ("term", "faceted"))
    )
    f = lat["faceted"]
    print(
        f"  faceted p50 {f['hub_p50_ms']:.2f} ms (goal <= 30 ms at 1,000,000 records), "
        f"ratio_to_engine {f['ratio_to_engine']:.2f} (goal <= 1.5)"
    )
    print(
        f"  boolean_ratio {lat['boolean']['ratio_to_engine']:.2f}, fuzzy_ratio {lat['fuzzy']['ratio_to_engine']:.2f} "
        f"(goal <= 1.5 at 1,000,000 records); build {built['build_records_per_s']:,.0f} records/s (goal >= 20,000)"
    )
    if check["mismatches"]:
        print("  RESULT MISMATCHES hub vs raw:")
        for m_ in check["mismatches"][:10]:
            print("    " + m_)
    else:
        print("  hub and raw returned the same totals and facet buckets for every query")
    for shape, text in profiles.items():
        print(f"-- cProfile of the hub's {shape} path (tottime) --")
        print("\n".join(line for line in text.splitlines() if line.strip())[:3000])
    out: dict[str, Any] = {
        "bench": "search",
        "quick": args.quick,
        "records": n,
        "seed": SEED,
        "nproc": os.cpu_count(),
        **version,
        "p50_faceted_ms": f["hub_p50_ms"],
        "ratio_to_engine": f["ratio_to_engine"],
        "build_records_per_s": built["build_records_per_s"],
        "bytes_per_record": built["bytes_per_record"],
        "build_s": built["build_s"],
        "gen_s": built["gen_s"],
        "segments": built["segments"],
        "index_mb": round(built["index_bytes"] / 1e6, 1),
        "prep_us_per_record": round(prep["prepare_document_us"], 1),
        "visible_records": visible,
        "mismatches": len(check["mismatches"]),
        "peak_rss_mb": round(rss_mb(), 1),
        "elapsed_s": round(time.perf_counter() - t_start, 1),
    }
    for shape, m in lat.items():
        out[f"{shape}_p50_ms"] = m["hub_p50_ms"]
        out[f"{shape}_p95_ms"] = m["hub_p95_ms"]
        out[f"{shape}_raw_p50_ms"] = m["raw_p50_ms"]
        out[f"{shape}_raw_p95_ms"] = m["raw_p95_ms"]
        out[f"{shape}_ratio"] = m["ratio_to_engine"]
        out[f"{shape}_same_query_p50_ms"] = m["same_query_p50_ms"]
        out[f"{shape}_ratio_same_query"] = m["ratio_same_query"]
        out[f"{shape}_cpu_ratio"] = m["cpu_ratio"]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
