"""Benchmark: reading through an intake catalog against opening the same file directly.

For each case, A is the catalog (an entry of a YAML catalog loaded with
``intake.from_yaml_file``, read with MatterHub's reader) and B the library
call a user would otherwise write (``xarray.open_dataset`` / ``open_zarr`` with
the file's chunks, ``pandas.read_csv``).  Each run opens the file and reads a
slice (1% of the time steps of a NetCDF or Zarr field; the whole table for a
CSV): the "time to first data".  Bytes are counted through an fsspec
filesystem that wraps the local one (``counting://``), for A and B alike.

Runs alternate A B A B after a warm-up; the table gives medians and min-max
spreads, and the last line is one JSON object::

    {"bench": "catalog", "bytes_ratio": ..., "time_ratio": ..., ...}

``bytes_ratio`` is the worst case's bytes(A)/bytes(B) (goal <= 1.1) and
``time_ratio`` the worst case's median time(A)/time(B) (goal <= 1.2).

Inputs are synthetic, with a fixed seed: a float32 (time, y, x) field of two
variables, chunked one time step per chunk like model output (105 MB; 26 MB
with ``--quick``), and a 13-column table of materials-like rows (200,000 rows;
50,000 with ``--quick``) whose first line is a ``# ref:`` comment as matminer's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fsspec
import numpy as np
import pandas as pd
import xarray as xr

from hub.catalog.counting import register

Counting = register()


# -- inputs ---------------------------------------------------------------------------------


def make_field(folder: Path, shape: tuple[int, int, int]) -> tuple[Path, Path]:
    rng = np.random.default_rng(1234)
    field = rng.random(shape, dtype=np.float32)
    ds = xr.Dataset(
        {
            "temperature": (("time", "y", "x"), field, {"units": "K"}),
            "density": (("time", "y", "x"), field * 2),
        },
        coords={"time": np.arange(shape[0]), "y": np.arange(shape[1]) * 0.5, "x": np.arange(shape[2]) * 0.5},
    )
    chunks = (1, shape[1], shape[2])
    nc, zarr = folder / "field.nc", folder / "field.zarr"
    ds.to_netcdf(nc, engine="h5netcdf", encoding={v: {"chunksizes": chunks} for v in ds.data_vars})
    ds.to_zarr(
        zarr,
        zarr_format=2,
        consolidated=True,
        encoding={v: {"chunks": chunks, "compressors": None} for v in ds.data_vars},
    )
    return nc, zarr


def make_table(folder: Path, rows: int) -> Path:
    rng = np.random.default_rng(99)
    elements = np.array(["O", "Si", "Al", "Fe", "Ca", "Na", "Mg", "K", "Ti", "Li", "Co", "Ni"])
    df = pd.DataFrame(
        {
            "material_id": [f"mp-{i}" for i in range(rows)],
            "formula": [f"{a}{b}2" for a, b in zip(rng.choice(elements, rows), rng.choice(elements, rows))],
            "nsites": rng.integers(1, 200, rows),
            "space_group": rng.integers(1, 231, rows),
            "volume": rng.uniform(10, 2000, rows),
            "band_gap": rng.exponential(1.5, rows),
            "e_above_hull": rng.exponential(0.05, rows),
            "formation_energy_per_atom": rng.normal(-1.5, 1.0, rows),
            "density": rng.uniform(1, 12, rows),
            "poly_electronic": rng.uniform(1, 20, rows),
            "poly_total": rng.uniform(1, 60, rows),
            "n": rng.uniform(1, 4, rows),
            "is_metal": rng.random(rows) < 0.3,
        }
    )
    path = folder / "table.csv"
    with open(path, "w") as fh:
        fh.write("# ref: synthetic materials table, fixed seed\n")
        df.to_csv(fh, index=False)
    return path


def make_catalog(folder: Path, nc: Path, zarr: Path, table: Path) -> Path:
    from intake.readers import datatypes
    from intake.readers.entry import Catalog

    from hub.catalog import ArrayReader, TableReader

    cat = Catalog(metadata={"title": "benchmark"})
    for name, reader in {
        "field_nc": ArrayReader(datatypes.HDF5(url=f"counting://{nc}")),
        "field_zarr": ArrayReader(datatypes.Zarr(url=f"counting://{zarr}")),
        "table": TableReader(datatypes.CSV(url=str(table))),
    }.items():
        cat.aliases[name] = cat.add_entry(reader)
    path = folder / "bench.yaml"
    cat.to_yaml_file(str(path))
    return path


# -- the cases ------------------------------------------------------------------------------------


def slice_of(ds: xr.Dataset, steps: int) -> np.ndarray:
    return np.asarray(ds["temperature"].isel(time=slice(0, steps)).values)


def cases(
    cat: Any, nc: Path, zarr: Path, table: Path, steps: int
) -> dict[str, tuple[Callable[[], Any], Callable[[], Any]]]:
    def catalog_nc() -> Any:
        ds = cat["field_nc"].read()
        out = slice_of(ds, steps)
        ds.close()
        return out

    def direct_nc() -> Any:
        with fsspec.open(f"counting://{nc}", "rb") as f:
            ds = xr.open_dataset(f, engine="h5netcdf", chunks={})
            out = slice_of(ds, steps)
            ds.close()
        return out

    def catalog_zarr() -> Any:
        return slice_of(cat["field_zarr"].read(), steps)

    def direct_zarr() -> Any:
        return slice_of(xr.open_zarr(f"counting://{zarr}", chunks={}), steps)

    def catalog_table() -> Any:
        return cat["table"].read()

    def direct_table() -> Any:
        return pd.read_csv(table, skiprows=1)

    return {
        "netcdf open+1% slice": (catalog_nc, direct_nc),
        "zarr open+1% slice": (catalog_zarr, direct_zarr),
        "csv table": (catalog_table, direct_table),
    }


def measure(fn: Callable[[], Any]) -> tuple[float, int]:
    Counting.bytes_read = 0
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0, Counting.bytes_read


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller inputs and fewer runs (under 60 s)")
    parser.add_argument("--runs", type=int, default=None, help="measured A/B pairs per case")
    args = parser.parse_args(argv)
    shape = (100, 128, 256) if args.quick else (100, 256, 512)
    rows = 50_000 if args.quick else 200_000
    runs = args.runs or (7 if args.quick else 15)

    with tempfile.TemporaryDirectory(prefix="bench-catalog-") as tmp:
        folder = Path(tmp)
        os.environ.setdefault("MATTERHUB_CACHE", str(folder / "cache"))
        import intake

        t0 = time.perf_counter()
        nc, zarr = make_field(folder, shape)
        table = make_table(folder, rows)
        cat = intake.from_yaml_file(str(make_catalog(folder, nc, zarr, table)))
        made = time.perf_counter() - t0
        steps = max(shape[0] // 100, 1)
        nc_mb = nc.stat().st_size / 1e6
        print(
            f"inputs: NetCDF/Zarr field {shape} float32 x 2 variables ({nc_mb:.0f} MB), CSV {rows} rows "
            f"({table.stat().st_size / 1e6:.0f} MB); made in {made:.1f} s; {runs} A/B pairs per case"
        )
        print(f"machine: {platform.platform()}, {os.cpu_count()} cpus, python {sys.version.split()[0]}")
        print()
        print(
            f"{'case':24} {'catalog ms':>16} {'direct ms':>16} {'time ratio':>10} {'catalog B':>11} {'direct B':>11} {'bytes ratio':>11}"
        )
        results: dict[str, dict[str, float]] = {}
        for name, (a, b) in cases(cat, nc, zarr, table, steps).items():
            np.testing.assert_array_equal(np.asarray(a()), np.asarray(b()))  # warm-up, and the same data
            ta, tb, ba, bb = [], [], [], []
            for _ in range(runs):
                t, n = measure(a)
                ta.append(t)
                ba.append(n)
                t, n = measure(b)
                tb.append(t)
                bb.append(n)
            ma, mb = statistics.median(ta), statistics.median(tb)
            bytes_a, bytes_b = statistics.median(ba), statistics.median(bb)
            bytes_ratio = bytes_a / bytes_b if bytes_b else 1.0
            results[name] = {
                "time_ratio": ma / mb,
                "bytes_ratio": bytes_ratio,
                "catalog_ms": ma * 1e3,
                "direct_ms": mb * 1e3,
                "catalog_bytes": bytes_a,
                "direct_bytes": bytes_b,
            }
            spread_a = f"{ma * 1e3:.1f} ({min(ta) * 1e3:.0f}-{max(ta) * 1e3:.0f})"
            spread_b = f"{mb * 1e3:.1f} ({min(tb) * 1e3:.0f}-{max(tb) * 1e3:.0f})"
            print(
                f"{name:24} {spread_a:>16} {spread_b:>16} {ma / mb:>10.2f} {bytes_a:>11.0f} {bytes_b:>11.0f} "
                f"{bytes_ratio:>11.3f}"
            )
        array_cases = [k for k in results if "slice" in k]
        summary = {
            "bench": "catalog",
            "bytes_ratio": round(max(results[k]["bytes_ratio"] for k in array_cases), 4),
            "time_ratio": round(max(r["time_ratio"] for r in results.values()), 3),
            "quick": bool(args.quick),
            "field_mb": round(nc_mb, 1),
            "table_rows": rows,
            "runs": runs,
            "cases": {k: {m: round(v, 4) for m, v in r.items()} for k, r in results.items()},
        }
        print()
        print("goals: bytes_ratio <= 1.1, time_ratio <= 1.2 (worst case over the cases; medians)")
        print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
