"""Where servable runs execute: the local worker pool, or a Dask cluster.

Both take the same request (load spec, inputs, parameters, batch flag,
timeout, memory limit) and give the same reply (a dict whose ``status`` is
``ok``, ``error``, ``memory``, ``timeout`` or ``crash``).

Choose with ``ServableService(executor=...)``: an :class:`Executor`, a
``distributed.Client``, ``"local"`` or ``"dask://host:port"``; by default
``$MATTERHUB_EXECUTOR`` or the local pool.

On Dask, each worker process keeps its own LRU of loaded servables; isolation
and memory limits are the Dask workers' own (run them as processes with a
nanny and ``memory_limit``); a run past its timeout is cancelled and reported.
The artifact store must be reachable from the Dask workers (a shared
filesystem or object storage, as in a shared deployment).
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

from hub.exceptions import ConfigurationError, MissingDependencyError
from hub.servables import codec
from hub.servables.pool import DEFAULT_TIMEOUT_S, WorkerPool
from hub.servables.worker import LoadSpec, run_on_dask

ENV_EXECUTOR = "MATTERHUB_EXECUTOR"


class Executor:
    """The interface: run one request synchronously, and close."""

    name = "executor"

    def run(
        self,
        spec: LoadSpec,
        inputs: Any,
        params: dict[str, Any],
        *,
        batch: bool = False,
        timeout: float | None = None,
        memory_mb: int | None = None,
    ) -> dict[str, Any]:
        raise NotImplementedError

    def close(self) -> None:
        pass


class LocalExecutor(Executor):
    """The local pool of worker processes (created on the first run)."""

    name = "local"

    def __init__(self, pool: WorkerPool | None = None, **pool_options: Any) -> None:
        self._pool = pool
        self._options = pool_options
        self._owns = pool is None
        self._lock = threading.Lock()

    @property
    def pool(self) -> WorkerPool:
        with self._lock:
            if self._pool is None:
                self._pool = WorkerPool(**self._options)
            return self._pool

    def run(
        self,
        spec: LoadSpec,
        inputs: Any,
        params: dict[str, Any],
        *,
        batch: bool = False,
        timeout: float | None = None,
        memory_mb: int | None = None,
    ) -> dict[str, Any]:
        return self.pool.run(spec, inputs, params, batch=batch, timeout=timeout, memory_mb=memory_mb)

    def close(self) -> None:
        if self._owns and self._pool is not None:
            self._pool.close()
            self._pool = None


class DaskExecutor(Executor):
    """Runs on a ``dask.distributed`` cluster (a Client, or a scheduler address)."""

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
        self.client = client if isinstance(client, Client) else Client(client)

    def run(
        self,
        spec: LoadSpec,
        inputs: Any,
        params: dict[str, Any],
        *,
        batch: bool = False,
        timeout: float | None = None,
        memory_mb: int | None = None,
    ) -> dict[str, Any]:
        from distributed import TimeoutError as DaskTimeout

        timeout = DEFAULT_TIMEOUT_S if timeout is None else timeout
        payload = codec.dumps((inputs, params, batch), shm_threshold=sys.maxsize)
        future = self.client.submit(run_on_dask, spec, payload, memory_mb, pure=False)
        try:
            data = future.result(timeout=timeout)
        except (TimeoutError, DaskTimeout):
            restarted = self._restart_worker_of(future)
            future.cancel()
            return {
                "status": "timeout",
                "message": f"the run took longer than its timeout of {timeout:g} s on the Dask cluster; "
                + ("it was cancelled and its worker restarted" if restarted else "it was cancelled"),
            }
        except Exception as exc:  # a worker that died, a lost connection
            return {
                "status": "crash",
                "message": f"the Dask cluster could not run it: {type(exc).__name__}: {exc}",
                "exc_type": type(exc).__name__,
            }
        reply: dict[str, Any] = codec.safe_loads(data)
        return reply

    def _restart_worker_of(self, future: Any) -> bool:
        """Stop the worker process still running ``future`` (a thread cannot be stopped otherwise);
        its nanny starts a fresh one.  (A graceful ``restart_workers`` waits for the task.)"""
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
        if self._owns:
            self.client.close()


def executor_from(value: Any = None) -> Executor:
    """An executor from a setting: an Executor, a distributed Client, ``"local"``,
    ``"dask://host:port"`` (or ``tcp://``), or None for ``$MATTERHUB_EXECUTOR``."""
    if isinstance(value, Executor):
        return value
    if value is None:
        value = os.environ.get(ENV_EXECUTOR) or "local"
    if isinstance(value, str):
        if value in ("local", "pool"):
            return LocalExecutor()
        if value.startswith("dask://"):
            return DaskExecutor("tcp://" + value.removeprefix("dask://"))
        if value.startswith(("tcp://", "tls://", "inproc://")):
            return DaskExecutor(value)
        raise ConfigurationError(
            f"executor {value!r} is not understood: use 'local' or 'dask://host:port' "
            f"(in ${ENV_EXECUTOR} or ServableService(executor=...))"
        )
    if type(value).__module__.startswith("distributed"):
        return DaskExecutor(value)
    raise ConfigurationError(f"executor {value!r} is not an Executor, a distributed.Client or a string")
