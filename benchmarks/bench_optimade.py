"""OPTIMADE benchmark (see ../shared/design/BENCHMARKS.md).

Over N generated structure records (full run 100,000; ``--quick`` 5,000):

A. an OPTIMADE filter through the hub: ``search_structures(hub, filter, limit=20)``, what
   ``Hub.optimade_search`` runs: the filter parsed (the ``optimade`` grammar) and
   translated, ``hub.search`` as a non-admin principal (the ACL filter applies), every
   hit turned into an OPTIMADE resource;
B. the same query written in the hub's own syntax: ``hub.search(q, limit=20)`` (hits with
   their documents), e.g. ``material.elements:Co AND material.elements:O`` for
   ``elements HAS ALL "Co","O"``.

Six filter shapes, each cycling through 12 values; A and B alternate (the order flips
every value and round) after a warm-up pass that also checks A and B find the same
totals.  ``ratio_to_native`` = p50(A) / p50(B) over every sample, in the steady state
(the warm-up has filled the hub's caches, its cache of filter translations included:
the pages of one search repeat its filter); ``cold_ratio`` is the same with the
translation cache cleared before every call of A, so that each one parses its filter
(a filter never seen before).  Goal: ratio_to_native <= 1.2.  Also: the time of one
translation, and the comparison over HTTP against a live service
(``/optimade/v1/structures`` against ``/api/search``), in the steady state.

Records: bench_search.py's generator (fixed seed, compositions from the element
frequencies of the Materials Project formation-energy set, about 200 datasets with their
own visibility), each given its sites: the atoms of its composition at random positions
(numpy default_rng(SEED + 1)), in a cubic cell of its volume for crystals, in no cell for
the records computed with Gaussian (molecules: dimension_types [0, 0, 0]).  They are
indexed through the hub's indexing path (``SearchIndex.replace_sources``), which adds
their OPTIMADE fields.

Usage: python benchmarks/bench_optimade.py [--quick] [--records N] [--repeat K] [--no-http]
                                           [--keep DIR [--reuse]]
The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from bench_search import PRINCIPAL, SEED, code_version, corpus_root, generate, pct  # noqa: E402

from hub import Hub  # noqa: E402
from hub.index.engine import IndexDoc, SearchIndex  # noqa: E402
from hub.optimade.fields import parse_formula  # noqa: E402
from hub.optimade.search import search_structures  # noqa: E402
from hub.optimade.translate import STRUCTURE_QUERY, parser, translate  # noqa: E402

LIMIT = 20

# -- records with sites --------------------------------------------------------------------------


def with_sites(docs: Iterator[IndexDoc], rng: np.random.Generator) -> Iterator[IndexDoc]:
    """bench_search's records, each with the per-site data a structure record carries."""
    for d in docs:
        doc = d.doc
        counts = parse_formula(doc["material"]["composition"])
        structure = doc["crystal_structure"]
        natoms = int(structure["number_of_atoms"])
        assert counts is not None
        scale = natoms // sum(counts.values())
        symbols = [e for e, n in sorted(counts.items()) for _ in range(n * scale)]
        molecule = (doc.get("dft") or {}).get("code") == "Gaussian"
        if molecule:
            positions = rng.uniform(-5.0, 5.0, size=(natoms, 3))
            structure = {k: v for k, v in structure.items() if k not in ("volume", "space_group_number")}
            structure.update(pbc=[False] * 3, dimension_types=[0, 0, 0])
        else:
            a = float(structure["volume"]) ** (1 / 3)
            positions = rng.random((natoms, 3)) * a
            structure = {**structure, "lattice": [[a, 0.0, 0.0], [0.0, a, 0.0], [0.0, 0.0, a]]}
            structure.update(pbc=[True] * 3, dimension_types=[1, 1, 1])
        structure["species_at_sites"] = symbols
        structure["cartesian_site_positions"] = np.round(positions, 4).tolist()
        yield IndexDoc(d.id, d.kind, d.source, d.acl, {**doc, "crystal_structure": structure})


def build(home: Path, n: int) -> dict[str, Any]:
    """A hub whose index holds ``n`` structure records (the catalog stays empty: the index is
    written through the hub's indexing path, ``SearchIndex.replace_sources``)."""
    Hub(home, progress=False).close()  # creates the hub folder and its (empty) index
    docs, info = generate(n, corpus_root())
    index = SearchIndex(home / "index")
    t0 = time.perf_counter()
    count = index.replace_sources([], with_sites(docs, np.random.default_rng(SEED + 1)))
    assert count == n, (count, n)
    return {"build_s": round(time.perf_counter() - t0, 1), "elements_from": info["elements_from"]}


# -- the queries ---------------------------------------------------------------------------------

PAIRS = [("Co", "O"), ("Fe", "O"), ("Li", "O"), ("Mn", "O"), ("Ni", "O"), ("Cu", "O"),
         ("Ti", "O"), ("Zn", "O"), ("Si", "O"), ("Li", "F"), ("Fe", "S"), ("V", "O")]  # fmt: skip
SINGLE = ["O", "Li", "Fe", "Co", "S", "F", "Mn", "Ni", "Cu", "Si", "N", "Ti"]


def shapes(formulas: list[str]) -> dict[str, tuple[list[Any], Callable[[Any], str], Callable[[Any], str]]]:
    """shape: (values, OPTIMADE filter of a value, the same query in the hub's syntax)."""
    return {
        "elements": (
            PAIRS,
            lambda v: f'elements HAS ALL "{v[0]}","{v[1]}"',
            lambda v: f"material.elements:{v[0]} AND material.elements:{v[1]}",
        ),
        "nelements": (
            [2, 3, 4, 5, 2, 3, 4, 1, 2, 3, 4, 5],
            lambda v: f"nelements={v}",
            lambda v: f"optimade.nelements:{v}",
        ),
        "formula": (
            formulas,
            lambda v: f'chemical_formula_reduced="{v}"',
            lambda v: f'optimade.chemical_formula_reduced:["{v}" TO "{v}"]',
        ),
        "sites_not": (
            list(zip([8, 10, 12, 16, 20, 24, 8, 10, 12, 16, 20, 24], SINGLE, strict=True)),
            lambda v: f'nsites>{v[0]} AND NOT elements HAS "{v[1]}"',
            lambda v: f"crystal_structure.number_of_atoms:>{v[0]} AND NOT material.elements:{v[1]}",
        ),
        "any_range": (
            PAIRS,
            lambda v: f'elements HAS ANY "{v[0]}","{v[1]}" AND nelements<=3',
            lambda v: f"(material.elements:{v[0]} OR material.elements:{v[1]}) AND optimade.nelements:<=3",
        ),
        "molecules": (
            SINGLE,
            lambda v: f'nperiodic_dimensions=0 AND elements HAS "{v}"',
            lambda v: f"optimade.nperiodic_dimensions:0 AND material.elements:{v}",
        ),
    }


def common_formulas(hub: Hub, k: int = 12) -> list[str]:
    res = hub.search("*", facets=[{"field": "optimade.chemical_formula_reduced", "size": k}], limit=0)
    return [b["value"] for b in res.facets["optimade.chemical_formula_reduced"]["buckets"]]


def run_optimade(hub: Hub, text: str, cached: bool) -> int:
    if not cached:
        translate.cache_clear()
    return search_structures(hub, text, limit=LIMIT).total


def run_native(hub: Hub, q: str) -> int:
    return int(hub.search(q, limit=LIMIT).total)


def measure(
    run_a: Callable[[Any], int],
    run_b: Callable[[Any], int],
    table: dict[str, tuple[list[Any], Callable[[Any], str], Callable[[Any], str]]],
    rounds: int,
) -> dict[str, Any]:
    """A and B alternating (order flipped every value and round); per shape and overall."""
    pc = time.perf_counter
    a_all: list[float] = []
    b_all: list[float] = []
    out: dict[str, Any] = {}
    round_ratios: list[float] = []
    per_round: dict[int, tuple[list[float], list[float]]] = {r: ([], []) for r in range(rounds)}
    for shape, (values, fa, fb) in table.items():
        a_t: list[float] = []
        b_t: list[float] = []
        for r in range(rounds):
            for j, v in enumerate(values):
                for side in (0, 1) if (r + j) % 2 == 0 else (1, 0):
                    t0 = pc()
                    if side == 0:
                        run_a(fa(v))
                        a_t.append(pc() - t0)
                        per_round[r][0].append(a_t[-1])
                    else:
                        run_b(fb(v))
                        b_t.append(pc() - t0)
                        per_round[r][1].append(b_t[-1])
        a_all += a_t
        b_all += b_t
        out[shape] = {
            "a_p50_ms": round(pct(a_t, 50) * 1e3, 3),
            "b_p50_ms": round(pct(b_t, 50) * 1e3, 3),
            "ratio": round(pct(a_t, 50) / pct(b_t, 50), 3),
        }
    for a_r, b_r in per_round.values():
        round_ratios.append(statistics.median(a_r) / statistics.median(b_r))
    out["all"] = {
        "a_p50_ms": round(pct(a_all, 50) * 1e3, 3),
        "a_p95_ms": round(pct(a_all, 95) * 1e3, 3),
        "b_p50_ms": round(pct(b_all, 50) * 1e3, 3),
        "b_p95_ms": round(pct(b_all, 95) * 1e3, 3),
        "ratio": round(pct(a_all, 50) / pct(b_all, 50), 3),
        "ratio_spread": [round(min(round_ratios), 3), round(max(round_ratios), 3)],
        "samples": len(a_all),
    }
    return out


def check_totals(hub: Hub, table: dict[str, Any]) -> tuple[list[str], dict[str, int]]:
    """One pass of every query on both sides (the warm-up): the totals must agree."""
    mismatches: list[str] = []
    medians: dict[str, int] = {}
    for shape, (values, fa, fb) in table.items():
        totals = []
        for v in values:
            a, b = run_optimade(hub, fa(v), False), run_native(hub, fb(v))
            totals.append(a)
            if a != b:
                mismatches.append(f"{shape} {v!r}: optimade {a} != native {b}")
        medians[shape] = int(statistics.median(totals))
    return mismatches, medians


def translation_us(table: dict[str, Any], repeat: int = 20) -> float:
    texts = [fa(v) for values, fa, _ in table.values() for v in values]
    t0 = time.perf_counter()
    for _ in range(repeat):
        for text in texts:
            translate.cache_clear()
            translate(text)
    return (time.perf_counter() - t0) / (repeat * len(texts)) * 1e6


def http_measure(hub: Hub, table: dict[str, Any], rounds: int) -> dict[str, Any]:
    """The same comparison through a live service, as alice (bearer token), steady state."""
    import httpx

    from hub.service import create_app
    from hub.service.testing import LiveServer

    hub.users.ensure_user(PRINCIPAL.user or "alice", sorted(PRINCIPAL.groups))
    token, _ = hub.users.create_token(hub.principal, PRINCIPAL.user or "alice", label="bench")
    with (
        LiveServer(create_app(hub, start_worker=False)) as server,
        httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=120
        ) as client,
    ):

        def a(text: str) -> int:
            r = client.get("/optimade/v1/structures", params={"filter": text, "page_limit": LIMIT})
            return int(r.json()["meta"]["data_returned"])

        def b(q: str) -> int:
            r = client.get("/api/search", params={"q": q, "limit": LIMIT})
            return int(r.json()["total"])

        for values, fa, fb in table.values():  # warm-up, and the same totals
            for v in values[:3]:
                assert a(fa(v)) == b(fb(v)), fa(v)
        return measure(a, b, table, rounds)


def report(n: int, rounds: int, built: dict[str, Any], version: dict[str, Any], visible: int,
           table: dict[str, Any], steady: dict[str, Any], cold: dict[str, Any], medians: dict[str, int],
           t_us: float) -> None:  # fmt: skip
    s = steady["all"]
    dirty = " + uncommitted hub/ changes" if version["hub_dirty"] else ""
    print(
        f"OPTIMADE benchmark: {n:,} synthetic structure records (bench_search generator, numpy "
        f"default_rng({SEED}), compositions from {built['elements_from']}; sites from default_rng({SEED + 1})); "
        f"nproc {os.cpu_count()}; commit {version['commit']}{dirty}"
    )
    print(
        f"  index built through SearchIndex.replace_sources in {built['build_s']} s; queries as "
        f"{PRINCIPAL.user} ({visible:,} of {n:,} structures visible); page of {LIMIT}; {rounds} alternating "
        "rounds x 12 values per shape"
    )
    print(
        f"  {'shape':10} {'optimade p50':>13} {'native p50':>11} {'ratio':>6}  {'cold ratio':>10}  matches (median)"
    )
    for shape in table:
        m, c = steady[shape], cold[shape]
        print(
            f"  {shape:10} {m['a_p50_ms']:>10.2f} ms {m['b_p50_ms']:>8.2f} ms {m['ratio']:>6.2f}  "
            f"{c['ratio']:>10.2f}  {medians[shape]:,}"
        )
    print(
        f"  all        {s['a_p50_ms']:>10.2f} ms {s['b_p50_ms']:>8.2f} ms {s['ratio']:>6.2f}  "
        f"{cold['all']['ratio']:>10.2f}  (round ratios {s['ratio_spread'][0]:.2f}-{s['ratio_spread'][1]:.2f}, "
        f"cold {cold['all']['ratio_spread'][0]:.2f}-{cold['all']['ratio_spread'][1]:.2f})"
    )
    print(f"  one translation (parse + translate, uncached): {t_us:.0f} us")
    sys.stdout.flush()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="5,000 structures, under 60 s")
    ap.add_argument("--records", type=int, default=None, help="structures to generate (full run: 100,000)")
    ap.add_argument("--repeat", type=int, default=None, help="alternating rounds over every value")
    ap.add_argument("--no-http", action="store_true", help="skip the comparison over HTTP")
    ap.add_argument("--keep", type=Path, default=None, help="build the hub in DIR and keep it")
    ap.add_argument("--reuse", action="store_true", help="with --keep: reuse the hub already in DIR")
    args = ap.parse_args()
    n = args.records or (5_000 if args.quick else 100_000)
    rounds = args.repeat or (2 if args.quick else 16)
    t_start = time.perf_counter()
    version = code_version()
    tmp = None if args.keep else Path(tempfile.mkdtemp(prefix="bench_optimade_"))
    home = args.keep / "hub" if args.keep else Path(str(tmp)) / "hub"
    marker = home / "bench_optimade.json"
    http = None
    try:
        built = json.loads(marker.read_text()) if args.reuse and marker.exists() else {}
        if built.get("structures") != n:
            shutil.rmtree(home, ignore_errors=True)
            built = {**build(home, n), "structures": n}
            marker.write_text(json.dumps(built))
        else:
            print(f"reusing the hub in {home} (build figures are from the run that built it)")
        admin = Hub(home, progress=False)
        hub = admin.acting_as(PRINCIPAL)
        parser()  # built once per process, as in a running service
        table = shapes(common_formulas(hub))
        mismatches, medians = check_totals(hub, table)  # also the warm-up
        visible = hub.search(STRUCTURE_QUERY, limit=0).total
        steady = measure(lambda t: run_optimade(hub, t, True), lambda q: run_native(hub, q), table, rounds)
        cold = measure(lambda t: run_optimade(hub, t, False), lambda q: run_native(hub, q), table, rounds)
        t_us = translation_us(table)
        report(n, rounds, built, version, visible, table, steady, cold, medians, t_us)
        if not args.no_http:
            http = http_measure(admin, table, max(1, rounds // 2))
            h = http["all"]
            print(
                f"  over HTTP: /optimade/v1/structures p50 {h['a_p50_ms']:.2f} ms, /api/search p50 "
                f"{h['b_p50_ms']:.2f} ms, ratio {h['ratio']:.2f} (round ratios {h['ratio_spread'][0]:.2f}-"
                f"{h['ratio_spread'][1]:.2f})"
            )
        admin.close()
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    s = steady["all"]
    verdict = (
        f"{len(mismatches)} TOTAL MISMATCHES: {mismatches[:3]}"
        if mismatches
        else "both sides found the same totals"
    )
    print(
        f"  ratio_to_native {s['ratio']:.2f} (goal <= 1.2), cold_ratio {cold['all']['ratio']:.2f}; {verdict}"
    )
    out: dict[str, Any] = {
        "bench": "optimade",
        "quick": args.quick,
        "structures": n,
        "visible": visible,
        "seed": SEED,
        "nproc": os.cpu_count(),
        **version,
        "ratio_to_native": s["ratio"],
        "p50_ms": s["a_p50_ms"],
        "p95_ms": s["a_p95_ms"],
        "native_p50_ms": s["b_p50_ms"],
        "ratio_spread": s["ratio_spread"],
        "cold_ratio": cold["all"]["ratio"],
        "cold_p50_ms": cold["all"]["a_p50_ms"],
        "translate_us": round(t_us, 1),
        "build_s": built["build_s"],
        "mismatches": len(mismatches),
        "elapsed_s": round(time.perf_counter() - t_start, 1),
    }
    for shape in table:
        out[f"{shape}_ratio"] = steady[shape]["ratio"]
    if http is not None:
        out["http_ratio"] = http["all"]["ratio"]
        out["http_p50_ms"] = http["all"]["a_p50_ms"]
        out["http_native_p50_ms"] = http["all"]["b_p50_ms"]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
