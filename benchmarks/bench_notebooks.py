"""Notebook runs through the kernel pool vs plain papermill (a new kernel each run).

A trivial parameterized notebook is run alternately (A B A B ...) through
``run_notebook`` on the ``matterhub`` engine (pooled, pre-started kernels; a
fresh kernel per run) and through ``papermill.execute_notebook`` with its
default engine; medians and min-max are reported.

Then batches at the same parallelism (2), alternating, the order flipped every round:
``run_batch`` with 2 workers (its own pool of 2 kernels, started when the batch starts
and kept across the batch's runs, put back as started between them) against N
``papermill.execute_notebook`` calls in a ``ProcessPoolExecutor`` of 2 processes (its
processes started and papermill imported before the clock starts; each run a new kernel,
papermill's default).  Both write every executed notebook; the hub also writes its
table.  ``batch_ratio_to_papermill`` = median runs/s of the hub's batches / median runs/s
of papermill's (goal >= 4).  Last line: JSON with ``bench: "notebooks"``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

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


def papermill_run(nb: str, out: str, parameters: dict[str, Any]) -> None:
    """One run as papermill runs it: a new kernel, the executed notebook written to ``out``."""
    papermill.execute_notebook(nb, out, parameters=parameters, progress_bar=False)


def papermill_batch(ex: ProcessPoolExecutor, nb: Path, out: Path, n: int) -> float:
    """``n`` papermill runs on the executor's processes; the seconds they took."""
    out.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    futures = [ex.submit(papermill_run, str(nb), str(out / f"run-{i:04d}.ipynb"), {"x": i}) for i in range(n)]
    for f in futures:
        f.result()
    return time.perf_counter() - t


def hub_batch(nb: Path, out: Path, n: int, workers: int) -> float:
    """``n`` runs through ``run_batch`` with ``workers`` workers; the seconds they took."""
    t = time.perf_counter()
    res = run_batch(nb, [{"x": i} for i in range(n)], workers=workers, out_dir=out, progress=False)
    took = time.perf_counter() - t
    assert not res.failures, res.failures[:1]
    assert sorted(res.table["y"]) == [2 * i for i in range(n)]
    return took


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    reps = 5 if args.quick else 15
    batch_n = 24 if args.quick else 100
    rounds = 2 if args.quick else 3
    workers = 2
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
    hub_s: list[float] = []
    peer_s: list[float] = []
    with ProcessPoolExecutor(workers) as ex:
        for f in [
            ex.submit(papermill_run, str(nb), str(tmp / f"warm-{i}.ipynb"), {"x": 0}) for i in range(workers)
        ]:
            f.result()  # the processes started, papermill imported
        for r in range(rounds):
            for side in (0, 1) if r % 2 == 0 else (1, 0):
                if side == 0:
                    hub_s.append(hub_batch(nb, tmp / f"batch-{r}", batch_n, workers))
                else:
                    peer_s.append(papermill_batch(ex, nb, tmp / f"papermill-{r}", batch_n))
    batch_s = statistics.median(hub_s)
    peer_med = statistics.median(peer_s)
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
        "batch_workers": workers,
        "batch_rounds": rounds,
        "batch_s": round(batch_s, 2),
        "batch_runs_per_s": round(batch_n / batch_s, 2),
        "batch_s_all": [round(x, 2) for x in hub_s],
        "papermill_batch_s": round(peer_med, 2),
        "papermill_batch_s_all": [round(x, 2) for x in peer_s],
        "papermill_batch_runs_per_s": round(batch_n / peer_med, 2),
        "batch_ratio_to_papermill": round(peer_med / batch_s, 2),
        "nproc": os.cpu_count(),
    }
    print(f"trivial notebook, {reps} alternating runs each (medians, min-max):")
    print(f"  pooled kernel (matterhub engine): {out['pooled_p50_ms']} ms {out['pooled_min_max_ms']}")
    print(f"  papermill, new kernel per run:    {out['papermill_p50_ms']} ms {out['papermill_min_max_ms']}")
    print(f"  speedup: {out['speedup_vs_papermill']}x (goal >= 10)")
    print(
        f"batches of {batch_n} runs at parallelism {workers}, {rounds} alternating rounds (medians):\n"
        f"  run_batch ({workers} workers, kernels kept across the batch): {out['batch_s']} s, "
        f"{out['batch_runs_per_s']} runs/s\n"
        f"  papermill in a ProcessPoolExecutor({workers}), new kernel per run: {out['papermill_batch_s']} s, "
        f"{out['papermill_batch_runs_per_s']} runs/s\n"
        f"  batch_ratio_to_papermill: {out['batch_ratio_to_papermill']}x (goal >= 4)"
    )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
