"""One owner's kernels kept across runs (``KernelPool(reuse=True)``), put back as started in between."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.notebooks.batch import run_batch
from hub.notebooks.pool import KernelPool
from hub.notebooks.runner import run_notebook

LEAK = (
    "import os, sys\n"
    "from hub.notebooks import record\n"
    "record('seen', globals().get('LEAKED'))\n"
    "record('env', os.environ.get('MH_LEAK'))\n"
    "record('path', sys.path.count('/leaked'))\n"
    "record('cwd', os.getcwd())\n"
    "record('pid', os.getpid())\n"
    "LEAKED = mark\n"
    "os.environ['MH_LEAK'] = str(mark)\n"
    "sys.path.append('/leaked')\n"
    "os.chdir('/')"
)


def _counts(nb: Any) -> list[Any]:
    return [c.get("execution_count") for c in nb.cells if c.cell_type == "code"]


def test_a_kept_kernel_serves_the_next_run_put_back_as_started(make_nb: Any) -> None:
    nb = make_nb("leak.ipynb", "mark = 0", LEAK)
    folder = str(Path(nb).parent.resolve())
    with KernelPool(1, "python3", reuse=True) as pool:
        runs = [run_notebook(nb, {"mark": i}, pool=pool).raise_for_error() for i in range(3)]
        assert pool.started == 1 and pool.restored >= 2
    assert len({r.outputs["pid"] for r in runs}) == 1  # one kernel, three runs
    for run in runs:  # each run starts from a clean kernel: no name, variable, path or folder of the last
        assert run.outputs["seen"] is None and run.outputs["env"] is None and run.outputs["path"] == 0
        assert run.outputs["cwd"] == folder
        assert _counts(run.notebook) == _counts(runs[0].notebook) == [1, 2, 3]


def test_a_kept_kernel_gives_the_outputs_of_a_fresh_one(roundtrip_nb: Path, pool: KernelPool) -> None:
    params = {"n": 3, "x": 2.0, "label": "z", "flag": False}
    fresh = run_notebook(roundtrip_nb, params, pool=pool).raise_for_error()
    with KernelPool(1, "python3", reuse=True) as kept:
        run_notebook(roundtrip_nb, {"n": 1}, pool=kept).raise_for_error()
        again = run_notebook(roundtrip_nb, params, pool=kept).raise_for_error()
    assert set(again.outputs) == set(fresh.outputs)
    assert again.outputs["frame"].equals(fresh.outputs["frame"]) and again.outputs["x"] == 4.0
    assert _counts(again.notebook) == _counts(fresh.notebook)
    texts = [[o.get("output_type") for o in c.get("outputs", [])] for c in again.notebook.cells]
    assert texts == [[o.get("output_type") for o in c.get("outputs", [])] for c in fresh.notebook.cells]


def test_a_kernel_a_run_broke_is_replaced_not_reused() -> None:
    with KernelPool(1, "python3", reuse=True) as pool:
        first = pool.acquire()
        pool.release(first, broken=True)  # what the engine does when a run raised (timeout, dead kernel)
        second = pool.acquire()
        assert second is not first and pool.started == 2
        pool.release(second)
        assert pool.acquire() is second  # an intact kernel comes back, put back as started


def test_a_batch_reuses_its_kernels_in_the_notebook_folder(make_nb: Any, tmp_path: Path) -> None:
    nb = make_nb("leak.ipynb", "mark = 0", LEAK)
    result = run_batch(
        nb, [{"mark": i} for i in range(8)], workers=2, out_dir=tmp_path / "out", progress=False
    )
    table = result.table
    assert list(table["status"]) == ["ok"] * 8
    assert table["pid"].nunique() <= 2  # the batch's two kernels, not one per run
    assert table["seen"].isna().all() and table["env"].isna().all() and (table["path"] == 0).all()
    assert set(table["cwd"]) == {str(Path(nb).parent.resolve())}
