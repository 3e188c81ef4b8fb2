"""Catalog backends benchmark: SQLite (the embedded default) against PostgreSQL
(a shared deployment), side by side in one run (see ../shared/design/BENCHMARKS.md).

1. Ingest, the catalog transaction alone: ``Database.publish`` of one dataset
   version with N synthetic MDF records (fixed seed; compositions drawn from
   the element frequencies of the Materials Project formation-energy set when
   the mirror has it), into an emptied catalog each run.  The limit is the bare
   driver writing the same rows (``sqlite3`` executemany; psycopg ``COPY``),
   with ``json.dumps`` and nothing else: ``ratio_to_driver`` per backend.
2. Ingest, the whole pipeline: ``hub.submit`` of the real MaterialsIO folder
   (``../shared/data/materialsio``: VASP, Quantum ESPRESSO, Gaussian, CIF, ...)
   into a fresh hub whose catalog is on each backend.
3. Reads: a mix of the catalog's reads as a non-admin principal (latest version
   by name, listing, a page of records, one record by id, a dataset's files)
   over D datasets, one thread; then the same mix on 8 threads over one Database
   (the hub service's pattern).

Runs alternate SQLite and PostgreSQL (A B A B ...) after a warm-up; medians
and min-max spreads.  PostgreSQL is a throwaway local cluster (Debian's
server, started here, loopback TCP) with durable settings (fsync on,
synchronous_commit on), as SQLite is (WAL, synchronous=FULL); or pass
``--pg-url`` to use a server of your own (a database is created per run).

Usage: python benchmarks/bench_catalog_backends.py [--quick] [--pg-url URL]
The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))  # the PostgreSQL harness of the tests

from bench_connect import corpus_root, element_weights  # noqa: E402

from hub import Hub  # noqa: E402
from hub.access import PUBLISHED, Principal  # noqa: E402
from hub.db.database import Database  # noqa: E402

BACKENDS = ("sqlite", "postgresql")
READER = Principal("bob", frozenset({"lab"}))


# -- databases --------------------------------------------------------------------------


class Databases:
    """Fresh catalog URLs on both backends (a file per SQLite run, a database per PostgreSQL run)."""

    def __init__(self, workdir: Path, pg_url: str | None) -> None:
        self.workdir = workdir
        self._server: Any = None
        if pg_url:
            self._admin_url = pg_url
        else:
            from postgres_server import PostgresServer

            durable = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}
            self._server = PostgresServer(settings=durable)
            self._server.start()
            self._admin_url = self._server.url()

    def close(self) -> None:
        if self._server is not None:
            self._server.stop()

    def new(self, backend: str) -> str:
        name = f"b_{uuid.uuid4().hex[:12]}"
        if backend == "sqlite":
            return f"sqlite:///{self.workdir / (name + '.sqlite')}"
        import psycopg
        from sqlalchemy import make_url

        admin = make_url(self._admin_url)
        conninfo = admin.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return admin.set(database=name).render_as_string(hide_password=False)


# -- synthetic records ---------------------------------------------------------------------


def make_records(n: int, seed: int, els: list[str], weights: np.ndarray) -> list[dict[str, Any]]:
    """MDF records shaped like a mapped table's (composition, structure, custom values, one file)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(1, n + 1):
        k = int(rng.integers(1, 5))
        picked = sorted(rng.choice(len(els), size=k, replace=False, p=weights))
        counts = [int(rng.integers(1, 7)) for _ in picked]
        formula = "".join(f"{els[j]}{c}" for j, c in zip(picked, counts, strict=True))
        out.append(
            {
                "mdf": {"scroll_id": i, "resource_type": "record", "extractors": ["mapping"]},
                "material": {"composition": formula, "elements": sorted(els[j] for j in picked)},
                "crystal_structure": {
                    "space_group_number": int(rng.integers(1, 231)),
                    "number_of_atoms": int(sum(counts)),
                    "volume": round(float(rng.uniform(20, 900)), 3),
                },
                "custom": {
                    "material_id": f"mp-{i}",
                    "band_gap": round(float(rng.gamma(1.5, 1.2)), 4),
                    "formation_energy": round(float(rng.normal(-1.2, 0.8)), 4),
                },
                "files": [{"filename": "materials.csv", "path": "materials.csv", "length": 4_000_000}],
            }
        )
    return out


def stamp_for(name: str, records: list[dict[str, Any]]) -> Callable[[int], tuple[dict, list[dict]]]:
    def stamp(v: int) -> tuple[dict, list[dict]]:
        sid = f"{name}_v{v}"
        doc = {
            "mdf": {"source_id": sid, "source_name": name, "version": v, "status": PUBLISHED},
            "dc": {"titles": [{"title": f"Synthetic {name}"}]},
            "data": {"root_hash": "0" * 64, "total_size": 4_000_000, "files": 1},
        }
        recs = [
            {**r, "mdf": {**r["mdf"], "source_id": sid, "record_id": f"{sid}.{r['mdf']['scroll_id']}"}}
            for r in records
        ]
        return doc, recs

    return stamp


FILES = [
    {
        "path": "materials.csv",
        "filename": "materials.csv",
        "sha256": "a" * 64,
        "length": 4_000_000,
        "mime_type": "text/csv",
        "data_type": "tabular",
    },
]


# -- 1. ingest: the catalog transaction against the bare driver -------------------------------


def empty(url: str) -> None:
    """Make the catalog at ``url`` (if new) and remove every dataset from it (not timed)."""
    catalog = Database(url)
    try:
        with catalog.transaction() as s:
            for table in ("records", "files", "dataset_acl", "datasets"):
                s.execute(sa.text(f"DELETE FROM {table}"))
    finally:
        catalog.close()


def catalog_publish(url: str, records: list[dict[str, Any]]) -> float:
    empty(url)
    catalog = Database(url)
    try:
        t = time.perf_counter()
        catalog.publish(
            source_name="ingest",
            owner="alice",
            status=PUBLISHED,
            visible_to=["public"],
            files=FILES,
            stamp=stamp_for("ingest", records),
            submission_id=None,
        )
        return time.perf_counter() - t
    finally:
        catalog.close()


def driver_insert(url: str, records: list[dict[str, Any]]) -> float:
    """The same rows through the bare driver: the dataset row, its ACL row, the file, the records."""
    empty(url)  # the same schema, nothing in it
    _, recs = stamp_for("ingest", records)(1)
    rows = [(r["mdf"]["record_id"], "ingest_v1", r["mdf"]["scroll_id"]) for r in recs]
    doc = json.dumps({"mdf": {"source_id": "ingest_v1"}})
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        t = time.perf_counter()
        with conn:
            conn.execute(
                "INSERT INTO datasets VALUES ('ingest_v1','ingest',1,'published','alice','t',?,'0',1,1,?,NULL,?)",
                (doc, len(rows), "2026-01-01 00:00:00.000000"),
            )
            conn.execute("INSERT INTO dataset_acl VALUES ('ingest_v1','see','public')")
            conn.execute(
                "INSERT INTO files (source_id,path,filename,sha256,length,mime_type,data_type) "
                "VALUES ('ingest_v1','materials.csv','materials.csv',?,4000000,'text/csv','tabular')",
                ("a" * 64,),
            )
            conn.executemany(
                "INSERT INTO records VALUES (?,?,?,?)",
                [(rid, sid, sc, json.dumps(r)) for (rid, sid, sc), r in zip(rows, recs, strict=True)],
            )
        dt = time.perf_counter() - t
        conn.close()
        return dt
    import psycopg
    from sqlalchemy import make_url

    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as conn:
        t = time.perf_counter()
        with conn.transaction(), conn.cursor() as cur:
            cur.execute(
                "INSERT INTO datasets VALUES ('ingest_v1','ingest',1,'published','alice','t',%s,'0',1,1,%s,NULL,now())",
                (doc, len(rows)),
            )
            cur.execute("INSERT INTO dataset_acl VALUES ('ingest_v1','see','public')")
            cur.execute(
                "INSERT INTO files (source_id,path,filename,sha256,length,mime_type,data_type) "
                "VALUES ('ingest_v1','materials.csv','materials.csv',%s,4000000,'text/csv','tabular')",
                ("a" * 64,),
            )
            with cur.copy("COPY records (record_id, source_id, scroll_id, document) FROM STDIN") as copy:
                for (rid, sid, sc), r in zip(rows, recs, strict=True):
                    copy.write_row((rid, sid, sc, json.dumps(r)))
        return time.perf_counter() - t


def bench_ingest(dbs: Databases, n: int, repeat: int, els: list[str], w: np.ndarray) -> dict[str, Any]:
    records = make_records(n, 7, els, w)
    urls = {b: dbs.new(b) for b in BACKENDS}  # one database each, emptied before every run
    for b in BACKENDS:  # warm-up: imports, caches, the server's buffers
        catalog_publish(urls[b], records[:500])
        driver_insert(urls[b], records[:500])
    times: dict[str, list[float]] = {f"{k}_{b}": [] for k in ("hub", "driver") for b in BACKENDS}
    for _ in range(repeat):
        for b in BACKENDS:
            times[f"hub_{b}"].append(catalog_publish(urls[b], records))
            times[f"driver_{b}"].append(driver_insert(urls[b], records))
    return times


# -- 2. ingest: hub.submit of a real folder -----------------------------------------------


def hub_submit(dbs: Databases, backend: str, folder: Path, workdir: Path) -> float:
    home = workdir / f"hub-{uuid.uuid4().hex[:8]}"
    hub = Hub(home, catalog=dbs.new(backend), progress=False)
    try:
        t = time.perf_counter()
        sub = hub.submit(folder, title="MaterialsIO", authors=["Ward, Logan"])
        dt = time.perf_counter() - t
        assert sub.status == "complete", sub.report()
        return dt
    finally:
        hub.close()


# -- 3. reads ---------------------------------------------------------------------------


def build_read_catalog(url: str, datasets: int, per: int, els: list[str], w: np.ndarray) -> Database:
    catalog = Database(url)
    acls = [["public"], ["group:lab"], ["user:carol"], ["public", "group:ext"]]
    for d in range(datasets):
        name = f"set{d:03d}"
        recs = make_records(per, 100 + d, els, w)
        for _ in range(1 + d % 2):  # every other dataset has two versions
            catalog.publish(
                source_name=name,
                owner="carol",
                status=PUBLISHED,
                visible_to=acls[d % len(acls)],
                files=FILES,
                stamp=stamp_for(name, recs),
                submission_id=None,
            )
    return catalog


def read_ops(catalog: Database, datasets: int, per: int, seed: int, n: int) -> list[Callable[[], Any]]:
    rng = random.Random(seed)
    visible = [d for d in range(datasets) if d % 4 in (0, 1, 3)]  # what bob may see
    ops: list[Callable[[], Any]] = []
    for _ in range(n):
        d = rng.choice(visible)
        name = f"set{d:03d}"
        sid = f"{name}_v1"
        kind = rng.choice(["dataset", "datasets", "records", "record", "files"])
        if kind == "dataset":
            ops.append(lambda name=name: catalog.dataset(READER, name))
        elif kind == "datasets":
            ops.append(lambda: catalog.datasets(READER))
        elif kind == "records":
            off = rng.randrange(max(per - 50, 1))
            ops.append(lambda sid=sid, off=off: catalog.records(READER, sid, offset=off, limit=50))
        elif kind == "record":
            rid = f"{sid}.{rng.randint(1, per)}"
            ops.append(lambda rid=rid: catalog.record(READER, rid))
        else:
            ops.append(lambda sid=sid: catalog.files(READER, sid))
    return ops


def run_ops(ops: list[Callable[[], Any]]) -> list[float]:
    out = []
    for op in ops:
        t = time.perf_counter()
        op()
        out.append(time.perf_counter() - t)
    return out


def run_threaded(ops: list[Callable[[], Any]], threads: int) -> float:
    """Operations per second with ``threads`` threads sharing one Database."""
    chunks = [ops[i::threads] for i in range(threads)]
    barrier = threading.Barrier(threads + 1)

    def work(chunk: list[Callable[[], Any]]) -> None:
        barrier.wait()
        for op in chunk:
            op()

    with ThreadPoolExecutor(threads) as pool:
        futures = [pool.submit(work, c) for c in chunks]
        barrier.wait()
        t = time.perf_counter()
        for f in futures:
            f.result()
        return len(ops) / (time.perf_counter() - t)


def bench_reads(
    dbs: Databases, datasets: int, per: int, n_ops: int, repeat: int, els: list[str], w: np.ndarray
) -> dict[str, Any]:
    catalogs = {b: build_read_catalog(dbs.new(b), datasets, per, els, w) for b in BACKENDS}
    try:
        for b in BACKENDS:  # warm-up
            run_ops(read_ops(catalogs[b], datasets, per, 0, 50))
        lat: dict[str, list[float]] = {b: [] for b in BACKENDS}
        p50s: dict[str, list[float]] = {b: [] for b in BACKENDS}
        rps8: dict[str, list[float]] = {b: [] for b in BACKENDS}
        for r in range(repeat):
            for b in BACKENDS:
                xs = run_ops(read_ops(catalogs[b], datasets, per, 1 + r, n_ops))
                lat[b] += xs
                p50s[b].append(statistics.median(xs))
                rps8[b].append(run_threaded(read_ops(catalogs[b], datasets, per, 50 + r, n_ops), 8))
        return {"lat": lat, "p50s": p50s, "rps8": rps8}
    finally:
        for c in catalogs.values():
            c.close()


# -- report -----------------------------------------------------------------------------


def med(xs: list[float]) -> float:
    return statistics.median(xs)


def spread(xs: list[float], scale: float = 1.0, digits: int = 3) -> str:
    return f"{min(xs) * scale:.{digits}f}-{max(xs) * scale:.{digits}f}"


@contextmanager
def databases(workdir: Path, pg_url: str | None) -> Iterator[Databases]:
    dbs = Databases(workdir, pg_url)
    try:
        yield dbs
    finally:
        dbs.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller sizes, same code (< 60 s)")
    ap.add_argument(
        "--pg-url",
        default=os.environ.get("MATTERHUB_BENCH_PG_URL"),
        help="a PostgreSQL server to use (default: start a throwaway one)",
    )
    args = ap.parse_args()
    n_records = 5_000 if args.quick else 50_000
    repeat = 3 if args.quick else 5
    submit_repeat = 2 if args.quick else 5
    n_sets, per_set, n_ops = (10, 300, 200) if args.quick else (60, 2_000, 2_000)
    root = corpus_root()
    els, w = element_weights(root)
    folder = root / "materialsio" if root is not None and (root / "materialsio").is_dir() else None

    with tempfile.TemporaryDirectory() as tmp, databases(Path(tmp), args.pg_url) as dbs:
        t0 = time.perf_counter()
        ingest = bench_ingest(dbs, n_records, repeat, els, w)
        phases = {"ingest": time.perf_counter() - t0}
        submits: dict[str, list[float]] = {b: [] for b in BACKENDS}
        if folder is not None:
            hub_submit(dbs, "sqlite", folder, Path(tmp))  # warm-up: the extractors' imports
            for _ in range(submit_repeat):
                for b in BACKENDS:
                    submits[b].append(hub_submit(dbs, b, folder, Path(tmp)))
        phases["submit"] = time.perf_counter() - t0 - phases["ingest"]
        reads = bench_reads(dbs, n_sets, per_set, n_ops, repeat, els, w)
        elapsed = time.perf_counter() - t0
        phases["reads"] = elapsed - phases["submit"] - phases["ingest"]

    print(f"# catalog backends: SQLite vs PostgreSQL ({'quick' if args.quick else 'full'} run)")
    print(f"# machine: {platform.machine()}, {os.cpu_count()} cores; python {platform.python_version()}")
    print(
        f"# records: synthetic MDF records, seed 7, element frequencies from "
        f"{'matminer flla_2015' if root and (root / 'matminer' / 'flla_2015.csv').exists() else 'a fixed list'}"
    )
    print(f"# PostgreSQL: {'--pg-url' if args.pg_url else 'throwaway local cluster, fsync on'}")
    print()
    print("| what | SQLite median (min-max) | PostgreSQL median (min-max) | PG/SQLite |")
    print("| --- | --- | --- | --- |")

    def row(
        what: str, a: list[float], b: list[float], scale: float = 1.0, unit: str = "s", d: int = 3
    ) -> None:
        ratio = med(b) / med(a) if med(a) else float("nan")
        print(
            f"| {what} | {med(a) * scale:.{d}f} {unit} ({spread(a, scale, d)}) | "
            f"{med(b) * scale:.{d}f} {unit} ({spread(b, scale, d)}) | {ratio:.2f} |"
        )

    row(f"Database.publish, {n_records:,} records", ingest["hub_sqlite"], ingest["hub_postgresql"])
    row("bare driver, same rows", ingest["driver_sqlite"], ingest["driver_postgresql"])
    if folder is not None:
        row("hub.submit(materialsio)", submits["sqlite"], submits["postgresql"])
    row(
        f"read mix p50 ({n_sets} datasets x {per_set} records)",
        reads["p50s"]["sqlite"],
        reads["p50s"]["postgresql"],
        1000,
        "ms",
    )
    row("read mix, 8 threads (ops/s)", reads["rps8"]["sqlite"], reads["rps8"]["postgresql"], 1, "ops/s", 0)
    rps = {b: n_records / med(ingest[f"hub_{b}"]) for b in BACKENDS}
    ratio_driver = {b: med(ingest[f"hub_{b}"]) / med(ingest[f"driver_{b}"]) for b in BACKENDS}
    print()
    print(
        f"ingest records/s: SQLite {rps['sqlite']:,.0f}, PostgreSQL {rps['postgresql']:,.0f}; "
        f"hub/driver: SQLite {ratio_driver['sqlite']:.2f}, PostgreSQL {ratio_driver['postgresql']:.2f}"
    )
    print(f"(elapsed {elapsed:.1f} s: " + ", ".join(f"{k} {v:.1f} s" for k, v in phases.items()) + ")")
    result = {
        "bench": "catalog_backends",
        "quick": args.quick,
        "records": n_records,
        "ingest_records_per_s_sqlite": round(rps["sqlite"]),
        "ingest_records_per_s_postgresql": round(rps["postgresql"]),
        "ratio_to_driver_sqlite": round(ratio_driver["sqlite"], 3),
        "ratio_to_driver_postgresql": round(ratio_driver["postgresql"], 3),
        "ratio_ingest_pg_to_sqlite": round(med(ingest["hub_postgresql"]) / med(ingest["hub_sqlite"]), 3),
        "submit_s_sqlite": round(med(submits["sqlite"]), 3) if submits["sqlite"] else None,
        "submit_s_postgresql": round(med(submits["postgresql"]), 3) if submits["postgresql"] else None,
        "read_p50_ms_sqlite": round(med(reads["p50s"]["sqlite"]) * 1000, 3),
        "read_p50_ms_postgresql": round(med(reads["p50s"]["postgresql"]) * 1000, 3),
        "ratio_read_pg_to_sqlite": round(med(reads["p50s"]["postgresql"]) / med(reads["p50s"]["sqlite"]), 3),
        "read_ops_per_s_8_threads_sqlite": round(med(reads["rps8"]["sqlite"])),
        "read_ops_per_s_8_threads_postgresql": round(med(reads["rps8"]["postgresql"])),
        "elapsed_s": round(elapsed, 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
