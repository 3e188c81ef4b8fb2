"""Load benchmark (see ../shared/design/BENCHMARKS.md): 32 clients on loopback against one
``matterhub serve`` (a real subprocess), for 60 seconds, mixing searches, downloads and
servable runs.

Setup: a hub holding 40 datasets submitted from generated files of realistic shapes (a
crystal structure written by ASE, a 256 KB float64 array, a JSON metadata file; fixed
seed), a public Python servable, and 32 users with a token each (one per client, as a
team's notebooks would be).  Each client has its own keep-alive connection and a fixed
random mix: 60 % faceted searches (a random element), 25 % downloads (a random file;
a quarter of them by HTTP Range; the sha256 of whole files checked), 15 % runs.

Reported: requests, errors (any status other than 200/206, a wrong checksum or a
transport error), requests/s, p50/p99 overall and per kind, and the resident memory of
the server process (and of its workers) sampled twice a second: after warm-up, peak,
at the end, and the growth over the run (bounded memory: no growth with time).  The p99
to p50 ratio is the figure to compare from run to run (absolute times vary on shared
machines).

``--workers 2``: `serve --workers 2` against `--workers 1` on one hub over PostgreSQL, under a
search-heavy mix (90 % searches, 10 % downloads), alternated; the last line carries
``workers_speedup`` (requests/s of 2 API processes over 1).

Usage: python benchmarks/bench_load.py [--quick] [--clients N] [--seconds S] [--workers N [--rounds R]]
(--quick: 32 clients for 15 s; the whole script then finishes in under a minute).
The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "reliability"))

from reliability_server import ServerProcess  # noqa: E402

from hub import Hub  # noqa: E402

SEED = 11
ELEMENTS = [("Cu", "fcc", 3.61), ("Al", "fcc", 4.05), ("Ni", "fcc", 3.52), ("Fe", "bcc", 2.87),
            ("W", "bcc", 3.16), ("Si", "diamond", 5.43), ("C", "diamond", 3.57), ("Mo", "bcc", 3.15)]  # fmt: skip
MIX = [("search", 0.60), ("download", 0.25), ("run", 0.15)]


def score(x: float) -> float:
    """The servable the clients run."""
    return 2.0 * x + 1.0


def pct(xs: list[float], p: float) -> float:
    return round(float(np.percentile(np.asarray(xs), p)), 2) if xs else float("nan")


def build(home: Path, src: Path, n_datasets: int, catalog: str | None = None) -> list[dict[str, Any]]:
    """Submit the datasets (embedded, before the server starts); their files and sha256."""
    from ase.build import bulk

    rng = np.random.default_rng(SEED)
    hub = Hub(home, user="owner", progress=False, catalog=catalog)
    files: list[dict[str, Any]] = []
    for i in range(n_datasets):
        el, kind, a = ELEMENTS[i % len(ELEMENTS)]
        folder = src / f"set{i:03d}"
        folder.mkdir(parents=True)
        bulk(el, kind, a=a * (1 + 0.002 * i)).write(folder / f"{el}.cif")
        np.save(folder / "spectrum.npy", rng.normal(size=32768))  # 256 KB
        (folder / "meta.json").write_text(json.dumps({"sample": i, "element": el}))
        sub = hub.submit(folder, f"Load set {i}", ["Load, Bench"], visible_to=["public"])
        assert sub.ok and not sub.errors, sub.report()
        for f in hub.dataset(sub.source_id).files():
            files.append(
                {"source_id": sub.source_id, "path": f["path"], "sha256": f["sha256"], "length": f["length"]}
            )
    hub.close()
    return files


def client(i: int, url: str, token: str, files: list[dict[str, Any]], servable: str, deadline: float,
           out: dict[str, list[float]], errors: list[str], lock: threading.Lock,
           mix: list[tuple[str, float]] = MIX) -> None:  # fmt: skip
    rng = random.Random(SEED * 1000 + i)
    kinds = [k for k, _ in MIX]
    weights = [dict(mix).get(k, 0.0) for k in kinds]
    mine: dict[str, list[float]] = {k: [] for k in kinds}
    bad: list[str] = []
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
        while time.monotonic() < deadline:
            kind = rng.choices(kinds, weights)[0]
            t0 = time.perf_counter()
            try:
                if kind == "search":
                    el = rng.choice(ELEMENTS)[0]
                    r = http.post(
                        "/api/search",
                        json={"q": f"material.elements:{el}", "facets": ["material.elements"], "limit": 10},
                    )
                    ok = r.status_code == 200 and r.json()["total"] > 0
                elif kind == "download":
                    f = rng.choice(files)
                    path = f"/api/datasets/{f['source_id']}/files/{f['path']}"
                    if rng.random() < 0.25 and f["length"] > 1024:
                        start = rng.randrange(f["length"] - 1024)
                        r = http.get(path, headers={"Range": f"bytes={start}-{start + 1023}"})
                        ok = r.status_code == 206 and len(r.content) == 1024
                    else:
                        r = http.get(path)
                        ok = r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == f["sha256"]
                else:
                    x = rng.random()
                    r = http.post(f"/api/servables/{servable}/run", json={"inputs": x})
                    ok = r.status_code == 200 and abs(r.json()["output"] - (2 * x + 1)) < 1e-12
                if not ok:
                    bad.append(f"{kind}: {r.status_code} {r.text[:200]}")
            except httpx.HTTPError as exc:
                bad.append(f"{kind}: {type(exc).__name__}: {exc}")
            mine[kind].append((time.perf_counter() - t0) * 1000)
    with lock:
        for k, v in mine.items():
            out[k] += v
        errors += bad


def sample_memory(
    server: ServerProcess, stop: threading.Event, samples: list[tuple[float, int, int]]
) -> None:
    t0 = time.monotonic()
    while not stop.is_set():
        samples.append((time.monotonic() - t0, server.rss(), server.rss(with_workers=True)))
        stop.wait(0.5)


def measure(
    args: argparse.Namespace,
    serve_args: tuple[str, ...] = (),
    built: tuple[Path, list[dict[str, Any]]] | None = None,
    mix: list[tuple[str, float]] = MIX,
) -> dict[str, Any]:
    """One load run against a fresh ``matterhub serve`` started with ``serve_args``; its figures.

    ``built``: a hub folder already holding the datasets, and their files (else one is made).
    """
    seconds = args.seconds or (15.0 if args.quick else 60.0)
    n_datasets = args.datasets or (12 if args.quick else 40)
    warmup = 3.0 if args.quick else 5.0

    tmp = Path(tempfile.mkdtemp(prefix="bench-load-"))
    home, files = built if built is not None else (tmp / "hub", build(tmp / "hub", tmp / "src", n_datasets))
    server = ServerProcess(home, tmp / "server", args=serve_args)
    try:
        server.start()
        # user00 publishes the servable: a right the admin grants (the servable-publishers group)
        tokens = server.add_users(
            {f"user{i:02d}": ["servable-publishers"] if i == 0 else [] for i in range(args.clients)}
        )
        publisher = Hub(server.url, token=tokens["user00"], progress=False)
        servable = publisher.publish_servable(publisher.describe(score, name="score"))
        publisher.close()

        out: dict[str, list[float]] = {k: [] for k, _ in MIX}
        errors: list[str] = []
        lock = threading.Lock()
        # warm-up: every kind once per client, not measured
        warm_deadline = time.monotonic() + warmup
        warm = [threading.Thread(target=client, args=(i, server.url, tokens[f"user{i:02d}"], files, servable,
                                                       warm_deadline, {k: [] for k, _ in MIX}, [], lock, mix))
                for i in range(args.clients)]  # fmt: skip
        for t in warm:
            t.start()
        for t in warm:
            t.join()

        stop = threading.Event()
        samples: list[tuple[float, int, int]] = []
        sampler = threading.Thread(target=sample_memory, args=(server, stop, samples))
        sampler.start()
        deadline = time.monotonic() + seconds
        threads = [threading.Thread(target=client, args=(i, server.url, tokens[f"user{i:02d}"], files, servable,
                                                         deadline, out, errors, lock, mix))
                   for i in range(args.clients)]  # fmt: skip
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        stop.set()
        sampler.join()
        alive = server.proc is not None and server.proc.poll() is None
    finally:
        server.stop()

    flat = [x for xs in out.values() for x in xs]
    mb = 1024 * 1024
    server_rss = [s[1] / mb for s in samples]
    total_rss = [s[2] / mb for s in samples]
    half = len(server_rss) // 2
    result: dict[str, Any] = {
        "bench": "load",
        "serve_args": list(serve_args),
        "clients": args.clients,
        "seconds": seconds,
        "datasets": n_datasets,
        "files": len(files),
        "requests": len(flat),
        "errors": len(errors),
        "server_alive": alive,
        "rps": round(len(flat) / wall, 1),
        "p50_ms": pct(flat, 50),
        "p99_ms": pct(flat, 99),
        "p99_to_p50": round(pct(flat, 99) / pct(flat, 50), 2) if flat else None,
    }
    for kind, xs in out.items():
        result[f"{kind}_requests"] = len(xs)
        result[f"{kind}_p50_ms"] = pct(xs, 50)
        result[f"{kind}_p99_ms"] = pct(xs, 99)
    result.update(
        rss_start_mb=round(server_rss[0], 1) if server_rss else None,
        rss_peak_mb=round(max(server_rss), 1) if server_rss else None,
        rss_end_mb=round(server_rss[-1], 1) if server_rss else None,
        rss_growth_mb=round(server_rss[-1] - server_rss[0], 1) if server_rss else None,
        rss_peak_first_half_mb=round(max(server_rss[: half or 1]), 1) if server_rss else None,
        rss_peak_second_half_mb=round(max(server_rss[half:] or server_rss), 1) if server_rss else None,
        rss_with_workers_peak_mb=round(max(total_rss), 1) if total_rss else None,
        memory_samples=len(samples),
    )
    print(
        f"load benchmark: {args.clients} clients x {seconds:.0f} s on loopback, one `matterhub serve"
        + "".join(f" {a}" for a in serve_args)
        + "`"
    )
    print(
        f"  data: {n_datasets} datasets, {len(files)} files (ASE structures, 256 KB arrays, JSON; seed {SEED})"
    )
    print(f"  {'kind':<10} {'requests':>9} {'p50 ms':>8} {'p99 ms':>8}")
    for kind in out:
        print(
            f"  {kind:<10} {result[f'{kind}_requests']:>9} {result[f'{kind}_p50_ms']:>8} {result[f'{kind}_p99_ms']:>8}"
        )
    print(
        f"  {'all':<10} {result['requests']:>9} {result['p50_ms']:>8} {result['p99_ms']:>8}   {result['rps']} req/s"
    )
    print(f"  errors: {len(errors)}" + (f" (first: {errors[0]})" if errors else ""))
    print(
        f"  server RSS: {result['rss_start_mb']} MB at the start, peak {result['rss_peak_mb']} MB "
        f"(first half {result['rss_peak_first_half_mb']}, second half {result['rss_peak_second_half_mb']}), "
        f"{result['rss_end_mb']} MB at the end; with its workers peak {result['rss_with_workers_peak_mb']} MB"
    )
    print(json.dumps(result))
    return result


#: The search-heavy mix of the ``--workers`` comparison (searches are what the API processes add cores to).
SEARCH_HEAVY = [("search", 0.90), ("download", 0.10)]


def compare_workers(args: argparse.Namespace) -> dict[str, Any]:
    """``serve --workers 1`` and ``--workers N`` over one hub on PostgreSQL, alternated; the medians.

    Both sides serve the same hub folder and catalog (PostgreSQL: ``--workers N`` needs it,
    and ``--workers 1`` gets it too, so only the number of API processes differs), under the
    search-heavy mix (:data:`SEARCH_HEAVY`).  ``workers_speedup`` is the median requests/s
    of N processes over the median of one.
    """
    sys.path.insert(0, str(REPO / "tests"))
    from postgres_server import PostgresServer

    n_datasets = args.datasets or (12 if args.quick else 40)
    runs: dict[int, list[dict[str, Any]]] = {1: [], args.workers: []}
    with PostgresServer() as pg:
        tmp = Path(tempfile.mkdtemp(prefix="bench-load-workers-"))
        catalog = pg.url(pg.create_database())
        files = build(tmp / "hub", tmp / "src", n_datasets, catalog)
        for _ in range(args.rounds):
            for n in (1, args.workers):
                runs[n].append(measure(args, ("--workers", str(n)), (tmp / "hub", files), SEARCH_HEAVY))

    def median(n: int, key: str) -> float:
        return float(np.median([r[key] for r in runs[n]]))

    one, many = 1, args.workers
    result = {
        "bench": "load-workers",
        "workers": many,
        "cores": os.cpu_count(),
        "rounds": args.rounds,
        "mix": dict(SEARCH_HEAVY),
        "clients": args.clients,
        "rps_1": median(one, "rps"),
        f"rps_{many}": median(many, "rps"),
        "p50_ms_1": median(one, "p50_ms"),
        f"p50_ms_{many}": median(many, "p50_ms"),
        "p99_ms_1": median(one, "p99_ms"),
        f"p99_ms_{many}": median(many, "p99_ms"),
        "errors": sum(r["errors"] for rs in runs.values() for r in rs),
        "workers_speedup": round(median(many, "rps") / median(one, "rps"), 3),
        "rps_each": {str(n): [r["rps"] for r in rs] for n, rs in runs.items()},
    }
    print(
        f"--workers {many} vs --workers 1 ({args.rounds} rounds alternated, medians, search-heavy mix, "
        f"{os.cpu_count()} cores): {result[f'rps_{many}']} vs {result['rps_1']} req/s "
        f"(workers_speedup {result['workers_speedup']}), p99 {result[f'p99_ms_{many}']} vs {result['p99_ms_1']} ms"
    )
    print(json.dumps(result))
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="32 clients for 15 s (under a minute in all)")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--datasets", type=int, default=None)
    parser.add_argument(
        "--compare-containment",
        action="store_true",
        help="run twice, `serve --no-servable-containment` then the default (contained workers), and print the ratios",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="compare `serve --workers N` with `--workers 1` (PostgreSQL catalog, search-heavy mix)",
    )
    parser.add_argument(
        "--rounds", type=int, default=None, help="alternated rounds of --workers (default 2, quick 1)"
    )
    args = parser.parse_args()
    if args.workers > 1:
        args.rounds = args.rounds or (1 if args.quick else 2)
        compare_workers(args)
        return
    if not args.compare_containment:
        measure(args)
        return
    off = measure(args, ("--no-servable-containment",))
    on = measure(args, ())
    keys = ["rps", "p50_ms", "p99_ms", "run_p50_ms", "run_p99_ms", "search_p50_ms", "download_p50_ms"]
    ratios = {k: round(on[k] / off[k], 3) for k in keys if on.get(k) and off.get(k)}
    print("contained / uncontained: " + ", ".join(f"{k} {v}" for k, v in ratios.items()))
    print(json.dumps({"bench": "load-containment", "contained": on, "uncontained": off, "ratios": ratios}))


if __name__ == "__main__":
    main()
