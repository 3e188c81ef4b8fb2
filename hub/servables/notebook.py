"""Parameterized Jupyter notebooks as servables.

A notebook with a cell tagged ``parameters`` is a servable: its parameters
(found by ``papermill.inspect_notebook``: names, defaults, types) are the
input, a dict of them (all optional, the defaults fill the rest); its outputs
are what it records with ``hub.record(name, value)``.  A run executes the
notebook on a fresh pooled kernel in the worker process and returns
``{"outputs": {...}, "notebook_sha256": ...}``: the executed notebook is put in
the hub's blob store as the run's provenance (read by those who may see the
servable: :mod:`hub.notebooks.provenance`).  A failing cell fails the run
with :class:`~hub.notebooks.errors.NotebookExecutionError` (cell index,
exception name and value, and the executed notebook's sha256).
"""

from __future__ import annotations

import ast
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.exceptions import ValidationError
from hub.servables.base import Runner, ServableType, TypeDescription
from hub.servables.schema import ArgSpec

if TYPE_CHECKING:
    from hub.store.blobs import BlobStore

_TYPES = {
    "int": "integer",
    "float": "float",
    "str": "string",
    "bool": "boolean",
    "list": "list",
    "dict": "dict",
    "tuple": "tuple",
    "complex": "complex",
}
_RECORD = re.compile(r"\brecord\(\s*['\"]([^'\"]+)['\"]")
_IMPORT = re.compile(r"^\s*(?:from\s+([\w.]+)\s+import|import\s+([\w.]+))", re.M)


@dataclass
class NotebookSource:
    """A notebook file to publish (what :meth:`NotebookServable.open` returns)."""

    path: Path
    nb: Any


def _literal(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None


def _code(nb: Any) -> str:
    return "\n".join(c.get("source", "") for c in nb.cells if c.get("cell_type") == "code")


class NotebookServable(ServableType):
    """The ``notebook`` servable type: a parameterized Jupyter notebook (see the module docs)."""

    name = "notebook"
    description = "A parameterized Jupyter notebook (papermill): parameters in, recorded outputs out"
    imports = ("papermill", "nbformat", "nbclient", "jupyter_client", "ipykernel")
    extra = "notebooks"
    suffixes = (".ipynb",)
    priority = 50

    def can_describe(self, obj: Any) -> bool:
        """Whether ``obj`` is a :class:`NotebookSource` (a notebook file opened by :meth:`open`)."""
        return isinstance(obj, NotebookSource)

    def open(self, path: Path) -> NotebookSource:
        """The notebook file at ``path``, read with nbformat.

        Raises
        ------
        MissingDependencyError
            When the ``notebooks`` extra is not installed.
        """
        self.require()
        from hub.notebooks.runner import load_notebook

        return NotebookSource(Path(path), load_notebook(path))

    def describe(self, obj: Any, source: Path | None, options: dict[str, Any]) -> TypeDescription:
        """The notebook's parameters as the input schema and its ``record`` calls as the output.

        The input is a dict of the parameters (all optional: the defaults fill the rest),
        typed from papermill's inferred types or the defaults' types.  The output lists
        the names the code passes to ``record(...)`` and the executed notebook's blob.  The
        modules the code imports are listed; the options keep the kernel name and
        ``options["preload"]`` (modules each kernel imports first).

        Raises
        ------
        ValidationError
            When no cell is tagged ``parameters``, unless ``options["allow_no_parameters"]``.
        MissingDependencyError
            When the ``notebooks`` extra is not installed.
        """
        self.require()
        from hub.notebooks.runner import inspect_parameters

        nb = obj.nb
        found = inspect_parameters(nb)
        if not found and not options.get("allow_no_parameters"):
            raise ValidationError(
                f"the notebook {obj.path} has no cell tagged 'parameters'; tag the cell that sets its "
                "inputs (View > Cell Toolbar > Tags in Jupyter) so papermill can inject values"
            )
        props: dict[str, ArgSpec] = {}
        defaults: dict[str, Any] = {}
        for pname, info in found.items():
            default = _literal(info.get("default"))
            tname = info.get("inferred_type_name") or "None"
            if tname in ("None", "", None) and default is not None:
                tname = type(default).__name__
            spec = ArgSpec(
                type=_TYPES.get(str(tname).split("[")[0].lower(), "unknown"),
                description=str(info.get("help") or ""),
                default=default,
                nullable=default is None,
            )
            props[pname] = spec
            defaults[pname] = default
        outputs = list(dict.fromkeys(_RECORD.findall(_code(nb))))
        modules = sorted(
            {(a or b).split(".")[0] for a, b in _IMPORT.findall(_code(nb))} - {"hub", "os", "sys", "json"}
        )
        inp = ArgSpec(
            type="dict",
            properties=props,
            required=[],
            nullable=True,
            description="the notebook's parameters (any left out keep their defaults)",
        )
        out = ArgSpec(
            type="dict",
            properties={
                "outputs": ArgSpec(
                    type="dict",
                    properties={n: ArgSpec(type="unknown") for n in outputs},
                    required=[],
                    description="what the notebook records with hub.record(name, value)",
                ),
                "notebook_sha256": ArgSpec(
                    type="string", nullable=True, description="the executed notebook (blob)"
                ),
            },
            description="recorded outputs and the executed notebook's blob",
        )
        name = obj.path.stem
        return TypeDescription(
            model_type="Jupyter notebook",
            model_summary=f"{name}.ipynb: parameters {', '.join(props) or 'none'}; records {', '.join(outputs) or 'none'}",
            input=inp,
            output=out,
            method_details={"method_name": "run_notebook", "parameters": defaults, "records": outputs},
            options={
                "kernel_name": nb.metadata.get("kernelspec", {}).get("name", "python3"),
                "preload": list(options.get("preload", [])),
            },
            requirements=["papermill", "nbclient", "ipykernel"],
            modules=modules,
            summary=f"Notebook {name}",
            resource_type="Workflow",
        )

    def package(self, obj: Any, source: Path | None, dest: Path) -> dict[str, Any]:
        """Copy the notebook file as ``notebook.ipynb``; returns ``{"model": "notebook.ipynb"}``."""
        shutil.copyfile(obj.path, dest / "notebook.ipynb")
        return {"model": "notebook.ipynb"}

    def load(self, root: Path, files: dict[str, Any], options: dict[str, Any]) -> Runner:
        """A runner executing the notebook on this worker's kernel pool (started now).

        Each run merges ``inputs`` and ``parameters`` into the notebook's parameters, runs
        it with the artifact folder as working directory, stores the executed notebook
        when a store is known (``options["store_url"]`` or ``$MATTERHUB_STORE_URL``),
        raises the cell's :class:`~hub.notebooks.errors.NotebookExecutionError` when one
        failed, and returns ``{"outputs": ..., "notebook_sha256": ...}`` (figures as PNG bytes).
        """
        self.require()
        from hub.notebooks.pool import shared_pool
        from hub.notebooks.record import RecordedFigure
        from hub.notebooks.runner import load_notebook, run_notebook, store_notebook

        path = root / files["model"]
        nb = load_notebook(path)
        kernel = options.get("kernel_name") or "python3"
        preload = tuple(options.get("preload") or ())
        store_url = options.get("store_url") or os.environ.get("MATTERHUB_STORE_URL")
        artifact = options.get("artifact_sha256")
        shared_pool(kernel, preload)  # start this worker's kernels now, before the first run

        def run(inputs: Any, params: dict[str, Any]) -> Any:
            given = {**(inputs or {}), **(params or {})}
            result = run_notebook(nb, given, kernel_name=kernel, cwd=root, preload=preload)
            sha = store_notebook(result, store_url, artifact) if store_url else None
            if result.error is not None:
                raise result.error
            outputs = {k: v.png if isinstance(v, RecordedFigure) else v for k, v in result.outputs.items()}
            if sha is None:  # a contained worker sees no store: the hub stores it (:meth:`finish`)
                return {"outputs": outputs, "notebook_sha256": None, "notebook": result.notebook_bytes()}
            return {"outputs": outputs, "notebook_sha256": sha}

        return Runner(run)

    def finish(self, value: Any, store: BlobStore, artifact_sha256: str) -> Any:
        """Store the executed notebook a contained worker sent back, stamped with the artifact it ran from."""
        if not isinstance(value, dict) or "notebook" not in value:
            return value
        from hub.notebooks.provenance import stamped

        data = value.pop("notebook")
        if not isinstance(data, bytes | bytearray):
            raise TypeError("a notebook servable sent back something else than the executed notebook")
        value["notebook_sha256"] = store.put_bytes(stamped(bytes(data), artifact_sha256))
        return value
