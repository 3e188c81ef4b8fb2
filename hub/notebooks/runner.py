"""Run one parameterized notebook and read back what it recorded.

:func:`run_notebook` executes through papermill (engine ``matterhub`` by
default: a pooled, fresh kernel), keeps the executed notebook (also when a
cell fails), and returns a :class:`NotebookRun` with the recorded outputs, the
error (cell index, exception name and value) and the notebook itself.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.notebooks.errors import NotebookExecutionError
from hub.notebooks.record import read_records
from hub.plugins import require_imports

IMPORTS = ("papermill", "nbformat", "nbclient", "jupyter_client", "ipykernel")


def require() -> None:
    """Make sure the notebook extra is installed (papermill, nbformat, nbclient, kernels).

    Raises
    ------
    MissingDependencyError
        Naming the missing modules and the ``notebooks`` extra.
    """
    require_imports(IMPORTS, "notebooks", "Running notebooks")


@dataclass
class NotebookRun:
    """One executed notebook."""

    parameters: dict[str, Any]
    outputs: dict[str, Any]
    notebook: Any
    error: NotebookExecutionError | None = None
    duration_s: float = 0.0
    output_path: str | None = None
    notebook_sha256: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether every cell ran without an error."""
        return self.error is None

    def raise_for_error(self) -> NotebookRun:
        """The run itself, unless a cell failed.

        Raises
        ------
        NotebookExecutionError
            The run's :attr:`error`, when a cell failed.
        """
        if self.error is not None:
            raise self.error
        return self

    def notebook_bytes(self) -> bytes:
        """The executed notebook as ``.ipynb`` JSON, UTF-8 encoded (what :func:`store_notebook` stores)."""
        import nbformat

        text: str = nbformat.writes(self.notebook)  # type: ignore[no-untyped-call]
        return text.encode()

    def __repr__(self) -> str:
        state = "ok" if self.ok else f"failed: {self.error}"
        return f"<NotebookRun {state}; outputs: {', '.join(self.outputs) or 'none'}; {self.duration_s:.2f} s>"


def load_notebook(nb: Any) -> Any:
    """A ``NotebookNode`` from a path or a notebook (dict or node)."""
    import nbformat

    if isinstance(nb, str | os.PathLike):
        return nbformat.read(os.fspath(nb), as_version=4)  # type: ignore[no-untyped-call]
    if isinstance(nb, dict):
        return nbformat.from_dict(nb)  # type: ignore[no-untyped-call]
    return nb


def inspect_parameters(nb: Any) -> dict[str, dict[str, Any]]:
    """The notebook's parameters (``papermill.inspect_notebook``): name, inferred type, default, help."""
    require()
    import papermill

    node = load_notebook(nb)
    if not any("parameters" in c.get("metadata", {}).get("tags", []) for c in node.cells):
        return {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "nb.ipynb"
        import nbformat

        nbformat.write(node, str(path))  # type: ignore[no-untyped-call]
        return dict(papermill.inspect_notebook(str(path)))


def error_from_notebook(nb: Any) -> NotebookExecutionError | None:
    """The first cell error in an executed notebook, if any."""
    injected = 0
    for index, cell in enumerate(nb.cells):
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags:
            injected += 1
        if "papermill-error-cell-tag" in tags or cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                banners = sum(
                    1
                    for c in nb.cells[:index]
                    if "papermill-error-cell-tag" in c.get("metadata", {}).get("tags", [])
                )
                return NotebookExecutionError(
                    index - banners,
                    output.get("ename", ""),
                    output.get("evalue", ""),
                    source_cell_index=index - banners - injected,
                    execution_count=cell.get("execution_count"),
                    source=cell.get("source", ""),
                    traceback="\n".join(output.get("traceback", [])),
                )
    return None


def run_notebook(
    nb: Any,
    parameters: dict[str, Any] | None = None,
    *,
    output_path: str | os.PathLike[str] | None = None,
    engine: str = "matterhub",
    kernel_name: str | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
    progress_bar: bool = False,
    raise_on_error: bool = False,
    **engine_kwargs: Any,
) -> NotebookRun:
    """Execute ``nb`` (a path or notebook) with ``parameters`` and read its recorded outputs.

    The executed notebook is written to ``output_path`` when given.  A failing
    cell does not raise unless ``raise_on_error``: the run's ``error`` says which
    cell failed and how, and the notebook keeps the outputs up to there.
    """
    require()
    import papermill
    from papermill.exceptions import PapermillExecutionError

    params = dict(parameters or {})
    source = load_notebook(nb)
    if cwd is None and isinstance(nb, str | os.PathLike):
        cwd = Path(nb).resolve().parent
    if engine == "matterhub" and cwd:
        # the engine moves the kernel itself: no chdir of this process, which the threads of
        # a batch share (one run's chdir back would move another's notebook mid-run)
        engine_kwargs["kernel_cwd"] = str(Path(cwd).resolve())
        cwd = None
    t0 = time.perf_counter()
    error: NotebookExecutionError | None = None
    with tempfile.TemporaryDirectory(prefix="matterhub-nb-") as tmp:
        target = Path(output_path).resolve() if output_path else Path(tmp) / "executed.ipynb"
        try:
            papermill.execute_notebook(
                source,
                str(target),
                parameters=params,
                engine_name=engine,
                kernel_name=kernel_name,
                cwd=str(cwd) if cwd else None,
                progress_bar=progress_bar,
                execution_timeout=timeout,
                **engine_kwargs,
            )
        except PapermillExecutionError:
            pass  # read back from the written notebook below, with the cell as written
        import nbformat

        executed = nbformat.read(str(target), as_version=4)  # type: ignore[no-untyped-call]
    error = error_from_notebook(executed)
    run = NotebookRun(
        parameters=params,
        outputs=read_records(executed),
        notebook=executed,
        error=error,
        duration_s=time.perf_counter() - t0,
        output_path=str(output_path) if output_path else None,
    )
    if raise_on_error:
        run.raise_for_error()
    return run


def store_notebook(run: NotebookRun, store: Any, artifact_sha256: str | None = None) -> str:
    """Put the executed notebook into a blob store (a ``BlobStore`` or its URL); its sha256.

    ``artifact_sha256``: the servable artifact the notebook ran from, named in the
    notebook (who may see that servable may read the notebook: :mod:`hub.notebooks.provenance`).
    """
    from hub.notebooks.provenance import stamp
    from hub.store.blobs import BlobStore

    stamp(run.notebook, artifact_sha256)
    blobs = store if isinstance(store, BlobStore) else BlobStore(store)
    sha = blobs.put_bytes(run.notebook_bytes())
    run.notebook_sha256 = sha
    if run.error is not None:
        run.error.notebook_sha256 = sha
    return sha
