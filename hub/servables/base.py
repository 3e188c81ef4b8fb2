"""The servable type plugin contract.

A servable type knows one kind of model: how to recognise it, describe it
(model type, summary, input and output schemas, the libraries it needs), write
it into a servable's artifact, and load it again inside a worker process.  The
built-in types (``sklearn``, ``keras``, ``python``, ``dlhub_dataset``) register
through the entry point group ``matterhub.servables`` exactly as a third-party
type would (see :mod:`hub.servables.registry`).

Metadata is declarative (class attributes), so the CLI and widgets can list
what a type does without importing its library.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from hub.plugins import missing_imports, require_imports
from hub.servables.schema import ArgSpec

if TYPE_CHECKING:
    from hub.store.blobs import BlobStore


@dataclass
class TypeDescription:
    """What a type plugin finds out about a model.

    ``requirements`` are distribution names (``scikit-learn``); describe pins
    them to the installed versions.  ``options`` are what :meth:`ServableType.load`
    needs besides the files (method name, feature names, ...).
    """

    model_type: str
    model_summary: str = ""
    input: ArgSpec = field(default_factory=ArgSpec)
    output: ArgSpec = field(default_factory=ArgSpec)
    parameters: dict[str, ArgSpec] = field(default_factory=dict)
    method_details: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    requirements: list[str] = field(default_factory=list)
    modules: list[str] = field(default_factory=list)
    summary: str = ""
    resource_type: str = "Model"


class Runner:
    """A servable loaded in a worker: ``runner(inputs, parameters)`` returns the outputs.

    ``batchable`` runners accept several inputs stacked along their first axis
    (a model's ``predict``), so a batch of ndarray inputs runs as one call.
    """

    def __init__(self, fn: Callable[[Any, dict[str, Any]], Any], *, batchable: bool = False) -> None:
        self.fn = fn
        self.batchable = batchable

    def __call__(self, inputs: Any, parameters: dict[str, Any]) -> Any:
        """The outputs of the servable for ``inputs`` and ``parameters`` (``fn``'s result)."""
        return self.fn(inputs, parameters)


class ServableType:
    """Base class of every servable type plugin."""

    #: Registry name (the entry point name), the value of ``servable.type``.
    name: ClassVar[str] = ""
    #: One line for people.
    description: ClassVar[str] = ""
    #: DLHub's name for this kind of servable (``servable.shim``), for import and export.
    shim: ClassVar[str | None] = None
    #: Modules needed to describe and run it.
    imports: ClassVar[tuple[str, ...]] = ()
    #: The pip extra that installs ``imports``.
    extra: ClassVar[str | None] = None
    #: File suffixes it can publish from a path (``.keras``, ``.joblib``).
    suffixes: ClassVar[tuple[str, ...]] = ()
    #: Order in which :func:`~hub.servables.description.describe` asks types (lower first).
    priority: ClassVar[int] = 100
    #: False for metadata-only types (nothing to run).
    runnable: ClassVar[bool] = True

    # -- declarative helpers --------------------------------------------------------

    @classmethod
    def available(cls) -> bool:
        """Whether every module in ``imports`` can be imported."""
        return not missing_imports(cls.imports)

    @classmethod
    def require(cls) -> None:
        """Raise :class:`MissingDependencyError` naming the extra when something is missing."""
        require_imports(cls.imports, cls.extra, f"The {cls.name!r} servable type")

    @classmethod
    def info(cls) -> dict[str, Any]:
        """The type's declared metadata as a JSON-ready dict, for the CLI and widgets.

        Returns
        -------
        dict
            ``name``, ``description``, ``shim``, ``imports``, ``extra``, ``suffixes``,
            ``runnable`` and ``available`` (whether its imports are installed here).
        """
        return {
            "name": cls.name,
            "description": cls.description,
            "shim": cls.shim,
            "imports": list(cls.imports),
            "extra": cls.extra,
            "suffixes": list(cls.suffixes),
            "runnable": cls.runnable,
            "available": cls.available(),
        }

    # -- the contract -----------------------------------------------------------------

    def can_describe(self, obj: Any) -> bool:
        """Whether ``obj`` (an object in memory) is a model of this type."""
        return False

    def can_open(self, path: Path) -> bool:
        """Whether this type publishes the file ``path`` (default: by suffix)."""
        return path.suffix.lower() in self.suffixes

    def open(self, path: Path) -> Any:
        """Load the model in ``path`` so it can be described (the publisher's own process)."""
        raise NotImplementedError(f"the {self.name!r} servable type cannot open files")

    def describe(self, obj: Any, source: Path | None, options: dict[str, Any]) -> TypeDescription:
        """Describe ``obj`` (loaded from ``source`` when it came from a file).

        ``options`` holds type-specific choices from the caller (``method``).
        """
        raise NotImplementedError

    def package(self, obj: Any, source: Path | None, dest: Path) -> dict[str, Any]:
        """Write the model into ``dest`` (the artifact's ``model/`` folder).

        Returns what :meth:`load` needs to find it, e.g. ``{"model": "model.joblib"}``
        (paths relative to ``dest``).
        """
        raise NotImplementedError

    def load(self, root: Path, files: dict[str, Any], options: dict[str, Any]) -> Runner:
        """Load the model written by :meth:`package` (inside a worker process)."""
        raise NotImplementedError

    def finish(self, value: Any, store: BlobStore, artifact_sha256: str) -> Any:
        """What the hub makes of a successful run's output before handing it back (in the hub).

        ``value`` is plain data from a worker, which may run anyone's code: treat it as
        hostile.  The default hands it back as is; the notebook type stores the executed
        notebook a contained worker could not store itself.
        """
        return value
