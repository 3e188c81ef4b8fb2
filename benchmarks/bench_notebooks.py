"""Notebook runs through the kernel pool vs plain papermill (a new kernel each run).

A trivial parameterized notebook is run alternately (A B A B ...) through
``run_notebook`` on the ``matterhub`` engine (pooled, pre-started kernels; a
fresh kernel per run) and through ``papermill.execute_notebook`` with its
default engine; medians and min-max are reported.  Then a batch of N runs with
2 workers gives the throughput.  Last line: JSON with ``bench: "notebooks"``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import nbformat
import papermill
from nbformat.v4 import new_code_cell, new_notebook

from hub.notebooks.batch import run_batch
from hub.notebooks.pool import KernelPool
from hub.notebooks.runner import run_notebook


def trivial(path: Path) -> Path:
    nb = new_notebook(
        cells=[
            new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
            new_code_cell("from hub.notebooks import record\nrecord('y', x * 2)"),
        ]
    )
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))
    return path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    reps = 5 if args.quick else 15
    batch_n = 40 if args.quick else 100
    tmp = Path(tempfile.mkdtemp(prefix="bench-nb-"))
    nb = trivial(tmp / "trivial.ipynb")
    pooled: list[float] = []
    plain: list[float] = []
    with KernelPool(2, "python3") as pool:
        run_notebook(nb, {"x": 0}, pool=pool)  # warm up both paths
        papermill.execute_notebook(str(nb), str(tmp / "o.ipynb"), parameters={"x": 0}, progress_bar=False)
        for i in range(reps):
            while pool.ready_count() < 1:  # the pool refills between runs, as it does between requests
                time.sleep(0.01)
            t = time.perf_counter()
            r = run_notebook(nb, {"x": i}, pool=pool).raise_for_error()
            pooled.append(time.perf_counter() - t)
            assert r.outputs["y"] == 2 * i
            t = time.perf_counter()
            papermill.execute_notebook(str(nb), str(tmp / "o.ipynb"), parameters={"x": i}, progress_bar=False)
            plain.append(time.perf_counter() - t)
    p_med, n_med = statistics.median(pooled), statistics.median(plain)
    t = time.perf_counter()
    res = run_batch(nb, [{"x": i} for i in range(batch_n)], workers=2, out_dir=tmp / "batch", progress=False)
    batch_s = time.perf_counter() - t
    assert not res.failures
    out = {
        "bench": "notebooks",
        "quick": args.quick,
        "reps": reps,
        "pooled_p50_ms": round(p_med * 1000, 1),
        "pooled_min_max_ms": [round(min(pooled) * 1000, 1), round(max(pooled) * 1000, 1)],
        "papermill_p50_ms": round(n_med * 1000, 1),
        "papermill_min_max_ms": [round(min(plain) * 1000, 1), round(max(plain) * 1000, 1)],
        "speedup_vs_papermill": round(n_med / p_med, 2),
        "batch_runs": batch_n,
        "batch_workers": 2,
        "batch_s": round(batch_s, 2),
        "batch_runs_per_s": round(batch_n / batch_s, 2),
        "nproc": os.cpu_count(),
    }
    print(f"trivial notebook, {reps} alternating runs each (medians, min-max):")
    print(f"  pooled kernel (matterhub engine): {out['pooled_p50_ms']} ms {out['pooled_min_max_ms']}")
    print(f"  papermill, new kernel per run:    {out['papermill_p50_ms']} ms {out['papermill_min_max_ms']}")
    print(f"  speedup: {out['speedup_vs_papermill']}x (goal >= 10)")
    print(f"batch of {batch_n} runs on 2 workers: {out['batch_s']} s, {out['batch_runs_per_s']} runs/s")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
