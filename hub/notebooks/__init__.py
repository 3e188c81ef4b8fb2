"""Notebooks as workflows and servables (papermill integration).

- :func:`record` (in a notebook): keep a named output (scalar, array, DataFrame,
  matplotlib figure) in the executed notebook, read back by the runner;
- :class:`~hub.notebooks.pool.KernelPool`: pre-started kernels, a fresh one per run;
- :class:`~hub.notebooks.engine.PooledEngine`: the papermill engine ``matterhub``
  (``papermill -e matterhub in.ipynb out.ipynb``) running on the pool;
- :func:`~hub.notebooks.runner.run_notebook` and :func:`~hub.notebooks.batch.run_batch`.

Nothing here imports papermill or jupyter_client until it is used, so
``from hub.notebooks import record`` is cheap inside a kernel.
"""

from __future__ import annotations

from typing import Any

from hub.notebooks.record import MIME, record

__all__ = ["MIME", "record", "run_batch", "run_notebook"]


def __getattr__(name: str) -> Any:
    if name == "run_notebook":
        from hub.notebooks.runner import run_notebook

        return run_notebook
    if name == "run_batch":
        from hub.notebooks.batch import run_batch

        return run_batch
    raise AttributeError(f"module 'hub.notebooks' has no attribute {name!r}")
