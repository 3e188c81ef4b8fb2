"""Tasks: asynchronous runs, persisted in the catalog, run on background threads, resumed.

:meth:`TaskQueue.submit` saves a planned run's inputs to the blob store and its
task row to the catalog, then runs it on one of the hub's task threads with the
same body as a synchronous run (:meth:`hub.servables.runs.Runs.execute`); the
result (inline, or in the blob store when large), the captured output, the
timings or the error go to the task row.

Tasks left pending or running by a process of this host that died (a restart,
a SIGKILL) run again from their saved inputs, as their owner, when the hub is
first asked for a run or a task (or by :meth:`TaskQueue.resume_interrupted`);
those that cannot run again fail with a clear message.  Opening a hub never
resumes them by itself.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime
from typing import Any

from hub.access import Action, Kind, Principal, Resource, allowed
from hub.access.users import Users
from hub.connect.recovery import pid_alive
from hub.db.models import ServableTaskRow
from hub.exceptions import NotFoundError
from hub.servables import codec
from hub.servables.database import ServableDatabase
from hub.servables.runs import PlannedRun, Runs, saved_inputs
from hub.servables.tasks import Task, TaskStatus
from hub.store.blobs import BlobStore

#: Task results larger than this (as JSON) go to the blob store.
INLINE_RESULT_BYTES = 1024 * 1024


class TaskThreads:
    """The threads a hub's tasks run on, shared by its views (made on the first task).

    Parameters
    ----------
    size
        Threads that run tasks at once (default: 2).
    """

    def __init__(self, size: int | None = None) -> None:
        self.size = size or 2
        self._threads: ThreadPoolExecutor | None = None
        self._futures: dict[str, Future[None]] = {}
        self._lock = threading.Lock()
        self._resumed = False

    def start(self, task_id: str, job: Callable[[], None]) -> None:
        """Run ``job`` for ``task_id`` on a task thread."""
        with self._lock:
            if self._threads is None:
                self._threads = ThreadPoolExecutor(self.size, thread_name_prefix="matterhub-task")
            fut = self._threads.submit(job)
            self._futures[task_id] = fut

        def forget(_: Future[None]) -> None:
            with self._lock:
                self._futures.pop(task_id, None)

        fut.add_done_callback(forget)

    def wait(self, task_id: str, timeout: float | None) -> None:
        """Wait (up to ``timeout`` seconds) for a task this process runs."""
        with self._lock:
            fut = self._futures.get(task_id)
        if fut is not None:
            try:
                fut.result(timeout)
            except FutureTimeout:
                pass

    def resume_once(self, resume: Callable[[], None]) -> None:
        """Call ``resume()`` unless it was called before for this hub."""
        with self._lock:
            if self._resumed:
                return
            self._resumed = True
        resume()

    def close(self) -> list[str]:
        """Stop taking tasks: running ones finish; returns the ids of those that never started."""
        with self._lock:
            threads, self._threads = self._threads, None
            futures = dict(self._futures)
        if threads is not None:
            threads.shutdown(wait=True, cancel_futures=True)
        return [task_id for task_id, fut in futures.items() if fut.cancelled()]


class TaskQueue:
    """Asynchronous runs as tasks, as ``principal``.

    Parameters
    ----------
    db
        The servables' part of the catalog (task rows).
    store
        The blob store (saved inputs, large results).
    principal
        Who is asking.
    runs
        The runs the tasks execute with (as ``principal``).
    threads
        The task threads, shared by a hub's views.
    """

    def __init__(
        self,
        db: ServableDatabase,
        store: BlobStore,
        principal: Principal,
        runs: Runs,
        threads: TaskThreads,
    ) -> None:
        self.db = db
        self.store = store
        self.principal = principal
        self.runs = runs
        self.threads = threads

    def acting_as(self, principal: Principal, runs: Runs) -> TaskQueue:
        """These tasks as ``principal``, executed by ``runs`` (same threads)."""
        return TaskQueue(self.db, self.store, principal, runs, self.threads)

    # -- persist and run ---------------------------------------------------------------------

    def submit(self, planned: PlannedRun) -> Task:
        """Save ``planned`` as a pending task, start it, and return the task."""
        self.resume_interrupted()
        task_id = uuid.uuid4().hex
        now = self.db.now()
        request = planned.request
        inputs_sha = self.store.put_bytes(codec.dumps(saved_inputs(planned), shm_threshold=1 << 62))
        self.db.add_task(
            ServableTaskRow(
                id=task_id,
                servable_id=planned.version.row.id,
                version=planned.version.row.version,
                owner=self.principal.owner_id,
                status=TaskStatus.PENDING.value,
                batch=request.batch,
                n_inputs=len(request.inputs) if request.batch else 1,
                timings={"queued_at": now.isoformat()},
                inputs_sha=inputs_sha,
                pid=os.getpid(),
                host=socket.gethostname(),
                created_at=now,
                updated_at=now,
            )
        )
        self._start(task_id, planned, now)
        return self.task(task_id)

    def _start(self, task_id: str, planned: PlannedRun, queued: datetime, resumed: bool = False) -> None:
        self.threads.start(task_id, lambda: self._job(task_id, planned, queued, resumed))

    def _job(self, task_id: str, planned: PlannedRun, queued: datetime, resumed: bool) -> None:
        started = self.db.now()
        timings: dict[str, Any] = {
            "queued_at": queued.isoformat(),
            "started_at": started.isoformat(),
            "queue_ms": (started - queued).total_seconds() * 1000,
        }
        if resumed:
            timings["resumed_at"] = queued.isoformat()
        self.db.update_task(task_id, status=TaskStatus.RUNNING.value, timings=timings)
        result = self.runs.execute(planned)
        finished = self.db.now()
        timings.update(
            finished_at=finished.isoformat(),
            total_ms=(finished - started).total_seconds() * 1000,
            load_ms=result.load_ms,
            run_ms=result.run_ms,
            worker_pid=result.pid,
        )
        values: dict[str, Any] = {
            "timings": timings,
            "stdout": result.stdout,
            "stderr": result.stderr,
            "cached": result.cached,
        }
        if result.ok:
            encoded = codec.to_json(result.value)
            text = json.dumps(encoded)
            if len(text) > INLINE_RESULT_BYTES:
                values.update(result=None, result_sha=self.store.put_bytes(text.encode()))
            else:
                values.update(result=encoded)
            values["status"] = TaskStatus.COMPLETED.value
        else:
            values.update(status=TaskStatus.FAILED.value, error=result.error_record(planned.version.name))
        self.db.update_task(task_id, **values)

    # -- read -------------------------------------------------------------------------------

    def task(self, task_id: str) -> Task:
        """An asynchronous run's status, result, timings, captured output and error."""
        self.resume_interrupted()
        row = self.db.task(task_id, self.principal)
        result = row.result
        if row.result_sha:
            result = json.loads(self.store.get_bytes(row.result_sha))
        return Task(
            id=row.id,
            servable=row.servable_id,
            version=row.version,
            status=TaskStatus(row.status),
            result=codec.from_json(result) if result is not None else None,
            error=row.error,
            timings=dict(row.timings or {}),
            stdout=row.stdout or "",
            stderr=row.stderr or "",
            batch=row.batch,
            cached=row.cached,
            created_at=row.created_at,
            updated_at=row.updated_at,
            _refresh=self.task,
            _wait=self.threads.wait,
        )

    def tasks(self) -> Iterator[Task]:
        """Your unfinished tasks."""
        self.resume_interrupted()
        for row in self.db.unfinished_tasks():
            if allowed(self.principal, Action.SEE, Resource(Kind.TASK, row.owner, row.status)):
                yield self.task(row.id)

    # -- resume ------------------------------------------------------------------------------

    def resume_interrupted(self) -> None:
        """Run again the tasks a process of this host left unfinished when it died.

        This happens once per hub: the first run or task read does it when nobody called
        this before.
        """
        self.threads.resume_once(self._resume_all)

    def _resume_all(self) -> None:
        host = socket.gethostname()
        for row in self.db.unfinished_tasks():
            if row.host == host and row.pid and not pid_alive(row.pid):
                try:
                    self._resume(row)
                except Exception as exc:
                    self.db.update_task(
                        row.id,
                        status=TaskStatus.FAILED.value,
                        error={
                            "kind": "error",
                            "message": "the process that ran this task stopped before it finished, and the "
                            f"task could not be resumed ({exc}); run it again",
                        },
                    )

    def _resume(self, row: ServableTaskRow) -> None:
        if not row.inputs_sha:
            raise NotFoundError("its inputs were not saved")
        saved = codec.safe_loads(self.store.get_bytes(row.inputs_sha))
        planned = self.runs.acting_as(self._owner(row.owner)).replan(row.servable_id, row.version, saved)
        now = self.db.now()
        timings = {**dict(row.timings or {}), "resumed_at": now.isoformat()}
        self.db.update_task(row.id, status=TaskStatus.PENDING.value, pid=os.getpid(), timings=timings)
        self._start(row.id, planned, now, resumed=True)

    def _owner(self, uid: str) -> Principal:
        """A task owner (by id) with the groups the catalog gives them now.

        A run allowed through a group must stay allowed when it resumes.
        """
        return Users(self.db.catalog).principal(uid)

    def close(self) -> None:
        """Stop taking tasks: those that never started are marked failed; running ones finish."""
        for task_id in self.threads.close():
            self.db.update_task(
                task_id,
                status=TaskStatus.FAILED.value,
                error={"kind": "error", "message": "the hub was closed before this task ran"},
            )
