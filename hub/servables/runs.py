"""Runs: resolve a version, check who may run it and its inputs, memoize, dispatch.

:meth:`Runs.plan` does everything that happens before anything runs (the
version is resolved, the caller's right to run it and the inputs and
parameters are checked, the memo key is computed) and gives a
:class:`PlannedRun`; :meth:`Runs.execute` is the one body of every run,
synchronous or a task's: a memoized output is returned as is, else the
executor runs the request and a new output is remembered.  Published code never
runs in this process: the executor (the local worker pool, Dask, ...) runs it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.access import Action, Kind, Principal, Resource, allowed
from hub.access.identities import Identities
from hub.db.models import ServableRow
from hub.exceptions import AccessDeniedError, InputValidationError, NotRunnableError
from hub.pipelines.run import DataAccess, PipelineSteps, PlannedSteps, plan_steps, read_steps
from hub.pipelines.steps import PIPELINE
from hub.pipelines.trace import RunTrace, StepTrace, step_trace
from hub.servables import codec
from hub.servables.database import ServableDatabase
from hub.servables.environments.store import Environments
from hub.servables.executors import Executor
from hub.servables.metadata import DEPRECATED, MethodSpec, ServableMetadata
from hub.servables.request import RunRequest, RunResult, RunStatus
from hub.servables.schema import check_parameters, given_text
from hub.servables.worker import LoadSpec
from hub.store.blobs import BlobStore

if TYPE_CHECKING:
    from hub.api import HubAPI

#: Resolved versions kept (versions never change, so entries are dropped only for room).
MAX_RESOLVED = 256


class ServableDeprecatedWarning(UserWarning):
    """Running a version its owner deprecated."""


@dataclass(frozen=True)
class ResolvedVersion:
    """What a run needs from a version, parsed once and kept while the version is unchanged.

    The cache of resolved versions is shared by every principal's view, so it keeps
    the version's run ACL, never an answer for one principal.
    """

    row: ServableRow
    method: MethodSpec
    spec: LoadSpec | None
    cache: bool
    timeout_s: float | None
    memory_mb: int | None
    #: Who the owner says may run it (for messages).
    may_run: list[str]
    #: The principals the version runs for (its ``run`` ACL rows).
    run_acl: frozenset[str]
    #: A pipeline's steps (:mod:`hub.pipelines.run`); None for every other type.
    steps: PipelineSteps | None = None

    @property
    def name(self) -> str:
        """``owner/name@version``."""
        return f"{self.row.id}@{self.row.version}"


def may_run(principal: Principal, version: ResolvedVersion) -> bool:
    """The run rule of the access policy (``Action.RUN`` on the servable, its run ACL)."""
    row = version.row
    return allowed(
        principal, Action.RUN, Resource(Kind.SERVABLE, row.owner, row.status, {Action.RUN: version.run_acl})
    )


@dataclass(frozen=True)
class PlannedRun:
    """A run whose version, access and inputs were checked: ready to execute (now or as a task)."""

    version: ResolvedVersion
    request: RunRequest
    #: The memoization key, when outputs are memoized.
    memo_key: str | None = None
    #: A pipeline's steps, checked for the caller (None for every other type).
    steps: PlannedSteps | None = None


class ResolvedVersions:
    """A thread-safe LRU of resolved versions by (id, version), shared by a hub's views."""

    def __init__(self, size: int = MAX_RESOLVED) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, int], ResolvedVersion] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, int], status: str, changed: datetime) -> ResolvedVersion | None:
        """The entry for ``key`` if the version is unchanged: still ``status``, last changed at ``changed``."""
        with self._lock:
            hit = self._items.get(key)
            if hit is None or hit.row.status != status or hit.row.updated_at != changed:
                return None
            self._items.move_to_end(key)
            return hit

    def put(self, key: tuple[str, int], version: ResolvedVersion) -> None:
        """Keep ``version`` (dropping the least recently used past :attr:`size`)."""
        with self._lock:
            self._items[key] = version
            while len(self._items) > self.size:
                self._items.popitem(last=False)


class Runs:
    """Run servables as ``principal``.

    Parameters
    ----------
    db
        The servables' part of the catalog (versions, access, memoized outputs).
    store
        The blob store (artifacts, memoized outputs).
    principal
        Who is asking.
    executor
        Where runs execute.
    cache_dir
        Where workers unpack artifacts.
    resolved
        Resolved versions, shared by a hub's views.
    data
        The hub as a principal, for the data sources of pipelines (None: pipelines that
        start from data cannot run here).
    environments
        The hub's environments (a version with one of its own runs there).
    """

    def __init__(
        self,
        db: ServableDatabase,
        store: BlobStore,
        principal: Principal,
        executor: Executor,
        cache_dir: Path,
        resolved: ResolvedVersions | None = None,
        data: DataAccess | None = None,
        *,
        environments: Environments,
    ) -> None:
        self.db = db
        self.store = store
        self.principal = principal
        self.executor = executor
        self.cache_dir = cache_dir
        self.resolved = resolved or ResolvedVersions()
        self.data = data
        self.environments = environments

    def acting_as(self, principal: Principal) -> Runs:
        """These runs as ``principal`` (same catalog, store, executor, resolved versions, data and environments)."""
        return Runs(
            self.db,
            self.store,
            principal,
            self.executor,
            self.cache_dir,
            self.resolved,
            self.data,
            environments=self.environments,
        )

    def data_as(self) -> HubAPI:
        """The hub as your principal, for a pipeline's data source.

        Raises
        ------
        NotRunnableError
            When these runs were given no access to the hub's data.
        """
        if self.data is None:
            raise NotRunnableError(
                "these runs read no hub data: a pipeline that starts from data runs on a hub"
            )
        return self.data(self.principal)

    # -- before anything runs -------------------------------------------------------------

    def resolve(self, name: str) -> ResolvedVersion:
        """The version ``name`` names that you may see (``owner/name@version``, ``owner/name``, ``name``)."""
        sid, version, status, changed = self.db.resolve_key(self.principal, name)
        key = (sid, version)
        hit = self.resolved.get(key, status, changed)
        if hit is not None:
            return hit
        row = self.db.row(sid, version)
        md = ServableMetadata.model_validate(row.document)
        spec = None
        if md.servable.runnable and row.artifact_sha:
            spec = LoadSpec(
                key=f"{row.id}@{row.version}:{row.artifact_sha[:12]}",
                type=row.type,
                artifact_sha=row.artifact_sha,
                store_url=self.store.url,
                cache_dir=str(self.cache_dir),
                files=dict(md.dlhub.files),
                options=dict(md.servable.options),
                requirements=tuple(md.dlhub.requirements),
                network=md.dlhub.limits.network,
                # its own environment (built if missing) when the hub's does not meet its requirements
                environment=self.environments.ensure(md.dlhub.environment) if md.dlhub.environment else "",
            )
        resolved = ResolvedVersion(
            row=row,
            method=md.servable.run,
            spec=spec,
            cache=md.dlhub.cache,
            timeout_s=md.dlhub.limits.timeout_s,
            memory_mb=md.dlhub.limits.memory_mb,
            may_run=md.dlhub.may_run,
            run_acl=self.db.acl(row, Action.RUN),
            steps=read_steps(row.document, spec) if row.type == PIPELINE else None,
        )
        self.resolved.put(key, resolved)
        return resolved

    def runnable(self, name: str) -> ResolvedVersion:
        """:meth:`resolve`, for a version there is something to run of and that you may run."""
        version = self.resolve(name)
        row = version.row
        if version.spec is None:
            raise NotRunnableError(
                f"{version.name} is a {row.type} entry with nothing to run"
                + (
                    " (imported from DLHub without its model files)"
                    if row.document.get("dlhub", {}).get("imported_from")
                    else ""
                )
            )
        if not may_run(self.principal, version):
            raise AccessDeniedError(
                f"{self.principal.name} may see {version.name} but not run it; "
                f"it runs for {', '.join(version.may_run)} "
                f"(ask its owner, {Identities(self.db.catalog).name(row.owner)})"
            )
        return version

    def plan(
        self,
        name: str,
        inputs: Any,
        parameters: dict[str, Any] | None = None,
        *,
        batch: bool | None = None,
        cache: bool | None = None,
        timeout: float | None = None,
        memory_mb: int | None = None,
        decode: Callable[[Any], Any] | None = None,
    ) -> PlannedRun:
        """Check a run of ``name`` on ``inputs`` before anything runs.

        Parameters
        ----------
        name
            ``owner/name``, ``owner/name@version`` or ``name``.
        inputs
            The input; a list of inputs runs as one batch.
        parameters
            Keyword parameters (checked against the servable's).
        batch
            Force (True) or forbid (False) reading ``inputs`` as a list of inputs.
        cache
            Memoize by version and input hash (default: the servable's setting).
        timeout, memory_mb
            Limits for this run (default: the servable's, else the executor's).
        decode
            Makes the input of ``inputs``, once the caller's right to run the version is
            checked (the service decodes tagged JSON only for a caller who may run it).

        Raises
        ------
        InputValidationError
            When the inputs or parameters do not fit.
        AccessDeniedError
            When you may see the servable but not run it.
        NotRunnableError
            When the entry has nothing to run.
        """
        version = self.runnable(name)
        if decode is not None:
            inputs = decode(inputs)
        row = version.row
        assert version.spec is not None
        if row.status == DEPRECATED:
            warnings.warn(
                f"{version.name} is deprecated by its owner", ServableDeprecatedWarning, stacklevel=3
            )
        steps = (
            PlannedSteps(plan_steps(self, version, version.steps), cache, timeout, memory_mb)
            if version.steps is not None
            else None
        )
        values, is_batch = check_inputs(version.method, inputs, batch)
        params = check_parameters(version.method.parameters, parameters)
        planned = self._planned(version, values, params, is_batch, cache, timeout, memory_mb)
        return dataclasses.replace(planned, steps=steps) if steps is not None else planned

    def _planned(
        self,
        version: ResolvedVersion,
        values: Any,
        params: dict[str, Any],
        batch: bool,
        cache: bool | None,
        timeout: float | None,
        memory_mb: int | None,
    ) -> PlannedRun:
        """The run of ``version`` on checked ``values`` and ``params``, with its memo key."""
        row = version.row
        assert version.spec is not None
        memoize = (cache if cache is not None else version.cache) and version.steps is None
        key = (
            codec.input_hash(row.id, row.version, row.artifact_sha, values, params, batch)
            if memoize
            else None
        )
        request = RunRequest(
            spec=version.spec,
            inputs=values,
            params=params,
            batch=batch,
            timeout=timeout if timeout is not None else version.timeout_s,
            memory_mb=memory_mb if memory_mb is not None else version.memory_mb,
        )
        return PlannedRun(version, request, key)

    def step(
        self,
        version: ResolvedVersion,
        inputs: Any,
        *,
        batch: bool,
        cache: bool | None = None,
        timeout: float | None = None,
        memory_mb: int | None = None,
    ) -> RunResult:
        """One step of a pipeline: ``inputs`` checked against ``version``'s input, then :meth:`execute`.

        ``version`` was checked by :meth:`runnable` when the pipeline's run was planned;
        the step takes its default parameters.

        Raises
        ------
        InputValidationError
            When ``inputs`` (the previous step's output) do not fit.
        """
        values, is_batch = check_inputs(version.method, inputs, batch)
        return self.execute(self._planned(version, values, {}, is_batch, cache, timeout, memory_mb))

    def replan(self, servable_id: str, version: int, saved: dict[str, Any]) -> PlannedRun:
        """A planned run again from what a task saved (:func:`saved_inputs`), for its owner.

        The owner must still be allowed to run the version (:meth:`runnable` raises otherwise).
        """
        resolved = self.runnable(f"{servable_id}@{version}")
        assert resolved.spec is not None
        limits = saved["limits"]
        request = RunRequest(
            spec=resolved.spec,
            inputs=saved["values"],
            params=saved["params"],
            batch=saved["batch"],
            timeout=limits.get("timeout"),
            memory_mb=limits.get("memory_mb"),
        )
        steps = (
            PlannedSteps(plan_steps(self, resolved, resolved.steps), None, request.timeout, request.memory_mb)
            if resolved.steps is not None
            else None
        )
        return PlannedRun(resolved, request, saved["key"], steps)

    # -- the run ----------------------------------------------------------------------------

    def execute(self, planned: PlannedRun, trace: list[StepTrace] | None = None) -> RunResult:
        """Run ``planned``: a memoized output if there is one, else the executor's result.

        The one body of synchronous runs and tasks.  A new successful result is remembered
        when the run is memoized; a memo lookup or executor that fails gives a ``crash``
        result, not an exception.  A pipeline runs its steps (:mod:`hub.pipelines.run`),
        each through this body.  ``trace`` (when given) receives one entry per step (one
        for a plain servable).
        """
        request = planned.request
        if planned.steps is not None:
            return planned.steps.execute(self, request.inputs, request.batch, trace)
        if trace is None:
            return self._execute(planned)
        started = time.perf_counter()
        result = self._execute(planned)
        version = planned.version
        trace.append(step_trace(1, version.name, version.row.type, request.inputs, result, started))
        return result

    def _execute(self, planned: PlannedRun) -> RunResult:
        key = planned.memo_key
        try:
            sha = self.db.cached(key) if key is not None else None
            if sha is not None:
                return RunResult(RunStatus.OK, codec.safe_loads(self.store.get_bytes(sha)), cached=True)
            result = self.executor.run(planned.request)
        except Exception as exc:  # the executor itself failed: a crash of this run, not of the caller
            return RunResult(RunStatus.CRASH, message=f"the run could not be executed: {exc!r}")
        if result.ok:
            result = self._finished(planned, result)
        if result.ok and key is not None:
            row = planned.version.row
            self.db.remember(
                key,
                row.id,
                row.version,
                self.store.put_bytes(codec.dumps(result.value, shm_threshold=1 << 62)),
            )
        return result

    async def execute_async(self, planned: PlannedRun) -> RunResult:
        """:meth:`execute`, awaited on the running event loop.

        A run with no memoized output to look up and no steps goes to the executor's
        :meth:`~hub.servables.executors.Executor.run_async` (the local pool sends it
        straight to a warm worker: :mod:`hub.servables.direct`); any other runs
        :meth:`execute` in a thread.
        """
        if planned.steps is not None or planned.memo_key is not None:
            return await asyncio.to_thread(self.execute, planned)
        try:
            result = await self.executor.run_async(planned.request)
        except Exception as exc:  # the executor itself failed: a crash of this run, not of the caller
            return RunResult(RunStatus.CRASH, message=f"the run could not be executed: {exc!r}")
        return self._finished(planned, result) if result.ok else result

    def _finished(self, planned: PlannedRun, result: RunResult) -> RunResult:
        """The result after its type's :meth:`~hub.servables.base.ServableType.finish` (in the hub)."""
        from hub.servables.registry import get_type

        row = planned.version.row
        try:
            value = get_type(row.type).finish(result.value, self.store, row.artifact_sha or "")
        except (TypeError, ValueError) as exc:
            return RunResult(
                RunStatus.ERROR, message=f"the servable's output was refused: {exc}", exc_type="ValueError"
            )
        return dataclasses.replace(result, value=value)

    def run(
        self,
        name: str,
        inputs: Any,
        parameters: dict[str, Any] | None = None,
        *,
        batch: bool | None = None,
        cache: bool | None = None,
        timeout: float | None = None,
        memory_mb: int | None = None,
        trace: bool = False,
    ) -> Any:
        """Run a servable on ``inputs`` and return its outputs (see :meth:`plan`).

        With ``trace``, a :class:`~hub.pipelines.trace.RunTrace`: the outputs, each step's
        exact version, time and input and output hashes, and the whole run's time.

        Raises
        ------
        ServableRunError
            When it raised (ServableTimeoutError, ServableCrashedError and
            ServableMemoryError for the other ways a run fails).
        """
        started = time.perf_counter()
        planned = self.plan(
            name, inputs, parameters, batch=batch, cache=cache, timeout=timeout, memory_mb=memory_mb
        )
        if not trace:
            return self.execute(planned).outputs(planned.version.name)
        steps: list[StepTrace] = []
        output = self.execute(planned, steps).outputs(planned.version.name)
        return RunTrace(output, steps, (time.perf_counter() - started) * 1000)


def saved_inputs(planned: PlannedRun) -> dict[str, Any]:
    """What a task saves to run ``planned`` again (:meth:`Runs.replan`)."""
    request = planned.request
    return {
        "values": request.inputs,
        "params": request.params,
        "batch": request.batch,
        "key": planned.memo_key,
        "limits": {"timeout": request.timeout, "memory_mb": request.memory_mb},
    }


def check_inputs(method: MethodSpec, inputs: Any, batch: bool | None) -> tuple[Any, bool]:
    """``inputs`` checked against ``method``'s input, and whether they are a batch.

    A list that is not a valid input is read as a list of inputs unless ``batch`` is False.
    """
    spec = method.input
    if batch:
        if not isinstance(inputs, list | tuple):
            raise InputValidationError(
                f"batch=True needs a list of inputs; got {given_text(inputs)}",
                errors=[{"input": "input", "expected": "a list of inputs", "given": given_text(inputs)}],
            )
        return [spec.check(x, f"input[{i}]") for i, x in enumerate(inputs)], True
    try:
        return spec.check(inputs, "input"), False
    except InputValidationError as single:
        if batch is False or not isinstance(inputs, list) or not inputs:
            raise
        try:
            return [spec.check(x, f"input[{i}]") for i, x in enumerate(inputs)], True
        except InputValidationError as item:
            raise InputValidationError(
                f"{single.message}; nor is it a list of valid inputs ({item.message})",
                errors=single.errors + item.errors,
            ) from None


__all__ = [
    "PlannedRun",
    "ResolvedVersion",
    "ResolvedVersions",
    "Runs",
    "ServableDeprecatedWarning",
    "check_inputs",
    "may_run",
    "saved_inputs",
]
