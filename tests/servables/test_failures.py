"""Servables that raise, crash, hang or allocate past their limit fail their own run,
with a clear error; the pool replaces the worker and goes on."""

from __future__ import annotations

import os
import signal
import time

import pytest

from hub.exceptions import (
    ServableCrashedError,
    ServableMemoryError,
    ServableRunError,
    ServableTimeoutError,
)
from hub.servables.parts import ServableParts
from hub.servables.pool import WorkerPool


def boom(x: float) -> float:
    print("about to fail")
    raise ValueError(f"cannot take {x}")


def segfault(x: float) -> float:
    os.kill(os.getpid(), signal.SIGSEGV)
    return x


def hang(x: float) -> float:
    time.sleep(120)
    return x


def hog(megabytes: int) -> int:
    block = bytearray(megabytes * 1024 * 1024)
    return len(block)


def double(x: float) -> float:
    return 2 * x


@pytest.fixture(scope="module")
def names(alice: ServableParts) -> dict[str, str]:
    return {
        f.__name__: alice.registry.publish(alice.registry.describe(f)) for f in (boom, segfault, hang, double)
    } | {"hog": alice.registry.publish(alice.registry.describe(hog, memory_mb=256))}


def _healthy(alice: ServableParts) -> None:
    assert alice.run("alice/double", 21.0) == 42.0


def test_a_servable_that_raises(alice: ServableParts, names: dict[str, str], pool: WorkerPool) -> None:
    replaced = pool.replaced
    with pytest.raises(ServableRunError) as err:
        alice.run("alice/boom", 3.0)
    e = err.value
    assert type(e) is ServableRunError and e.kind == "error"
    assert e.exc_type == "ValueError"
    assert "alice/boom@1 raised ValueError: cannot take 3.0" in str(e)
    assert e.traceback is not None and 'raise ValueError(f"cannot take {x}")' in e.traceback
    assert e.stdout == "about to fail\n"
    assert pool.replaced == replaced  # a Python exception does not cost the worker
    _healthy(alice)


def test_a_servable_that_segfaults(alice: ServableParts, names: dict[str, str], pool: WorkerPool) -> None:
    replaced = pool.replaced
    with pytest.raises(
        ServableCrashedError, match=r"worker process died \(signal SIGSEGV\); the worker was replaced"
    ):
        alice.run("alice/segfault", 1.0)
    assert pool.replaced == replaced + 1
    _healthy(alice)


def test_a_servable_that_hangs_past_its_timeout(
    alice: ServableParts, names: dict[str, str], pool: WorkerPool
) -> None:
    replaced = pool.replaced
    t0 = time.monotonic()
    with pytest.raises(
        ServableTimeoutError, match=r"longer than its timeout of 1.5 s; its worker was stopped"
    ):
        alice.run("alice/hang", 1.0, timeout=1.5)
    assert time.monotonic() - t0 < 60
    assert pool.replaced == replaced + 1
    _healthy(alice)


def test_a_servable_that_allocates_past_its_memory_limit(
    alice: ServableParts, names: dict[str, str], pool: WorkerPool
) -> None:
    assert alice.run("alice/hog", 16) == 16 * 1024 * 1024  # within its 256 MB
    replaced = pool.replaced
    with pytest.raises(ServableMemoryError, match="more than its memory limit of 256 MB"):
        alice.run("alice/hog", 2048)
    assert pool.replaced == replaced + 1
    _healthy(alice)


def test_failed_async_tasks_record_the_error(
    alice: ServableParts, names: dict[str, str], pool: WorkerPool
) -> None:
    crashed = alice.run("alice/segfault", 1.0, asynchronous=True)
    raised = alice.run("alice/boom", 2.0, asynchronous=True)
    slow = alice.run("alice/hang", 1.0, asynchronous=True, timeout=1.0)
    for task, kind in ((crashed, "crash"), (raised, "error"), (slow, "timeout")):
        done = alice.tasks.task(task.id).wait(60)
        assert done.status == "failed"
        assert done.error is not None and done.error["kind"] == kind
    assert "SIGSEGV" in (alice.tasks.task(crashed.id).error or {})["message"]
    assert alice.tasks.task(raised.id).stdout == "about to fail\n"
    with pytest.raises(ServableRunError, match=r"cannot take 2.0"):
        raised.outputs()
    _healthy(alice)
