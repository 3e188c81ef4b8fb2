"""Globus Search endpoint benchmark (see ../shared/design/BENCHMARKS.md).

A hub with N mapped table records (full run 30,000, so that Forge's ``aggregate``
walks past the 10,000-results limit in scroll-id windows; ``--quick`` 3,000),
served by a real uvicorn on a loopback port.  One Forge-style query
(``(material.elements:O) AND (custom.band_gap:[1 TO 3])``, 10 results) four ways,
alternating A B C D (the starting one rotates each round) after a warm-up that
checks all four agree on the total:

- A ``hub.search`` in-process (the limit: the same search with no HTTP and no Globus layer);
- B MDF Forge (mdf-forge, unchanged) through ``/globus-search/`` (what an MDF user runs);
- C the raw Globus request (httpx POST ``/globus-search/v1/index/mdf/search``);
- D the hub's own REST search (httpx POST ``/api/search``), the peer of C.

``ratio_to_inprocess`` = B/A; ``ratio_to_native_rest`` = C/D (the cost of the Globus
shape over the hub's own API).  Then every record, twice each alternating: Forge's
``aggregate()`` through the endpoint against ``hub.scroll()`` in-process
(``aggregate_ratio``).

Records: fixed seed (numpy default_rng(1234)); compositions of 1-3 elements drawn
from the element frequencies of the Materials Project dielectric set
(``matminer/dielectric_constant.csv`` in the mirror) when present, else from a fixed
table of common elements; band gaps uniform in [0, 6) eV.

Usage: python benchmarks/bench_globus.py [--quick] [--records N] [--rounds K]
The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
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

SEED = 1234
QUERY = "(material.elements:O) AND (custom.band_gap:[1 TO 3])"
FALLBACK_ELEMENTS = {
    "O": 40,
    "Li": 12,
    "Fe": 10,
    "Mn": 9,
    "Co": 8,
    "Ni": 8,
    "Na": 7,
    "Si": 7,
    "S": 7,
    "Cu": 6,
    "Mg": 6,
    "Al": 6,
    "Ti": 6,
    "P": 6,
    "F": 6,
    "Zn": 5,
    "Ca": 5,
    "Ba": 4,
    "Sr": 4,
    "N": 4,
}


def element_weights() -> tuple[list[str], np.ndarray, str]:
    mirror = Path(os.environ.get("MATTERHUB_MIRROR", REPO.parent / "shared" / "data"))
    path = mirror / "matminer" / "dielectric_constant.csv"
    if path.is_file():
        import pandas as pd

        formulas = pd.read_csv(path, skiprows=1)["formula"]
        counts = collections.Counter(e for f in formulas for e in set(re.findall(r"[A-Z][a-z]?", f)))
        source = "element frequencies of the Materials Project dielectric set (1,056 compounds)"
    else:
        counts = collections.Counter(FALLBACK_ELEMENTS)
        source = "a fixed table of common elements (no mirror found)"
    names = sorted(counts)
    weights = np.array([counts[n] for n in names], dtype=float)
    return names, weights / weights.sum(), source


def write_rows(path: Path, n: int) -> str:
    rng = np.random.default_rng(SEED)
    names, p, source = element_weights()
    lines = ["formula,band_gap"]
    for _ in range(n):
        k = int(rng.integers(1, 4))
        els = rng.choice(names, size=k, replace=False, p=p)
        counts = rng.integers(1, 4, size=k)
        formula = "".join(f"{e}{c if c > 1 else ''}" for e, c in zip(els, counts, strict=True))
        lines.append(f"{formula},{rng.uniform(0, 6):.4f}")
    path.write_text("\n".join(lines) + "\n")
    return source


def spread(times: list[float]) -> dict[str, float]:
    ms = [t * 1000 for t in times]
    return {"p50": round(statistics.median(ms), 2), "min": round(min(ms), 2), "max": round(max(ms), 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3,000 records, 15 rounds (< 60 s on 2 cores)")
    ap.add_argument("--records", type=int, default=None)
    ap.add_argument("--rounds", type=int, default=None)
    args = ap.parse_args()
    n = args.records or (3_000 if args.quick else 30_000)
    rounds = args.rounds or (15 if args.quick else 40)
    t_start = time.perf_counter()

    import globus_sdk
    import httpx
    from mdf_forge import Forge

    from hub import Hub
    from hub.service import create_app
    from hub.service.settings import ServiceSettings
    from hub.service.testing import LiveServer

    work = Path(tempfile.mkdtemp(prefix="bench-globus-"))
    (work / "rows").mkdir()
    source = write_rows(work / "rows" / "rows.csv", n)
    hub = Hub(work / "hub", progress=False)
    t0 = time.perf_counter()
    sub = hub.submit(
        work / "rows",
        title="Benchmark rows",
        authors=["Bench, Mark"],
        source_name="bench",
        mapping={"material.composition": "formula", "custom.band_gap": "band_gap"},
    )
    assert sub.status == "complete", sub.report()
    ingest_s = time.perf_counter() - t0
    server = LiveServer(create_app(hub, ServiceSettings(apis=("globus",)), start_worker=False)).start()
    base = server.url + "/globus-search/"
    os.environ["GLOBUS_SDK_SERVICE_URL_SEARCH"] = base
    kinds = ["record", "dataset"]
    http = httpx.Client(timeout=120)
    try:
        mdf = Forge(services=[], search_client=globus_sdk.SearchClient(base_url=base))

        def a() -> int:
            return hub.search(QUERY, limit=10, kinds=kinds).total

        def b() -> int:
            return int(
                mdf.match_elements("O")
                .match_range("custom.band_gap", 1, 3)
                .search(limit=10, info=True)[1]["total_query_matches"]
            )

        def c() -> int:
            r = http.post(base + "v1/index/mdf/search", json={"q": QUERY, "advanced": True, "limit": 10})
            return int(r.json()["total"])

        def d() -> int:
            r = http.post(server.url + "/api/search", json={"q": QUERY, "limit": 10, "kinds": kinds})
            return int(r.json()["total"])

        ways: dict[str, Callable[[], int]] = {"A": a, "B": b, "C": c, "D": d}
        totals = {k: f() for k, f in ways.items()}
        assert len(set(totals.values())) == 1, f"the four ways disagree: {totals}"
        for f in ways.values():  # warm-up
            f()
        times: dict[str, list[float]] = {k: [] for k in ways}
        order = list(ways)
        for r in range(rounds):
            for k in order[r % 4 :] + order[: r % 4]:
                t = time.perf_counter()
                ways[k]()
                times[k].append(time.perf_counter() - t)
        lat = {k: spread(v) for k, v in times.items()}

        agg_times: dict[str, list[float]] = {"forge_aggregate": [], "hub_scroll": []}
        counts: dict[str, int] = {}
        for r in range(2):
            for k in ["forge_aggregate", "hub_scroll"] if r % 2 == 0 else ["hub_scroll", "forge_aggregate"]:
                t = time.perf_counter()
                if k == "forge_aggregate":
                    counts[k] = len(mdf.match_source_names("bench").aggregate())
                else:
                    counts[k] = sum(1 for _ in hub.scroll("mdf.source_name:bench", kinds=kinds))
                agg_times[k].append(time.perf_counter() - t)
        assert counts["forge_aggregate"] == counts["hub_scroll"] == n + 1, counts
    finally:
        http.close()
        server.stop()
        hub.close()

    names = {
        "A": "hub.search in-process",
        "B": "MDF Forge through /globus-search",
        "C": "raw Globus POST /search",
        "D": "hub REST POST /api/search",
    }
    print(f"bench_globus: {n:,} records ({source}); {rounds} alternating rounds; ingest {ingest_s:.1f} s")
    print(f"query: {QUERY} ({totals['A']} matches), 10 results")
    print(f"{'way':<36} {'p50 ms':>8} {'min-max':>16}")
    for k, m in lat.items():
        print(f"{k} {names[k]:<34} {m['p50']:>8.2f} {m['min']:>7.2f}-{m['max']:<8.2f}")
    ratio_b = lat["B"]["p50"] / lat["A"]["p50"]
    ratio_c = lat["C"]["p50"] / lat["D"]["p50"]
    agg = {k: statistics.median(v) for k, v in agg_times.items()}
    print(f"ratio_to_inprocess (B/A) {ratio_b:.2f}; ratio_to_native_rest (C/D) {ratio_c:.2f}")
    print(
        f"every record ({n + 1:,} entries): Forge aggregate {agg['forge_aggregate']:.2f} s, "
        f"hub.scroll {agg['hub_scroll']:.2f} s, ratio {agg['forge_aggregate'] / agg['hub_scroll']:.2f}"
    )
    out: dict[str, Any] = {
        "bench": "globus",
        "quick": args.quick,
        "records": n,
        "seed": SEED,
        "nproc": os.cpu_count(),
        "matches": totals["A"],
        "inprocess_p50_ms": lat["A"]["p50"],
        "forge_p50_ms": lat["B"]["p50"],
        "endpoint_p50_ms": lat["C"]["p50"],
        "native_rest_p50_ms": lat["D"]["p50"],
        "ratio_to_inprocess": round(ratio_b, 2),
        "ratio_to_native_rest": round(ratio_c, 2),
        "aggregate_s": round(agg["forge_aggregate"], 3),
        "scroll_s": round(agg["hub_scroll"], 3),
        "aggregate_ratio": round(agg["forge_aggregate"] / agg["hub_scroll"], 2),
        "ingest_s": round(ingest_s, 2),
        "elapsed_s": round(time.perf_counter() - t_start, 1),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
