"""Notebook failures: which cell failed, with which exception (papermill's pattern)."""

from __future__ import annotations

from typing import Any

from hub.exceptions import HubError


class NotebookExecutionError(HubError):
    """A cell of a notebook raised.

    ``cell_index`` counts the cells of the executed notebook (the injected
    parameters cell included); ``source_cell_index`` counts those of the notebook
    as written.  ``notebook_sha256`` names the executed notebook in the blob store
    when it was stored.
    """

    def __init__(
        self,
        cell_index: int,
        ename: str,
        evalue: str,
        *,
        source_cell_index: int | None = None,
        execution_count: int | None = None,
        source: str = "",
        traceback: str = "",
        notebook_sha256: str | None = None,
    ) -> None:
        self.cell_index = cell_index
        self.source_cell_index = cell_index if source_cell_index is None else source_cell_index
        self.ename = ename
        self.evalue = evalue
        self.execution_count = execution_count
        self.source = source
        self.traceback = traceback
        self.notebook_sha256 = notebook_sha256
        super().__init__(f"{ename}: {evalue}")

    def __str__(self) -> str:
        where = f"cell {self.source_cell_index}"
        if self.execution_count is not None:
            where += f" (In [{self.execution_count}])"
        msg = f"The notebook failed in {where}: {self.ename}: {self.evalue}"
        if self.notebook_sha256:
            msg += f" (executed notebook: blob {self.notebook_sha256})"
        return msg

    def to_dict(self) -> dict[str, Any]:
        """The failure as a JSON-ready dict (cell indexes, exception name and value, blob).

        The cell's source and the traceback are left out.
        """
        return {
            "cell_index": self.cell_index,
            "source_cell_index": self.source_cell_index,
            "execution_count": self.execution_count,
            "ename": self.ename,
            "evalue": self.evalue,
            "notebook_sha256": self.notebook_sha256,
        }
