"""The papermill engine ``matterhub``: papermill's nbclient engine on pooled kernels.

Registered in papermill's entry point group ``papermill.engine``, so
``papermill -e matterhub in.ipynb out.ipynb -p x 1`` and
``papermill.execute_notebook(..., engine_name="matterhub")`` use it.

papermill imports its engines' entry points while ``papermill.engines`` itself
is being imported, so this module imports papermill only inside the methods
(a top-level import would be circular when this module is imported first).
The class has papermill's ``Engine`` interface: ``execute_notebook`` wraps the
notebook in papermill's execution manager and calls ``execute_managed_notebook``.
"""

from __future__ import annotations

import atexit
import os
from typing import Any

from hub.notebooks.pool import KernelPool, shared_pool


def _preload_setting() -> tuple[str, ...]:
    raw = os.environ.get("MATTERHUB_KERNEL_PRELOAD", "")
    return tuple(m.strip() for m in raw.split(",") if m.strip())


class PooledEngine:
    """Execute a notebook on a fresh, pre-started kernel from a :class:`KernelPool`.

    Engine keyword arguments (``papermill.execute_notebook(..., pool=..., preload=...)``):
    ``pool``, a :class:`KernelPool` to use (default: the process-wide pool of the
    kernel, of ``$MATTERHUB_KERNEL_POOL`` kernels); ``preload``, modules the
    kernels import beforehand (default ``$MATTERHUB_KERNEL_PRELOAD``, comma separated).
    """

    @classmethod
    def execute_notebook(
        cls,
        nb: Any,
        kernel_name: str | None,
        output_path: str | None = None,
        progress_bar: bool = True,
        log_output: bool = False,
        autosave_cell_every: int = 30,
        **kwargs: Any,
    ) -> Any:
        """Execute ``nb`` under papermill's execution manager; the executed notebook.

        The manager records cell timings and status, saves to ``output_path`` as it
        goes (also every ``autosave_cell_every`` seconds during a long cell) and marks the notebook
        complete even when a cell fails.  ``kwargs`` go to
        :meth:`execute_managed_notebook` (``pool``, ``preload``, timeouts).
        """
        from papermill.engines import NotebookExecutionManager

        nb_man = NotebookExecutionManager(
            nb,
            output_path=output_path,
            progress_bar=progress_bar,
            log_output=log_output,
            autosave_cell_every=autosave_cell_every,
        )
        nb_man.notebook_start()
        try:
            cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output, **kwargs)
        finally:
            nb_man.cleanup_pbar()
            nb_man.notebook_complete()
        return nb_man.nb

    @classmethod
    def nb_kernel_name(cls, nb: Any, name: str | None = None) -> str:
        """The kernel to run ``nb`` with: ``name``, else the notebook's kernelspec (papermill's rule)."""
        from papermill.engines import Engine

        return str(Engine.nb_kernel_name(nb, name))

    @classmethod
    def nb_language(cls, nb: Any, language: str | None = None) -> str:
        """The notebook's language: ``language``, else from its metadata (papermill's rule)."""
        from papermill.engines import Engine

        return str(Engine.nb_language(nb, language))

    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man: Any,
        kernel_name: str | None,
        log_output: bool = False,
        stdout_file: Any = None,
        stderr_file: Any = None,
        start_timeout: float = 60,
        execution_timeout: float | None = None,
        pool: KernelPool | None = None,
        preload: tuple[str, ...] | list[str] | None = None,
        kernel_cwd: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """Run the managed notebook ``nb_man`` on a kernel taken from ``pool``.

        The kernel comes from ``pool`` (default: the process-wide pool for
        ``kernel_name`` and ``preload``), is moved to ``kernel_cwd``, else to the
        current working directory (papermill's ``--cwd``), when it started elsewhere
        (``kernel_cwd`` leaves this process's working directory alone, which threads
        running notebooks side by side share), runs every cell through
        papermill's notebook client with ``execution_timeout`` per cell, and is
        released afterwards, whatever happened: shut down, or, from a pool with
        ``reuse=True``, put back as it started for the pool owner's next run (unless
        the run raised: a timeout, a dead kernel).

        Raises
        ------
        TimeoutError
            When no kernel becomes ready in time.
        RuntimeError
            When the pool's kernel failed to start.
        """
        from papermill.clientwrap import PapermillNotebookClient
        from papermill.engines import logger

        kwargs.pop("input_path", None)
        kwargs.pop("startup_timeout", None)
        timeout = execution_timeout or kwargs.pop("timeout", None)
        kwargs.pop("timeout", None)
        if pool is None:
            pool = shared_pool(kernel_name, tuple(_preload_setting() if preload is None else preload))
        pk = pool.acquire(timeout=max(start_timeout, pool.startup_timeout) * 2)
        client = None
        broken = True
        try:
            cwd = kernel_cwd or os.getcwd()  # papermill's --cwd is in effect here
            if pk.info.get("cwd") != cwd:
                pk.execute_silently(f"import os as __mh_os; __mh_os.chdir({cwd!r}); del __mh_os")
            client = PapermillNotebookClient(
                nb_man,
                km=pk.km,
                timeout=timeout,
                startup_timeout=start_timeout,
                kernel_name=pk.kernel_name,
                log=logger,
                log_output=log_output,
                stdout_file=stdout_file,
                stderr_file=stderr_file,
                **kwargs,
            )
            client.kc = pk.kc
            executed = client.execute()
            broken = False
            return executed
        finally:
            if client is not None:
                atexit.unregister(client._cleanup_kernel)
            pool.release(pk, broken=broken)
