"""The direct path (``hub/servables/direct.py``): a run sent straight to a warm worker and
awaited on the event loop ends as every run of the pool does: its output, its error, a crash,
a timeout or a memory error reported the same way, the worker replaced when it must be."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from hub.exceptions import (
    AccessDeniedError,
    InputValidationError,
    ServableCrashedError,
    ServableMemoryError,
    ServableRunError,
    ServableTimeoutError,
)
from hub.servables.containment import Containment, probe
from hub.servables.direct import run_warm
from hub.servables.executors import LocalExecutor
from hub.servables.landlock import abi as landlock_abi
from hub.servables.parts import ServableParts
from hub.servables.pool import WorkerPool
from hub.servables.request import RunResult, RunStatus


def fragile(x: float) -> float:
    """Doubles ``x``; a negative ``x`` crashes (-1), hangs (-2), allocates 2 GB (-3), raises (-4) or exits (-5)."""
    if x == -1:
        os.kill(os.getpid(), signal.SIGSEGV)
    if x == -2:
        time.sleep(120)
    if x == -3:
        return float(len(bytearray(2048 * 1024 * 1024)))
    if x == -5:
        os._exit(9)  # (pid 1 of a contained worker's namespace ignores the signal above)
    if x == -4:
        print("about to fail")
        raise ValueError(f"cannot take {x}")
    return 2 * x


def _direct(parts: ServableParts, x: Any, **options: Any) -> Any:
    return asyncio.run(parts.run_direct("alice/fragile", x, **options))


@pytest.fixture(scope="module")
def fragile_name(alice: ServableParts) -> str:
    return alice.registry.publish(alice.registry.describe(fragile, memory_mb=256, runnable_by=["group:lab"]))


@pytest.fixture()
def warm(alice: ServableParts, fragile_name: str, pool: WorkerPool) -> int:
    """A worker holds ``fragile`` (an ordinary run loaded it); the pool's count of direct runs before the test."""
    assert alice.run(fragile_name, 1.0) == 2.0
    return pool.warm


def test_a_run_of_a_warm_servable_goes_straight_to_its_worker(
    alice: ServableParts, warm: int, pool: WorkerPool
) -> None:
    started = pool.started
    assert _direct(alice, 21.0) == 42.0
    assert pool.warm == warm + 1 and pool.started == started


def test_a_run_no_worker_holds_goes_the_ordinary_way(
    alice: ServableParts, pool: WorkerPool, fragile_name: str
) -> None:
    def triple(x: float) -> float:
        return 3 * x

    name = alice.registry.publish(alice.registry.describe(triple, name="triple-direct"))
    warm = pool.warm
    assert asyncio.run(alice.run_direct(name, 2.0)) == 6.0  # loaded by an ordinary run
    assert pool.warm == warm
    assert asyncio.run(alice.run_direct(name, 3.0)) == 9.0  # now held: direct
    assert pool.warm == warm + 1


def test_the_checks_come_first(
    alice: ServableParts, parts_as: Any, warm: int, pool: WorkerPool, fragile_name: str
) -> None:
    with pytest.raises(InputValidationError):
        _direct(alice, "not a number")
    with pytest.raises(AccessDeniedError, match="may see alice/fragile@1 but not run it"):
        asyncio.run(parts_as("bob").run_direct(fragile_name, 1.0))
    assert asyncio.run(parts_as("carol", groups=("lab",)).run_direct(fragile_name, 1.0)) == 2.0
    assert pool.warm == warm + 1  # only carol's run was sent


@pytest.mark.parametrize(
    ("x", "options", "error", "words", "replaced"),
    [
        (-4.0, {}, ServableRunError, "alice/fragile@1 raised ValueError: cannot take -4.0", 0),
        (
            -1.0,
            {},
            ServableCrashedError,
            r"worker process died \(signal SIGSEGV\); the worker was replaced",
            1,
        ),
        (
            -2.0,
            {"timeout": 1.5},
            ServableTimeoutError,
            "longer than its timeout of 1.5 s; its worker was stopped",
            1,
        ),
        (-3.0, {}, ServableMemoryError, "more than its memory limit of 256 MB", 1),
    ],
)
def test_a_failed_direct_run_fails_as_an_ordinary_one(
    alice: ServableParts,
    warm: int,
    pool: WorkerPool,
    x: float,
    options: dict[str, Any],
    error: type[ServableRunError],
    words: str,
    replaced: int,
) -> None:
    before = pool.replaced
    with pytest.raises(error, match=words) as err:
        _direct(alice, x, **options)
    assert type(err.value) is error
    assert pool.warm == warm + 1 and pool.replaced == before + replaced
    if x == -4.0:
        assert err.value.stdout == "about to fail\n"
    assert alice.run("alice/fragile", 5.0) == 10.0  # the pool goes on


def test_a_cancelled_direct_run_gives_its_worker_up(
    alice: ServableParts, warm: int, pool: WorkerPool
) -> None:
    before = pool.replaced

    async def cancel_midway() -> None:
        running = asyncio.ensure_future(alice.run_direct("alice/fragile", -2.0, timeout=60))
        await asyncio.sleep(0.5)
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running

    asyncio.run(cancel_midway())
    assert pool.warm == warm + 1
    deadline = time.monotonic() + 30
    while pool.replaced == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pool.replaced == before + 1  # the hanging run's worker was stopped, not reused
    assert alice.run("alice/fragile", 5.0) == 10.0


def test_run_warm_sends_nothing_without_a_warm_worker(alice: ServableParts, pool: WorkerPool) -> None:
    def halve(x: float) -> float:
        return x / 2

    name = alice.registry.publish(alice.registry.describe(halve, name="halve-direct"))
    request = alice.runs.plan(name, 4.0).request
    warm = pool.warm
    assert asyncio.run(run_warm(pool, request)) is None and pool.warm == warm
    assert pool.run(request).value == 2.0
    result = asyncio.run(run_warm(pool, request))
    assert result is not None and result.ok and result.value == 2.0 and pool.warm == warm + 1


def test_a_contained_worker_bound_to_the_version_takes_its_direct_runs(
    alice: ServableParts, fragile_name: str, servable_home: Path
) -> None:
    if landlock_abi() < 1:
        pytest.skip("containing servables needs Landlock (Linux 5.13+)")
    containment = Containment().with_hidden([str(servable_home)])
    refused = probe(containment).get("refused")
    if refused:
        pytest.skip(f"servables cannot be contained here: {refused}")
    with WorkerPool(1, containment=containment) as contained:
        executor = LocalExecutor(contained)

        def direct(x: float) -> RunResult:
            return asyncio.run(executor.run_async(alice.runs.plan(fragile_name, x).request))

        assert direct(2.0).value == 4.0  # its first run starts the worker bound to it: the ordinary way
        assert contained.warm == 0
        assert direct(3.0).value == 6.0 and contained.warm == 1
        crashed = direct(-5.0)
        assert crashed.status is RunStatus.CRASH and "died (exit code 9)" in crashed.message
        assert contained.warm == 2 and contained.replaced == 1
        assert direct(4.0).value == 8.0  # the replacement, bound to the version, greets the ordinary way
        assert direct(5.0).value == 10.0 and contained.warm == 3


def test_the_checks_leave_the_loop_when_the_catalog_is_a_server(
    alice: ServableParts, warm: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite the checks run in the loop's thread; on a catalog server (PostgreSQL) in a
    thread of their own, so its round trip never stalls the loop."""
    import threading

    seen: list[bool] = []
    plan = alice.runs.plan

    def recording(*args: Any, **kwargs: Any) -> Any:
        seen.append(threading.current_thread() is threading.main_thread())
        return plan(*args, **kwargs)

    monkeypatch.setattr(alice.runs, "plan", recording)
    local = alice.local_catalog  # False in the PostgreSQL pass
    assert _direct(alice, 1.0) == 2.0
    monkeypatch.setattr(alice, "local_catalog", False)
    assert _direct(alice, 1.0) == 2.0
    assert seen == [local, False]
