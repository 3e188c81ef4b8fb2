"""A hub's servables: the registry, the runs and the tasks, as one principal, over one executor.

:class:`~hub.hubs.embedded.EmbeddedHub` makes one :class:`ServableParts` from its catalog, blob
store, search index and principal, and its views share it
(:meth:`ServableParts.acting_as`): the executor, the resolved versions, the task
threads and the index check are one per hub.  Making it starts nothing: the
worker pool starts on the first run, and tasks a stopped process left behind
are resumed on the first run or task read (or by
:meth:`~hub.servables.taskqueue.TaskQueue.resume_interrupted`).
"""

from __future__ import annotations

import asyncio
import copy
import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hub.access import Principal
from hub.db.database import Database
from hub.exceptions import ValidationError
from hub.index.engine import SearchIndex
from hub.pipelines.run import DataAccess
from hub.servables.database import ServableDatabase
from hub.servables.environments.store import Environments, EnvironmentSettings
from hub.servables.executors import Executor, executor_from, shared_local_executor
from hub.servables.pool import default_size
from hub.servables.published import IndexCheck, ServableRegistry
from hub.servables.runs import ResolvedVersions, Runs
from hub.servables.taskqueue import TaskQueue, TaskThreads
from hub.store.blobs import BlobStore


class ServableParts:
    """Describe, publish, discover and run servables, as ``principal``.

    Parameters
    ----------
    catalog, store, index
        The hub's catalog, blob store and search index.
    principal
        Who is asking.
    home
        The hub folder (artifacts are packaged under ``home/staging`` and unpacked
        under ``home/servables``; its settings say where environments live:
        :class:`~hub.servables.environments.store.EnvironmentSettings`).
    executor
        Where runs execute (see :mod:`hub.servables.executors`); default
        ``$MATTERHUB_EXECUTOR`` or the process-wide local worker pool.  An executor
        given here is yours to close.
    task_threads
        Threads that run asynchronous tasks at once (default: the local pool's
        size, at least 2).
    publishers
        Who may publish servables (ACL entries; admins always may); None: every signed-in user.
    data
        The hub as a principal, for pipelines that start from its data
        (:class:`hub.pipelines.Search`, :class:`hub.pipelines.DatasetFile`).

    Attributes
    ----------
    environments : Environments
        The environments of versions whose requirements the hub's does not meet.
    registry : ServableRegistry
        Describe, publish, look up, search, deprecate, delete.
    runs : Runs
        Resolve, check, memoize, dispatch.
    tasks : TaskQueue
        Asynchronous runs: persist, read, resume.
    """

    def __init__(
        self,
        catalog: Database,
        store: BlobStore,
        index: SearchIndex,
        principal: Principal,
        home: str | os.PathLike[str],
        *,
        executor: Executor | None = None,
        task_threads: int | None = None,
        publishers: frozenset[str] | None = None,
        data: DataAccess | None = None,
    ) -> None:
        self.principal = principal
        self.executor = executor if executor is not None else executor_from(None)
        self._owns_executor = executor is None and self.executor is not shared_local_executor()
        db = ServableDatabase(catalog)
        #: Whether the catalog answers in-process (SQLite): :meth:`run_direct` checks in the loop's thread.
        self.local_catalog = catalog.engine.dialect.name == "sqlite"
        home = Path(home)
        self.environments = Environments(EnvironmentSettings.for_hub(home))
        self.registry = ServableRegistry(
            db,
            store,
            index,
            principal,
            home / "staging",
            IndexCheck(),
            publishers,
            environments=self.environments,
        )
        self.runs = Runs(
            db,
            store,
            principal,
            self.executor,
            home / "servables",
            ResolvedVersions(),
            data,
            environments=self.environments,
        )
        self.tasks = TaskQueue(
            db, store, principal, self.runs, TaskThreads(task_threads or max(2, default_size()))
        )

    def acting_as(self, principal: Principal) -> ServableParts:
        """These servables seen by ``principal``, sharing the executor, caches and task threads."""
        view = copy.copy(self)
        view.principal = principal
        view._owns_executor = False
        view.registry = self.registry.acting_as(principal)
        view.runs = self.runs.acting_as(principal)
        view.tasks = self.tasks.acting_as(principal, view.runs)
        return view

    def run(
        self,
        name: str,
        inputs: Any,
        parameters: dict[str, Any] | None = None,
        asynchronous: bool = False,
        *,
        batch: bool | None = None,
        cache: bool | None = None,
        timeout: float | None = None,
        memory_mb: int | None = None,
        trace: bool = False,
    ) -> Any:
        """Run a servable on ``inputs``: its outputs, or with ``asynchronous`` a :class:`Task` at once.

        With ``trace``, a :class:`~hub.pipelines.trace.RunTrace` (synchronous runs only).
        See :meth:`hub.servables.runs.Runs.plan` for the options and errors.
        """
        self.tasks.resume_interrupted()
        if asynchronous and trace:
            raise ValidationError(
                "trace=True is for synchronous runs: run without asynchronous=True to get a trace"
            )
        if asynchronous:
            planned = self.runs.plan(
                name, inputs, parameters, batch=batch, cache=cache, timeout=timeout, memory_mb=memory_mb
            )
            return self.tasks.submit(planned)
        return self.runs.run(
            name,
            inputs,
            parameters,
            batch=batch,
            cache=cache,
            timeout=timeout,
            memory_mb=memory_mb,
            trace=trace,
        )

    async def run_direct(
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
    ) -> Any:
        """A synchronous run's outputs, awaited on the running event loop.

        ``decode`` makes the input of ``inputs`` once the caller's right to run is checked
        (:meth:`~hub.servables.runs.Runs.plan`).  The same checks as :meth:`run` (they read
        the catalog, here), then
        :meth:`~hub.servables.runs.Runs.execute_async`: straight to a warm worker when one
        is idle (:mod:`hub.servables.direct`), else as :meth:`run` would, in a thread.
        For small inputs: they are checked in the loop's thread when the catalog is SQLite
        (in-process), in a thread otherwise (a PostgreSQL round trip would stall the loop).
        """
        self.tasks.resume_interrupted()
        plan = functools.partial(
            self.runs.plan,
            name,
            inputs,
            parameters,
            batch=batch,
            cache=cache,
            timeout=timeout,
            memory_mb=memory_mb,
            decode=decode,
        )
        # SQLite answers in-process in ~0.1 ms; a catalog server's round trip would stall the loop
        planned = plan() if self.local_catalog else await asyncio.to_thread(plan)
        result = await self.runs.execute_async(planned)
        return result.outputs(planned.version.name)

    def close(self) -> None:
        """Stop taking tasks, and close the executor if these parts made it.

        Queued tasks are marked failed; running ones finish.
        """
        self.tasks.close()
        if self._owns_executor:
            self.executor.close()

    def __enter__(self) -> ServableParts:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
