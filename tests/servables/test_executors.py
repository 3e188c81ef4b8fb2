"""The executor seam: an executor that implements only ``submit()`` runs servables, synchronous
runs and tasks alike, and a failed run is a result, not an exception."""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

import pytest

from hub import Hub
from hub.exceptions import ServableRunError
from hub.servables import codec
from hub.servables.executors import Executor, LocalExecutor
from hub.servables.parts import ServableParts
from hub.servables.pool import WorkerPool
from hub.servables.request import RunRequest, RunResult, RunStatus
from hub.servables.worker import run_on_dask


def halve(x: float) -> float:
    """Half of ``x``."""
    return x / 2


def refuse(x: float) -> float:
    raise ValueError(f"will not take {x}")


class StockProcesses(Executor):
    """A custom executor: only ``submit()``, over a stock ``ProcessPoolExecutor`` whose processes
    run each request with the worker's own entry point (as a per-environment executor would)."""

    name = "stock-processes"

    def __init__(self, processes: ProcessPoolExecutor) -> None:
        self.processes = processes
        self.requests: list[RunRequest] = []

    def submit(self, request: RunRequest) -> Future[RunResult]:
        self.requests.append(request)
        payload = codec.dumps((request.inputs, request.params, request.batch), shm_threshold=sys.maxsize)
        running = self.processes.submit(run_on_dask, request.spec, payload, request.memory_mb)
        out: Future[RunResult] = Future()
        running.add_done_callback(
            lambda f: out.set_result(RunResult.from_reply(codec.safe_loads(f.result())))
        )
        return out


@pytest.fixture(scope="module")
def stock(servable_home: Path, module_parts_of: Callable[..., ServableParts]) -> Iterator[ServableParts]:
    with (
        ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as processes,
        Hub(servable_home, user="erin", progress=False) as hub,
    ):
        yield module_parts_of(hub, StockProcesses(processes))


def test_an_executor_with_only_submit_runs_servables(stock: ServableParts) -> None:
    name = stock.registry.publish(stock.registry.describe(halve))
    assert stock.run(name, 3.0) == 1.5
    assert stock.run(name, [2.0, 4.0]) == [1.0, 2.0]  # a batch: one request
    task = stock.run(name, 5.0, asynchronous=True).wait(60)
    assert (task.status, task.result) == ("completed", 2.5)
    executor = stock.executor
    assert isinstance(executor, StockProcesses)
    assert [r.batch for r in executor.requests] == [False, True, False]
    assert executor.requests[0].spec.key.startswith("erin/halve@1:")


def test_a_failed_run_is_a_result_of_the_executor(stock: ServableParts) -> None:
    name = stock.registry.publish(stock.registry.describe(refuse))
    with pytest.raises(ServableRunError, match=r"erin/refuse@1 raised ValueError: will not take 1.0"):
        stock.run(name, 1.0)
    failed = stock.run(name, 2.0, asynchronous=True).wait(60)
    assert failed.status == "failed" and failed.error is not None and failed.error["kind"] == "error"
    request = stock.runs.plan(name, 3.0).request
    result = stock.executor.submit(request).result(60)
    assert result.status is RunStatus.ERROR and result.exc_type == "ValueError" and not result.ok


def test_the_local_executor_submits_to_its_pool(alice: ServableParts, pool: WorkerPool) -> None:
    name = alice.registry.publish(alice.registry.describe(halve, name="halve-local"))
    request = alice.runs.plan(name, [8.0, 6.0], batch=True).request
    executor = LocalExecutor(pool)
    try:
        runs = sum(w.runs for w in pool._workers if w is not None)
        futures = [executor.submit(request) for _ in range(3)]
        results = [f.result(60) for f in futures]
        assert [r.value for r in results] == [[4.0, 3.0]] * 3 and all(r.ok for r in results)
        assert {r.pid for r in results} <= set(pool.pids)
        assert sum(w.runs for w in pool._workers if w is not None) == runs + 3
        assert executor.run(request).value == [4.0, 3.0]  # run(): submit().result(), in this thread
    finally:
        executor.close()
    assert pool.run(request).ok  # the pool was given: closing the executor leaves it running
