"""The run route (``hub/service/routes/servables.py``): a small synchronous run of a warm
servable goes the direct path (checked on the event loop, sent straight to the worker that
holds it) with the same access checks, limits and errors as every other run."""

from __future__ import annotations

import os
import signal
from typing import Any

import httpx
import pytest

from hub.servables.executors import shared_local_executor
from hub.servables.pool import WorkerPool


def _brittle(x: list[float]) -> list[float]:
    """Doubles ``x``; a first value of -1 takes its worker down."""
    if x and x[0] == -1:
        os.kill(os.getpid(), signal.SIGSEGV)
    return [2 * v for v in x]


@pytest.fixture(scope="module")
def brittle(service: Any) -> str:
    alice = service.open("embedded", "alice")
    name: str = alice.publish_servable(
        alice.describe(
            _brittle, name="brittle", title="Brittle", visible_to=["public"], runnable_by=["group:lab"]
        )
    )
    return name


@pytest.fixture()
def pool(service: Any) -> WorkerPool:
    return shared_local_executor().pool


def _run(service: Any, user: str | None, name: str, body: dict[str, Any]) -> httpx.Response:
    headers = {"Authorization": f"Bearer {service.tokens[user]}"} if user else {}
    return httpx.post(f"{service.url}/api/servables/{name}/run", json=body, headers=headers, timeout=60)


def test_a_small_run_of_a_warm_servable_goes_straight_to_its_worker(
    service: Any, brittle: str, pool: WorkerPool
) -> None:
    assert _run(service, "alice", brittle, {"inputs": [1.0]}).json() == {"output": [2.0]}  # loads it
    warm = pool.warm
    r = _run(service, "alice", brittle, {"inputs": [1.5, 2.0], "arrays": "lists"})
    assert r.status_code == 200 and r.json() == {"output": [3.0, 4.0]}
    assert pool.warm == warm + 1
    # a large request, a task and a traced run go the ordinary way, with the same answers
    big = [1.0] * 20_000
    assert _run(service, "alice", brittle, {"inputs": big}).json() == {"output": [2.0] * 20_000}
    traced = _run(service, "alice", brittle, {"inputs": [1.0], "trace": True}).json()
    assert traced["output"] == [2.0] and len(traced["trace"]["steps"]) == 1
    assert "task" in _run(service, "alice", brittle, {"inputs": [1.0], "asynchronous": True}).json()
    assert pool.warm == warm + 1


def test_the_direct_path_checks_access_and_limits_first(service: Any, brittle: str, pool: WorkerPool) -> None:
    assert _run(service, "alice", brittle, {"inputs": [1.0]}).status_code == 200
    warm = pool.warm
    denied = _run(service, "bob", brittle, {"inputs": [1.0]})
    assert denied.status_code == 403 and "but not run it" in denied.text
    assert _run(service, None, brittle, {"inputs": [1.0]}).status_code in (401, 403)
    # the inputs are decoded only for a caller who may run it: bob's malformed array is a 403 too
    malformed = {"inputs": {"__ndarray__": {"dtype": "float64", "shape": [2], "data": "!!"}}}
    assert _run(service, "bob", brittle, malformed).status_code == 403
    bad = _run(service, "alice", brittle, malformed)
    assert bad.status_code == 400 and "inputs" in bad.text
    assert _run(service, "alice", "alice/no-such-servable", {"inputs": [1.0]}).status_code == 404
    too_long = _run(service, "alice", brittle, {"inputs": [1.0], "timeout": 1e9})
    assert too_long.status_code == 400 and "timeout: at most" in too_long.text
    assert _run(service, "alice", brittle, {"inputs": "not a list"}).status_code in (400, 422)
    assert pool.warm == warm  # nothing was sent


def test_a_worker_crash_on_the_direct_path_is_a_502_that_says_so(
    service: Any, brittle: str, pool: WorkerPool
) -> None:
    assert _run(service, "alice", brittle, {"inputs": [1.0]}).status_code == 200
    warm, replaced = pool.warm, pool.replaced
    crashed = _run(service, "alice", brittle, {"inputs": [-1.0]})
    assert crashed.status_code == 502, crashed.text
    assert "worker process died (signal SIGSEGV)" in crashed.text
    assert pool.warm == warm + 1 and pool.replaced == replaced + 1
    assert _run(service, "alice", brittle, {"inputs": [3.0]}).json() == {"output": [6.0]}
