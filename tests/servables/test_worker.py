"""The worker side: each process keeps recently used servables loaded (LRU), the
multiprocessing start methods work too, and replies are plain data only."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from hub import Hub
from hub.exceptions import ServableCrashedError
from hub.servables import codec
from hub.servables.executors import LocalExecutor
from hub.servables.parts import ServableParts
from hub.servables.pool import WorkerPool
from hub.servables.worker import Loaded, LoadSpec, execute


def add_one(x: float) -> float:
    return x + 1


def add_two(x: float) -> float:
    return x + 2


def add_three(x: float) -> float:
    return x + 3


def crash(x: float) -> float:
    import os
    import signal

    os.kill(os.getpid(), signal.SIGSEGV)
    return x


def test_loaded_servables_are_kept_least_recently_used_first(alice: ServableParts) -> None:
    specs: list[LoadSpec] = []
    for f in (add_one, add_two, add_three):
        spec = alice.runs.resolve(alice.registry.publish(alice.registry.describe(f))).spec
        assert spec is not None
        specs.append(spec)
    loaded = Loaded(max_loaded=2)
    first = execute(loaded, specs[0], 1.0, {}, False, 512)
    assert first["status"] == "ok" and first["value"] == 2.0 and first["load_ms"] > 0
    again = execute(loaded, specs[0], 5.0, {}, False, 512)
    assert again["value"] == 6.0 and again["load_ms"] == 0.0  # kept loaded
    execute(loaded, specs[1], 1.0, {}, False, 512)
    execute(loaded, specs[0], 1.0, {}, False, 512)  # add_one is now the most recent
    execute(loaded, specs[2], 1.0, {}, False, 512)  # evicts add_two, the least recently used
    assert list(loaded.items) == [specs[0].key, specs[2].key]
    assert execute(loaded, specs[1], 1.0, {}, False, 512)["load_ms"] > 0  # loaded again


@pytest.mark.parametrize("method", ["forkserver", "spawn"])
def test_multiprocessing_start_methods(
    alice: ServableParts, method: str, servable_home: Path, parts_of: Callable[..., ServableParts]
) -> None:
    name = alice.registry.publish(alice.registry.describe(add_one, name="add-one-mp"))
    crasher = alice.registry.publish(alice.registry.describe(crash))
    with WorkerPool(1, start_method=method) as pool:
        with Hub(servable_home, user="alice", progress=False) as hub:
            svc = parts_of(hub, LocalExecutor(pool))
        assert svc.run(name, 1.0) == 2.0
        with pytest.raises(ServableCrashedError, match="SIGSEGV"):
            svc.run(crasher, 1.0)
        assert svc.run(name, 2.0) == 3.0 and pool.replaced == 1
    with pytest.raises(ValueError, match="never forked"):
        WorkerPool(1, start_method="fork")


def test_replies_are_plain_data() -> None:
    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (print, ("this would run in the hub",))

    with pytest.raises(pickle.UnpicklingError, match="only plain data"):
        codec.safe_loads(codec.dumps({"value": Evil()}))
    big = np.arange(2_000_000, dtype=np.float64)  # 16 MB: through shared memory
    message = codec.dumps({"value": big, "n": np.float32(1.5)}, shm_threshold=1 << 20)
    assert len(message) < 1000
    back = codec.safe_loads(message)
    np.testing.assert_array_equal(back["value"], big)
    back["value"][0] = -1  # a private, writable copy-on-write mapping
    with pytest.raises(TypeError, match=r"output\['x'\] is a builtins.object, which cannot be returned"):
        codec.to_safe({"x": object()})
    assert codec.to_safe({"s": np.float32(2.5), "i": np.int64(3)}) == {"s": 2.5, "i": 3}
