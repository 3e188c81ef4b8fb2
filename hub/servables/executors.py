"""Where servable runs execute: the local worker pool, a Dask cluster, or your own executor.

Every executor has one method to implement, ``submit(request) -> Future``, in
the style of :mod:`concurrent.futures`: it takes a
:class:`~hub.servables.request.RunRequest` and gives a future of its
:class:`~hub.servables.request.RunResult`.  A failed run (the servable raised,
crashed, hung or ran out of memory) is a result with that status, not an
exception: the future raises only when the executor itself could not run it.
``run(request)`` is ``submit(request).result()``; ``await run_async(request)`` waits
for the same future on the running event loop (the local pool first tries its direct
path to a warm worker, :mod:`hub.servables.direct`); ``close()`` releases what the
executor holds.

Choose with ``executor=``: an :class:`Executor`, a ``distributed.Client``,
``"local"`` or ``"dask://host:port"``; by default ``$MATTERHUB_EXECUTOR`` or
the process-wide local pool (:func:`shared_local_executor`).

On Dask, each worker process keeps its own LRU of loaded servables; isolation
and memory limits are the Dask workers' own (run them as processes with a
nanny and ``memory_limit``); a run past its timeout is cancelled and reported.
The artifact store must be reachable from the Dask workers (a shared
filesystem or object storage, as in a shared deployment).  Dask workers run in
their own (the hub's) environment: a version that needs an environment of its
own (:mod:`hub.servables.environments`) is refused there (``refused``, saying
so); run it on the local pool.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from abc import ABC, abstractmethod
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from hub.exceptions import ConfigurationError, MissingDependencyError
from hub.servables import codec
from hub.servables.direct import run_warm
from hub.servables.pool import DEFAULT_TIMEOUT_S, WorkerPool
from hub.servables.request import RunRequest, RunResult, RunStatus
from hub.servables.worker import run_on_dask

ENV_EXECUTOR = "MATTERHUB_EXECUTOR"


class Executor(ABC):
    """Runs servable requests somewhere.

    Subclasses implement :meth:`submit` (and :meth:`close` if the executor holds something).
    """

    #: A short name for messages.
    name = "executor"

    @abstractmethod
    def submit(self, request: RunRequest) -> Future[RunResult]:
        """Start ``request``; the future gives its result (whatever status it ended with)."""

    def run(self, request: RunRequest) -> RunResult:
        """Run ``request`` and wait for its result."""
        return self.submit(request).result()

    async def run_async(self, request: RunRequest) -> RunResult:
        """Run ``request`` and await its result on the running event loop (no thread waits for it)."""
        return await asyncio.wrap_future(self.submit(request))

    def close(self) -> None:  # noqa: B027 (optional: an executor that holds nothing has nothing to do)
        """Release what this executor holds (its workers, its connection)."""


class LocalExecutor(Executor):
    """The local pool of worker processes (created on the first run).

    A synchronous :meth:`run` waits on its worker in the calling thread; :meth:`submit`
    hands the run to one of this executor's threads (one per worker).
    """

    name = "local"

    def __init__(self, pool: WorkerPool | None = None, **pool_options: Any) -> None:
        self._pool = pool
        self._options = pool_options
        self._owns = pool is None
        self._lock = threading.Lock()
        self._threads: ThreadPoolExecutor | None = None

    @property
    def pool(self) -> WorkerPool:
        """The worker pool (made, without starting a worker, on first use)."""
        with self._lock:
            if self._pool is None:
                self._pool = WorkerPool(**self._options)
            return self._pool

    def submit(self, request: RunRequest) -> Future[RunResult]:
        """Run ``request`` on one of this executor's threads, which waits on its worker."""
        pool = self.pool
        with self._lock:
            if self._threads is None:
                self._threads = ThreadPoolExecutor(pool.size, thread_name_prefix="matterhub-run")
            threads = self._threads
        return threads.submit(pool.run, request)

    def run(self, request: RunRequest) -> RunResult:
        """Run ``request`` on a worker, waiting in this thread (no hand-off to another one)."""
        return self.pool.run(request)

    async def run_async(self, request: RunRequest) -> RunResult:
        """Run ``request`` on an idle worker that holds its servable, awaited on this loop (no thread).

        Without such a worker (the first run of a version, every worker busy), one of this
        executor's threads runs it as :meth:`submit` does.
        """
        result = await run_warm(self.pool, request)
        if result is not None:
            return result
        return await super().run_async(request)

    def close(self) -> None:
        """Stop the threads (queued runs are cancelled) and the pool, if this executor made it."""
        with self._lock:
            threads, self._threads = self._threads, None
            pool = self._pool if self._owns else None
            if self._owns:
                self._pool = None
        if threads is not None:
            threads.shutdown(wait=True, cancel_futures=True)
        if pool is not None:
            pool.close()


class DaskExecutor(Executor):
    """Runs on a ``dask.distributed`` cluster.

    ``client`` is a ``distributed.Client``, or a scheduler address (connected on the
    first run; the executor then owns and closes that client).

    Raises
    ------
    MissingDependencyError
        When ``distributed`` is not installed (the ``dask`` extra).
    """

    name = "dask"

    def __init__(self, client: Any) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise MissingDependencyError(
                "The dask.distributed optional dependency is missing. "
                "Please run pip install 'matterhub[dask]' to install it."
            ) from None
        self._owns = not isinstance(client, Client)
        self._client: Any = client if isinstance(client, Client) else None
        self._address = None if isinstance(client, Client) else str(client)
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        """The ``distributed.Client`` (connected on first use when given an address)."""
        with self._lock:
            if self._client is None:
                from distributed import Client

                self._client = Client(self._address)  # type: ignore[no-untyped-call]
            return self._client

    def submit(self, request: RunRequest) -> Future[RunResult]:
        """Send ``request`` to the cluster; past its timeout it is cancelled and reported.

        A request of a version with an environment of its own is refused (the Dask workers
        run in theirs).
        """
        timeout = DEFAULT_TIMEOUT_S if request.timeout is None else request.timeout
        out: Future[RunResult] = Future()
        out.set_running_or_notify_cancel()
        if request.spec.environment:
            out.set_result(
                RunResult(
                    RunStatus.REFUSED,
                    message=f"{request.spec.key} runs in an environment of its own (its pinned requirements "
                    "differ from the hub's), which Dask workers do not have; run it on the local worker pool "
                    "(executor='local')",
                    exc_type="EnvironmentNotOnDask",
                )
            )
            return out
        payload = codec.dumps((request.inputs, request.params, request.batch), shm_threshold=sys.maxsize)
        try:
            running = self.client.submit(run_on_dask, request.spec, payload, request.memory_mb, pure=False)
        except Exception as exc:
            out.set_result(_unreachable(exc))
            return out
        settled = threading.Lock()  # the first of "finished" and "timed out" answers

        def finished(fut: Any) -> None:
            timer.cancel()
            if not settled.acquire(blocking=False):
                return
            try:
                result = RunResult.from_reply(codec.safe_loads(fut.result()))
            except Exception as exc:  # a worker that died, a lost connection, a cancelled run
                result = _unreachable(exc)
            out.set_result(result)

        def timed_out() -> None:
            if not settled.acquire(blocking=False):
                return
            restarted = self._restart_worker_of(running)
            running.cancel()
            out.set_result(
                RunResult(
                    RunStatus.TIMEOUT,
                    message=f"the run took longer than its timeout of {timeout:g} s on the Dask cluster; "
                    + ("it was cancelled and its worker restarted" if restarted else "it was cancelled"),
                )
            )

        timer = threading.Timer(timeout, timed_out)
        timer.daemon = True
        timer.start()
        running.add_done_callback(finished)
        return out

    def _restart_worker_of(self, future: Any) -> bool:
        """Stop the worker process still running ``future``; whether one was found and told to exit.

        A thread cannot be stopped otherwise; the worker's nanny starts a fresh one.  (A
        graceful ``restart_workers`` waits for the task.)
        """
        try:
            workers = [w for w, keys in self.client.processing().items() if future.key in keys]
        except Exception:
            return False
        if not workers:
            return False
        try:
            self.client.run(os._exit, 70, workers=workers, on_error="ignore")
        except Exception:
            pass  # the worker's connection closes as it exits
        return True

    def close(self) -> None:
        """Close the client, if this executor connected it."""
        with self._lock:
            client, owned = self._client, self._owns
            if owned:
                self._client = None
        if owned and client is not None:
            client.close()


def _unreachable(exc: BaseException) -> RunResult:
    return RunResult(
        RunStatus.CRASH,
        message=f"the Dask cluster could not run it: {type(exc).__name__}: {exc}",
        exc_type=type(exc).__name__,
    )


_SHARED_LOCAL: LocalExecutor | None = None
_SHARED_LOCK = threading.Lock()


def shared_local_executor() -> LocalExecutor:
    """The process-wide local worker pool (hubs in one process share their workers)."""
    global _SHARED_LOCAL
    with _SHARED_LOCK:
        if _SHARED_LOCAL is None:
            _SHARED_LOCAL = LocalExecutor()
        return _SHARED_LOCAL


def executor_from(value: Any = None) -> Executor:
    """An executor from a setting.

    ``value`` is an Executor (returned as is), a distributed Client, ``"local"`` or
    ``"pool"`` (a worker pool of its own), ``"dask://host:port"`` (or ``tcp://``,
    ``tls://``, ``inproc://``), or None for ``$MATTERHUB_EXECUTOR``, else the
    process-wide local pool.  Nothing starts or connects before the first run.

    Raises
    ------
    ConfigurationError
        When a string setting is none of these, or ``value`` is of another type.
    """
    if isinstance(value, Executor):
        return value
    if value is None:
        value = os.environ.get(ENV_EXECUTOR)
        if not value:
            return shared_local_executor()
    if isinstance(value, str):
        if value in ("local", "pool"):
            return LocalExecutor()
        if value.startswith("dask://"):
            return DaskExecutor("tcp://" + value.removeprefix("dask://"))
        if value.startswith(("tcp://", "tls://", "inproc://")):
            return DaskExecutor(value)
        raise ConfigurationError(
            f"executor {value!r} is not understood: use 'local' or 'dask://host:port' "
            f"(in ${ENV_EXECUTOR} or executor=...)"
        )
    if type(value).__module__.startswith("distributed"):
        return DaskExecutor(value)
    raise ConfigurationError(f"executor {value!r} is not an Executor, a distributed.Client or a string")
