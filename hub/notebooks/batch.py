"""Many parameterizations of one notebook, in parallel, into one table.

The batch has its own pool of ``workers`` kernels, started ahead, which serves this
batch only and is closed at its end; a kernel runs one parameter set after another, put
back as it started in between (``KernelPool(reuse=True)``, :mod:`hub.notebooks.kernelstate`:
a new namespace, history and execution count, the same working folder, ``sys.path`` and
environment; modules stay imported), so the batch pays a kernel start per worker, not
per run.  Runs go through a thread pool of ``workers`` (the kernels are separate
processes, so the work is parallel).  A
failing run is reported (cell index, exception) and the rest go on.  Every
executed notebook is kept under ``out/notebooks/``; the table
(``results.parquet`` and ``results.csv``) has one row per run: ``run``,
``status``, the parameters, the recorded scalars, and for arrays, frames and
figures the file they were written to.
"""

from __future__ import annotations

import itertools
import json
import os
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.exceptions import ValidationError
from hub.notebooks.pool import KernelPool
from hub.notebooks.runner import NotebookRun, load_notebook, run_notebook


@dataclass
class BatchResult:
    """What :func:`run_batch` gives back.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per run, ordered by run number (also written to ``results.parquet``
        and ``results.csv``).
    failures : list of dict
        One entry per failed run, ordered by run number: ``run``, ``parameters``,
        the error (cell index, exception name and value, traceback when the notebook
        failed in a cell) and ``notebook`` (also written to ``failures.json``).
    out_dir : Path or None
        The folder the table and the executed notebooks were written to.
    runs : list of NotebookRun
        The runs that started, in the order they finished.
    """

    table: Any  # pandas.DataFrame
    failures: list[dict[str, Any]] = field(default_factory=list)
    out_dir: Path | None = None
    runs: list[NotebookRun] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"<BatchResult {len(self.table)} runs, {len(self.failures)} failed, in {self.out_dir}>"


def grid_from_yaml(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Parameter sets from a YAML file.

    Either a mapping of parameter -> list of values (the full grid, a scalar is
    one value), or a list of mappings (one run each), or both under ``grid:``
    and ``runs:``.
    """
    import yaml

    data = yaml.safe_load(Path(path).read_text())
    return expand_grid(data)


def expand_grid(data: Any) -> list[dict[str, Any]]:
    """Parameter sets from a parsed grid (see :func:`grid_from_yaml` for the shapes).

    None is one run without parameters; a mapping of name -> values is the full
    product (a scalar is one value); a list of mappings is one run each; a mapping
    holding only ``grid`` and/or ``runs`` is the grid's runs followed by the listed runs.

    Raises
    ------
    ValidationError
        When ``data`` is neither a mapping nor a list of mappings.
    """
    if data is None:
        return [{}]
    if isinstance(data, list):
        if not all(isinstance(d, dict) for d in data):
            raise ValidationError("a parameter list must hold mappings (one per run), e.g. - {alpha: 0.1}")
        return [dict(d) for d in data]
    if not isinstance(data, dict):
        raise ValidationError(
            f"a parameter grid is a mapping (name: [values]) or a list of mappings, got {type(data).__name__}"
        )
    if set(data) <= {"grid", "runs"} and data:
        return (expand_grid(data["grid"]) if "grid" in data else []) + list(data.get("runs") or [])
    names = list(data)
    values = [v if isinstance(v, list) else [v] for v in data.values()]
    return [dict(zip(names, combo)) for combo in itertools.product(*values)]


def params_from_search(
    hub: Any, query: str, notebook: Any, *, limit: int = 100, param: str | None = None
) -> list[dict[str, Any]]:
    """One parameter set per search hit.

    Hit fields (dotted paths) whose last part names a notebook parameter fill
    it; a parameter named ``record``, ``record_id`` or ``param`` gets the whole
    document / the hit's id.
    """
    from hub.notebooks.runner import inspect_parameters

    names = set(inspect_parameters(notebook))
    res = hub.search(query, limit=limit)
    sets = []
    for hit in res:
        doc = dict(hit.document)
        flat = _flatten(doc)
        ps: dict[str, Any] = {}
        for key, value in flat.items():
            leaf = key.rsplit(".", 1)[-1]
            if leaf in names and leaf not in ps:
                ps[leaf] = value
        if "record_id" in names:
            ps["record_id"] = hit.id
        target = param or ("record" if "record" in names else None)
        if target:
            ps[target] = json.loads(json.dumps(doc, default=str))
        sets.append(ps)
    return sets


def _flatten(doc: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(doc, dict):
        for k, v in doc.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    else:
        out[prefix] = doc
    return out


def _cell(value: Any, stem: Path, name: str) -> Any:
    """A table cell for a recorded value (files for arrays, frames and figures)."""
    from hub.notebooks.record import RecordedFigure

    if isinstance(value, RecordedFigure):
        path = stem.with_name(f"{stem.name}.{name}.png")
        value.save(str(path))
        return str(path)
    kind = type(value).__module__.split(".")[0]
    if kind == "numpy":
        import numpy as np

        path = stem.with_name(f"{stem.name}.{name}.npy")
        np.save(path, value, allow_pickle=False)
        return str(path)
    if kind == "pandas":
        path = stem.with_name(f"{stem.name}.{name}.parquet")
        frame = value.to_frame() if hasattr(value, "to_frame") else value
        frame.to_parquet(path)
        return str(path)
    if isinstance(value, list | dict):
        return json.dumps(value)
    return value


def run_batch(
    notebook: str | os.PathLike[str],
    param_sets: list[dict[str, Any]],
    *,
    workers: int = 2,
    out_dir: str | os.PathLike[str] = "batch-out",
    kernel_name: str | None = None,
    preload: tuple[str, ...] = (),
    progress: bool = True,
    timeout: float | None = None,
) -> BatchResult:
    """Run ``notebook`` once per parameter set, ``workers`` at a time; see the module docs."""
    import pandas as pd
    from tqdm.auto import tqdm

    out = Path(out_dir)
    (out / "notebooks").mkdir(parents=True, exist_ok=True)
    source = load_notebook(notebook)
    cwd = Path(notebook).resolve().parent
    name = kernel_name or source.metadata.get("kernelspec", {}).get("name") or "python3"
    width = max(4, len(str(len(param_sets))))
    rows: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    runs: list[NotebookRun] = []
    with (
        KernelPool(max(1, workers), name, preload=preload, reuse=True) as pool,
        ThreadPoolExecutor(max(1, workers)) as ex,
    ):
        futures = {}
        for i, ps in enumerate(param_sets):
            path = out / "notebooks" / f"run-{i:0{width}d}.ipynb"
            fut = ex.submit(
                run_notebook,
                source,
                ps,
                output_path=path,
                kernel_name=name,
                cwd=cwd,
                timeout=timeout,
                pool=pool,
            )
            futures[fut] = (i, ps, path)
        bar = tqdm(total=len(futures), desc=f"batch {Path(notebook).name}", unit="run", disable=not progress)
        for fut in as_completed(futures):
            i, ps, path = futures[fut]
            row: dict[str, Any] = {"run": i, "status": "ok", "notebook": str(path)}
            row.update({k: _cell(v, path, k) for k, v in ps.items()})
            try:
                run = fut.result()
            except Exception as exc:  # the run could not even start: still a row
                row.update(status="failed", error=f"{type(exc).__name__}: {exc}")
                failures.append({"run": i, "parameters": ps, "error": str(exc), "notebook": str(path)})
            else:
                runs.append(run)
                row["duration_s"] = round(run.duration_s, 4)
                row.update({k: _cell(v, path.with_suffix(""), k) for k, v in run.outputs.items()})
                if run.error is not None:
                    e = run.error
                    row.update(
                        status="failed", error=f"{e.ename}: {e.evalue}", cell_index=e.source_cell_index
                    )
                    failures.append({"run": i, "parameters": ps, **e.to_dict(), "notebook": str(path)})
                    bar.write(f"run {i} failed in cell {e.source_cell_index}: {e.ename}: {e.evalue}")
            rows.append(row)
            bar.set_postfix(failed=len(failures))
            bar.update()
        bar.close()
    table = pd.DataFrame(sorted(rows, key=lambda r: r["run"]))
    for col in table.columns:
        if table[col].dtype == object:
            table[col] = table[col].map(
                lambda v: v if v is None or isinstance(v, str) else json.dumps(v, default=str)
            )
    table.to_parquet(out / "results.parquet", index=False)
    table.to_csv(out / "results.csv", index=False)
    (out / "failures.json").write_text(
        json.dumps(sorted(failures, key=lambda f: f["run"]), indent=2, default=str)
    )
    return BatchResult(table=table, failures=sorted(failures, key=lambda f: f["run"]), out_dir=out, runs=runs)
