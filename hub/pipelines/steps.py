"""The steps of a pipeline: what a user gives, and what the pipeline document keeps.

A user gives :func:`hub.pipelines.describe_pipeline` (``hub.pipeline``) a list of steps:

- a published servable by name (``"alice/encoder"`` or ``"alice/encoder@3"``);
- a Python callable: an adapter between two steps, packaged into the pipeline's
  artifact with the ``python`` servable type and run in a worker like any python servable;
- as the first step only, a data source: :class:`Search` (the records of the index the
  caller may see) or :class:`DatasetFile` (one file of a dataset, read by its Intake reader).

The pipeline document keeps them as its ``pipeline.steps`` block
(:class:`PipelineBlock`): one entry per step with its kind, its label and its input and
output schemas, and for a servable the exact version resolved when it was published.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.servables.schema import ArgSpec

#: The servable type of pipelines (``servable.type:pipeline``).
PIPELINE = "pipeline"
#: The key of the pipeline block in a servable document.
BLOCK = "pipeline"


@dataclass(frozen=True)
class Search:
    """A data source: the records of the hub's index that ``query`` finds (first step only).

    A pipeline that starts with a search takes the query as its input: ``None`` runs
    ``query``, a string runs that query instead.  The step gives the first ``limit``
    hits' documents (a list of dicts), as the caller may see them.

    Parameters
    ----------
    query
        A query of the hub's query language (``material.elements:Co``).
    limit
        How many hits the step gives at most.
    kinds
        The kinds of documents searched (``record``, ``dataset``).
    """

    query: str
    limit: int = 100
    kinds: tuple[str, ...] = ("record",)


@dataclass(frozen=True)
class DatasetFile:
    """A data source: one file of a dataset, read by its Intake reader (first step only).

    A pipeline that starts with a file takes no input (give ``None``).  The step gives
    what the file's reader gives, as plain data: a table as ``{column: values}``, an
    array (xarray) as an ndarray.

    Parameters
    ----------
    source_id
        The dataset (a source_id, or a source_name for its latest version).
    path
        The file's path in the dataset.
    """

    source_id: str
    path: str


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input: ArgSpec = Field(default_factory=ArgSpec)
    output: ArgSpec = Field(default_factory=ArgSpec)


class ServableEntry(_Entry):
    """A published servable: ``ref`` as the publisher gave it, ``id``@``version`` as resolved."""

    kind: Literal["servable"] = "servable"
    ref: str
    id: str | None = None
    version: int | None = None
    #: The publisher named the version (``owner/name@3``).
    pinned: bool = False
    type: str = ""

    @property
    def label(self) -> str:
        """``owner/name@version`` once resolved, else the reference."""
        return f"{self.id}@{self.version}" if self.id and self.version else self.ref


class AdapterEntry(_Entry):
    """A Python callable packaged in the pipeline's artifact (``model/step<i>/``)."""

    kind: Literal["adapter"] = "adapter"
    function: str
    #: The ``python`` type's load options (call style, input names).
    options: dict[str, Any] = Field(default_factory=dict)

    @property
    def label(self) -> str:
        """``adapter:<function>``."""
        return f"adapter:{self.function}"


class SearchEntry(_Entry):
    """A :class:`Search` source."""

    kind: Literal["search"] = "search"
    query: str
    limit: int = 100
    kinds: list[str] = Field(default_factory=lambda: ["record"])

    @property
    def label(self) -> str:
        """``source:search``."""
        return "source:search"


class FileEntry(_Entry):
    """A :class:`DatasetFile` source."""

    kind: Literal["file"] = "file"
    source_id: str
    path: str

    @property
    def label(self) -> str:
        """``source:file``."""
        return "source:file"


StepEntry = Annotated[ServableEntry | AdapterEntry | SearchEntry | FileEntry, Field(discriminator="kind")]
SOURCES = ("search", "file")


class PipelineBlock(BaseModel):
    """The ``pipeline`` block of a pipeline's document: its steps, in order."""

    model_config = ConfigDict(extra="forbid")

    steps: list[StepEntry]

    def labels(self) -> list[str]:
        """Each step as messages name it: ``step 2 (alice/encoder@3)``."""
        return [f"step {i} ({s.label})" for i, s in enumerate(self.steps, 1)]


def adapter_files(files: dict[str, Any], index: int) -> dict[str, Any]:
    """The files of the adapter at step ``index`` (1-based), as the ``python`` type loads them.

    The pipeline's artifact names them ``step<i>.<key>`` in ``dlhub.files``.
    """
    prefix = f"step{index}."
    return {k[len(prefix) :]: v for k, v in files.items() if k.startswith(prefix)}
