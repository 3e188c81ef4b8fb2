"""Federation benchmark: harvesting an OPTIMADE provider, and publishing by reference.

Harvest half.  The provider is the ``optimade`` package's reference server
(``create_app``, in-memory mongomock backend) on a loopback port, holding N generated
structures (full run 5,000; ``--quick`` 1,000; fixed seed: compositions of 1-4 elements,
2-16 sites at random positions in a cubic cell), served 100 a page (its ``page_limit``
and ``page_limit_max``).  Alternating, ``--repeat`` times each:

A. a plain client: httpx paging ``/v1/structures`` by ``links.next`` and decoding each
   page, nothing else (the provider's own rate: what any harvester is bound by);
B. ``hub.submit("optimade+http://...")`` into a fresh hub: paging (the same requests),
   each page stored, each entry made a record and its JSON a file, the version
   published and indexed: the whole harvest, end to end.

``ratio`` = median rate(B) / median rate(A) (entries per second); goal >= 0.8 (the
harvest is bound by the provider).  Also: the harvest's own collect step (its paging)
against A, and an incremental re-harvest of the unchanged provider (no new version).

By-reference half: ``federation_byref.py`` in its own process (a 1 GB file set, 256 MB with
``--quick``, behind a loopback HTTP server that counts bytes; see its docstring), its table
printed here and its figures under ``by_reference`` in the JSON line.

Usage: python benchmarks/bench_federation.py [--quick] [--entries N] [--repeat K] [--no-by-reference]
The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np

SEED = 20260722
PAGE = 100
ELEMENTS = ["H", "Li", "C", "N", "O", "F", "Na", "Mg", "Al", "Si", "P", "S", "Cl", "K", "Ca", "Ti", "Fe",
            "Co", "Ni", "Cu", "Zn", "Ga", "Ge", "Se", "Sr", "Zr", "Mo", "Ag", "Sn", "Ba", "La", "Pb"]  # fmt: skip
ALIASES = {
    "id": "task_id",
    "chemical_formula_descriptive": "pretty_formula",
    "chemical_formula_reduced": "pretty_formula",
    "chemical_formula_anonymous": "formula_anonymous",
}


def structures(n: int, seed: int = SEED) -> list[dict[str, Any]]:
    """``n`` structures as the reference server stores them (its field names, fixed seed)."""
    from collections import Counter
    from functools import reduce
    from math import gcd

    rng = np.random.default_rng(seed)
    stamp = _dt.datetime(2024, 1, 1)
    out = []
    for i in range(n):
        elements = sorted(rng.choice(ELEMENTS, size=int(rng.integers(1, 5)), replace=False).tolist())
        nsites = int(rng.integers(len(elements), 17))
        sites = elements + rng.choice(elements, size=nsites - len(elements)).tolist()
        counts = Counter(sites)
        g = reduce(gcd, counts.values())
        reduced = "".join(f"{e}{counts[e] // g if counts[e] // g > 1 else ''}" for e in sorted(counts))
        amounts = sorted((c // g for c in counts.values()), reverse=True)
        anonymous = "".join(f"{chr(65 + k)}{a if a > 1 else ''}" for k, a in enumerate(amounts))
        a = float(rng.uniform(3, 12))
        out.append(
            {
                "task_id": f"gen_{i}",
                "last_modified": stamp + _dt.timedelta(seconds=i),
                "elements": elements,
                "nelements": len(elements),
                "elements_ratios": [counts[e] / nsites for e in elements],
                "pretty_formula": reduced,
                "formula_anonymous": anonymous,
                "chemsys": "-".join(elements),
                "nsites": nsites,
                "species": [{"name": e, "chemical_symbols": [e], "concentration": [1.0]} for e in elements],
                "species_at_sites": sites,
                "cartesian_site_positions": (rng.uniform(0, a, size=(nsites, 3))).tolist(),
                "lattice_vectors": [[a, 0.0, 0.0], [0.0, a, 0.0], [0.0, 0.0, a]],
                "dimension_types": [1, 1, 1],
                "nperiodic_dimensions": 3,
                "structure_features": [],
            }
        )
    return out


def provider_app(n: int) -> Any:
    """The reference server's app over ``n`` generated structures."""
    from optimade.server.config import ServerConfig
    from optimade.server.create_app import create_app

    config = ServerConfig(
        page_limit=PAGE,
        page_limit_max=PAGE,
        mongo_database=f"bench_federation_{n}",
        aliases={"structures": ALIASES},
        provider_fields={"structures": ["chemsys"]},
        insert_test_data=False,
        log_level="warning",
    )
    app = create_app(config)
    app.state.entry_collections["structures"].collection.insert_many(structures(n))
    return app


def plain_client(base: str) -> tuple[int, float]:
    """Page every structure with plain httpx: (entries, seconds)."""
    t0 = time.perf_counter()
    n = 0
    with httpx.Client(timeout=120) as client:
        url: str | None = f"{base}/v1/structures"
        params: dict[str, Any] | None = {"page_limit": PAGE}
        while url:
            body = client.get(url, params=params).json()
            n += len(body["data"])
            url, params = body["links"].get("next"), None
    return n, time.perf_counter() - t0


def harvest(base: str, home: Path) -> tuple[int, float, float, float]:
    """A full harvest into a fresh hub at ``home``, then a re-harvest of the unchanged provider.

    Returns (records, seconds, collect step seconds, re-harvest seconds).
    """
    from hub import Hub

    hub = Hub(home, progress=False)
    try:
        t0 = time.perf_counter()
        sub = hub.submit(f"optimade+{base}/", title="Federation benchmark", authors=["Bench, Mark"])
        seconds = time.perf_counter() - t0
        assert sub.status == "complete", sub.report()
        t1 = time.perf_counter()
        again = hub.submit(f"optimade+{base}/", title="Federation benchmark", authors=["Bench, Mark"])
        reharvest = time.perf_counter() - t1
        assert again.source_id == sub.source_id and "no new version" in (again.message or ""), again.report()
        records = hub.dataset(sub.source_id).n_records
        return records, seconds, float(sub.step("collect")["seconds"]), reharvest
    finally:
        hub.close()


def serve_provider(entries: int, port: int) -> None:
    """Serve the provider of ``entries`` structures on ``port`` (in its own process, as a real one is)."""
    import uvicorn

    warnings.simplefilter("ignore", DeprecationWarning)  # the reference server's pydantic use
    uvicorn.run(provider_app(entries), host="127.0.0.1", port=port, log_level="warning")


@contextmanager
def provider_process(entries: int) -> Iterator[str]:
    """The provider in a subprocess on a free loopback port: its base URL (stopped after)."""
    from hub.service.testing import free_port

    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve-provider", str(entries), str(port)])
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                httpx.get(f"{url}/v1/info", timeout=5)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the provider did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(30)


def harvest_half(entries: int, repeat: int) -> dict[str, Any]:
    """The harvest figures: plain client against the hub's harvest, alternating, ``repeat`` times."""
    with provider_process(entries) as url, tempfile.TemporaryDirectory(prefix="bench-federation-") as tmp:
        plain_client(url)  # warm-up: the provider's first answers
        plain, hub_runs, collect, again = [], [], [], []
        for k in range(repeat):
            order = ("plain", "hub") if k % 2 == 0 else ("hub", "plain")
            for which in order:
                if which == "plain":
                    n, s = plain_client(url)
                    assert n == entries, n
                    plain.append(n / s)
                else:
                    n, s, c, r = harvest(url, Path(tmp) / f"hub{k}")
                    assert n == entries, n
                    hub_runs.append(n / s)
                    collect.append(n / c)
                    again.append(r)
    rate_plain, rate_hub = statistics.median(plain), statistics.median(hub_runs)
    return {
        "entries": entries,
        "page_limit": PAGE,
        "repeat": repeat,
        "plain_entries_per_s": round(rate_plain, 1),
        "harvest_entries_per_s": round(rate_hub, 1),
        "harvest_collect_entries_per_s": round(statistics.median(collect), 1),
        "ratio": round(rate_hub / rate_plain, 3),
        "collect_ratio": round(statistics.median(collect) / rate_plain, 3),
        "reharvest_unchanged_s": round(statistics.median(again), 3),
        "goal_ratio": 0.8,
    }


def main() -> None:
    """Run the benchmark and print its table and its JSON line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="1,000 entries, 2 repeats")
    parser.add_argument("--entries", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument("--no-by-reference", action="store_true", help="the harvest half only")
    parser.add_argument(
        "--serve-provider", nargs=2, type=int, metavar=("ENTRIES", "PORT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.serve_provider:
        serve_provider(*args.serve_provider)
        return
    entries = args.entries or (1000 if args.quick else 5000)
    repeat = args.repeat or (2 if args.quick else 3)
    h = harvest_half(entries, repeat)
    print(f"harvest of {h['entries']:,} structures from the OPTIMADE reference server on loopback "
          f"({h['page_limit']} a page; median of {h['repeat']})")  # fmt: skip
    print(f"  {'':<40}{'entries/s':>12}{'x plain':>10}")
    print(f"  {'A. plain httpx client (paging only)':<40}{h['plain_entries_per_s']:>12,.1f}{1.0:>10.2f}")
    print(
        f"  {'B. hub.submit(optimade+...) end to end':<40}{h['harvest_entries_per_s']:>12,.1f}{h['ratio']:>10.2f}"
    )
    print(f"  {'   its collect step (paging + storing)':<40}{h['harvest_collect_entries_per_s']:>12,.1f}"
          f"{h['collect_ratio']:>10.2f}")  # fmt: skip
    print(f"  re-harvest, nothing changed: {h['reharvest_unchanged_s']:.2f} s (no new version)")
    print(f"  goal: B >= {h['goal_ratio']} x A: {'met' if h['ratio'] >= h['goal_ratio'] else 'NOT met'}")
    figures: dict[str, Any] = {"harvest": h}
    if not args.no_by_reference:
        # the by-reference half (federation_byref.py): its own process, its table, its JSON line
        size = "256" if args.quick else "1024"
        done = subprocess.run(
            [sys.executable, str(Path(__file__).with_name("federation_byref.py")), "--size-mb", size],
            capture_output=True,
            text=True,
            check=True,
        )
        lines = done.stdout.strip().splitlines()
        print("\n" + "\n".join(lines[:-1]))
        figures["by_reference"] = json.loads(lines[-1])
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
