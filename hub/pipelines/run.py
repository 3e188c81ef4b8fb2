"""Running a pipeline hub-side: its steps read once per version, planned per run, executed in order.

:func:`read_steps` parses a pipeline version's steps once (the runs keep them in the
version's :class:`~hub.servables.runs.ResolvedVersion`, cached like the version);
:func:`plan_steps` checks, before anything runs, that the caller may run every
servable step (a refusal names the step); :meth:`PlannedSteps.execute` runs them.

Each servable step and each adapter goes through the runs' one body
(:meth:`Runs.step <hub.servables.runs.Runs.step>`: its input checked against its
schema, its memoized output or the executor's run), so published code runs in workers
only; a data source reads the hub as the caller.  Intermediate values stay in the
hub's process between two workers: only the last step's output goes back to the
caller.  A failing step ends the run: its result, its message prefixed with the step
(``step 2 (alice/encoder@3): ...``), is the run's.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hub.exceptions import AccessDeniedError, HubError, InputValidationError
from hub.pipelines.steps import (
    BLOCK,
    AdapterEntry,
    FileEntry,
    PipelineBlock,
    SearchEntry,
    ServableEntry,
    StepEntry,
    adapter_files,
)
from hub.pipelines.trace import StepTrace, step_trace
from hub.servables import codec
from hub.servables.metadata import MethodSpec
from hub.servables.request import RunResult, RunStatus
from hub.servables.worker import LoadSpec

if TYPE_CHECKING:
    from hub.access import Principal
    from hub.api import HubAPI
    from hub.servables.runs import ResolvedVersion, Runs

#: How runs reach the hub's data as a principal (for data sources).
DataAccess = Callable[["Principal"], "HubAPI"]


@dataclass(frozen=True)
class PipelineSteps:
    """A pipeline version's steps as runs need them (parsed once per version).

    Parameters
    ----------
    block
        The steps of the document.
    labels
        ``step <i> (<label>)`` of each step, for messages.
    adapters
        Each adapter's load spec (the ``python`` type, in the pipeline's artifact), by index.
    """

    block: PipelineBlock
    labels: tuple[str, ...]
    adapters: dict[int, LoadSpec]


def read_steps(document: dict[str, Any], spec: LoadSpec | None) -> PipelineSteps:
    """The steps of a pipeline version's ``document``; ``spec`` loads its artifact (the adapters)."""
    block = PipelineBlock.model_validate(document[BLOCK])
    files = dict(document.get("dlhub", {}).get("files") or {})
    adapters: dict[int, LoadSpec] = {}
    for index, step in enumerate(block.steps, 1):
        if isinstance(step, AdapterEntry) and spec is not None:
            adapters[index] = dataclasses.replace(
                spec,
                key=f"{spec.key}:step{index}",
                type="python",
                files=adapter_files(files, index),
                options=dict(step.options),
            )
    return PipelineSteps(block, tuple(block.labels()), adapters)


@dataclass(frozen=True)
class PlannedStep:
    """One step of a planned pipeline run: its place, its entry, and its version (servables, adapters)."""

    index: int
    label: str
    entry: StepEntry
    version: ResolvedVersion | None

    @property
    def name(self) -> str:
        """What a trace calls it: ``owner/name@version``, ``adapter:<function>``, ``source:search``."""
        return self.entry.label

    @property
    def type(self) -> str:
        """The servable type, or the source's kind."""
        if isinstance(self.entry, ServableEntry):
            return self.entry.type
        return "python" if isinstance(self.entry, AdapterEntry) else self.entry.kind


def plan_steps(runs: Runs, pipeline: ResolvedVersion, steps: PipelineSteps) -> tuple[PlannedStep, ...]:
    """The steps of ``pipeline`` ready to run as ``runs``' principal: every servable step checked.

    Raises
    ------
    AccessDeniedError
        When the principal may not see or run a step (naming it); nothing has run.
    """
    planned = []
    for index, (label, entry) in enumerate(zip(steps.labels, steps.block.steps), 1):
        version: ResolvedVersion | None = None
        if isinstance(entry, ServableEntry):
            try:
                version = runs.runnable(entry.label)
            except HubError as exc:
                raise AccessDeniedError(
                    f"{runs.principal.name} may not run pipeline {pipeline.name}: {label}: {exc.message}"
                ) from None
        elif isinstance(entry, AdapterEntry):
            version = dataclasses.replace(
                pipeline,
                method=MethodSpec(input=entry.input, output=entry.output),
                spec=steps.adapters[index],
                cache=False,
                steps=None,
            )
        planned.append(PlannedStep(index, label, entry, version))
    return tuple(planned)


@dataclass(frozen=True)
class PlannedSteps:
    """A pipeline run's steps, checked for the caller, and the run's options for each step.

    Parameters
    ----------
    steps
        The steps, in order.
    cache
        Memoize each servable step (None: each step's own setting).
    timeout, memory_mb
        Each step's limits (None: each step's own, else the executor's).
    """

    steps: tuple[PlannedStep, ...]
    cache: bool | None = None
    timeout: float | None = None
    memory_mb: int | None = None

    def execute(self, runs: Runs, inputs: Any, batch: bool, trace: list[StepTrace] | None) -> RunResult:
        """Run the steps on ``inputs`` (a batch when ``batch``); the last step's result, or the first failure's.

        ``trace`` (when given) receives one entry per step that ran.
        """
        value = inputs
        stdout: list[str] = []
        run_ms = 0.0
        for step in self.steps:
            started = time.perf_counter()
            result = self._step(runs, step, value, batch)
            if trace is not None:
                trace.append(step_trace(step.index, step.name, step.type, value, result, started))
            if result.stdout:
                stdout.append(result.stdout)
            if not result.ok:
                return dataclasses.replace(
                    result, message=f"{step.label}: {result.message}", stdout="".join(stdout)
                )
            run_ms += result.run_ms or 0.0
            value = result.value
        return RunResult(RunStatus.OK, value, stdout="".join(stdout), run_ms=run_ms)

    def _step(self, runs: Runs, step: PlannedStep, value: Any, batch: bool) -> RunResult:
        entry = step.entry
        try:
            if step.version is not None:
                return runs.step(
                    step.version,
                    value,
                    batch=batch,
                    cache=self.cache,
                    timeout=self.timeout,
                    memory_mb=self.memory_mb,
                )
            hub = runs.data_as()
            if isinstance(entry, SearchEntry):
                queries = value if batch else [value]
                found = [_search(hub, entry, q) for q in queries]
                return RunResult(RunStatus.OK, found if batch else found[0])
            assert isinstance(entry, FileEntry)
            table = _read_file(hub, entry)
            return RunResult(RunStatus.OK, [table] * len(value) if batch else table)
        except InputValidationError as exc:
            return RunResult(RunStatus.ERROR, message=exc.message, exc_type="InputValidationError")
        except HubError as exc:
            return RunResult(RunStatus.ERROR, message=exc.message, exc_type=type(exc).__name__)


def _search(hub: HubAPI, entry: SearchEntry, query: Any) -> list[dict[str, Any]]:
    """The documents of the hits of ``query`` (None: the source's own), as the caller may see them."""
    hits = hub.search(entry.query if query is None else str(query), limit=entry.limit, kinds=entry.kinds).hits
    return [h.document for h in hits]


def _read_file(hub: HubAPI, entry: FileEntry) -> Any:
    """The file read by its Intake reader, as plain data (a table: ``{column: values}``)."""
    from hub.catalog.hubdata import dataset_catalog

    catalog = dataset_catalog(hub, entry.source_id, records=False)
    if entry.path not in catalog:
        raise InputValidationError(
            f"dataset {entry.source_id} has no file {entry.path!r} that a reader reads"
        )
    try:
        return codec.to_safe(catalog[entry.path].read(), entry.path)
    except TypeError as exc:
        raise InputValidationError(str(exc)) from None
