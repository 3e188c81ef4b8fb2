"""``hub.pipeline(steps, name=...)``: describe a pipeline as a servable of type ``pipeline``.

The same function serves the embedded and the remote hub: servable steps are looked up
through :meth:`HubAPI.servable <hub.api.HubAPI.servable>` (as you may see them) for their
schemas and versions, adapters are described by the ``python`` type, and the chain is
checked (:func:`hub.pipelines.fit.check_chain`) before anything is published.  The
registry checks it again, as the publisher, when it publishes (:mod:`hub.pipelines.publish`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from hub.exceptions import HubError, ValidationError
from hub.pipelines.fit import check_chain
from hub.pipelines.servable_type import PipelineObject
from hub.pipelines.steps import (
    PIPELINE,
    AdapterEntry,
    DatasetFile,
    FileEntry,
    PipelineBlock,
    Search,
    SearchEntry,
    ServableEntry,
    StepEntry,
)
from hub.servables.description import ServableDescription, describe
from hub.servables.metadata import ServableMetadata
from hub.servables.schema import ArgSpec

if TYPE_CHECKING:
    from hub.api import HubAPI

#: A step as a user gives it: a servable's name, an adapter, or (first) a data source.
Step = str | Callable[..., Any] | Search | DatasetFile


def describe_pipeline(
    hub: HubAPI,
    steps: Sequence[Step],
    *,
    name: str,
    title: str | None = None,
    authors: Sequence[str] | None = None,
    description: str | None = None,
    visible_to: Sequence[str] | str | None = None,
    runnable_by: Sequence[str] | str | None = None,
    domains: Sequence[str] = (),
) -> ServableDescription:
    """A pipeline of ``steps`` described as a servable of type ``pipeline``, ready to publish.

    Parameters
    ----------
    hub
        The hub whose servables the steps name (looked up as its principal).
    steps
        In order: published servables by name (``owner/name`` or ``owner/name@version``),
        Python callables (adapters), and as the first step a :class:`Search` or a
        :class:`DatasetFile`.
    name, title, authors, description, visible_to, runnable_by, domains
        As for :meth:`HubAPI.describe <hub.api.HubAPI.describe>`.

    Raises
    ------
    ValidationError
        A step you may not see, a step that cannot be one, or a step whose output does
        not fit the next step's input (naming both steps and the field).
    """
    entries: list[StepEntry] = []
    adapters: dict[int, Callable[..., Any]] = {}
    requirements: set[str] = set()
    for index, step in enumerate(steps, 1):
        if isinstance(step, str):
            entries.append(_servable_entry(hub, index, step))
        elif isinstance(step, Search):
            entries.append(SearchEntry(query=step.query, limit=step.limit, kinds=list(step.kinds), **_SEARCH))
        elif isinstance(step, DatasetFile):
            entries.append(
                FileEntry(
                    source_id=step.source_id, path=step.path, input=_NO_INPUT, output=file_output(step.path)
                )
            )
        elif callable(step):
            adapter = describe(step, type="python")
            fn_name = getattr(step, "__name__", type(step).__name__)
            entries.append(
                AdapterEntry(
                    function=fn_name,
                    options=dict(adapter.metadata.servable.options),
                    input=adapter.input,
                    output=adapter.output,
                )
            )
            adapters[index] = step
            requirements.update(adapter.metadata.dlhub.dependencies.get("python", {}))
        else:
            raise ValidationError(
                f"step {index} is a {type(step).__name__}: give a servable's name, a Python callable, "
                "or (first) hub.pipelines.Search(...) or DatasetFile(...)"
            )
    block = PipelineBlock(steps=entries)
    check_chain(block)
    sv = describe(
        PipelineObject(block, adapters, sorted(requirements)),
        type=PIPELINE,
        name=name,
        title=title,
        authors=authors,
        description=description,
        visible_to=visible_to,
        runnable_by=runnable_by,
        domains=domains,
    )
    sv.metadata = with_block(sv.metadata, block)
    return sv


#: The input and output of a search source.
_SEARCH: dict[str, ArgSpec] = {
    "input": ArgSpec(type="string", nullable=True, description="a query (None: the pipeline's own)"),
    "output": ArgSpec.list_of(ArgSpec(type="dict"), description="the documents of the hits"),
}
_NO_INPUT = ArgSpec(type="unknown", nullable=True, description="ignored: the pipeline reads a dataset file")


def with_block(metadata: ServableMetadata, block: PipelineBlock) -> ServableMetadata:
    """``metadata`` with ``block`` as its ``pipeline`` block and its run method's input and output."""
    doc = metadata.to_document()
    doc["pipeline"] = block.model_dump(mode="json", exclude_none=True)
    run = doc["servable"]["methods"]["run"]
    run["input"], run["output"] = block.steps[0].input.to_dict(), block.steps[-1].output.to_dict()
    return ServableMetadata.model_validate(doc)


def file_output(path: str) -> ArgSpec:
    """What a dataset file's Intake reader gives, as plain data (a table: a dict; an array: an ndarray).

    Raises
    ------
    ValidationError
        When no reader reads the file, or its reader gives something else (a catalog).
    """
    from hub.catalog.hubdata import file_reader

    reader = file_reader(path, path)
    kind = str(getattr(reader, "output_instance", "") or "")
    if kind.startswith("pandas:"):
        return ArgSpec(type="dict", description=f"{path} as a table: {{column: values}}")
    if kind.startswith("xarray:"):
        return ArgSpec.ndarray(None, "unknown", description=f"{path} as an array")
    raise ValidationError(
        f"no Intake reader gives {path} as a table or an array "
        "(tables: csv, tsv, xlsx, parquet, jsonl; arrays: nc, h5, npy, images; structures: cif, xyz)"
    )


def _servable_entry(hub: HubAPI, index: int, ref: str) -> ServableEntry:
    try:
        found = hub.servable(ref)
    except HubError as exc:
        raise ValidationError(f"step {index} ({ref}): {exc.message}") from None
    if found.type == PIPELINE:
        raise ValidationError(f"step {index} ({ref}) is a pipeline: list its steps instead")
    method = found.method
    return ServableEntry(
        ref=ref,
        id=found.id,
        version=found.version,
        pinned="@" in ref,
        type=found.type,
        input=method.input,
        output=method.output,
    )
