"""Servables with the catalog on SQLite and on PostgreSQL: publish, versions, access,
runs, memoization and asynchronous tasks (hub/servables/database.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest

from hub.access import Principal
from hub.exceptions import AccessDeniedError, NotFoundError
from hub.servables.database import ServableDatabase
from hub.servables.executors import LocalExecutor
from hub.servables.parts import ServableParts
from hub.servables.pool import WorkerPool


def scale(x: float, factor: float = 2.0) -> float:
    """Multiply ``x`` by ``factor``."""
    print(f"scaling {x}")
    return x * factor


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


@pytest.fixture()
def parts_for(
    make_hub: Callable[..., Any], pool: WorkerPool, parts_of: Callable[..., ServableParts]
) -> Callable[..., ServableParts]:
    """``parts_for("alice", groups=[...])``: the servable parts of this test's hub and backend."""

    def make(user: str = "alice", groups: list[str] | None = None) -> ServableParts:
        return parts_of(make_hub(user=user, groups=groups), LocalExecutor(pool))

    return make


def test_publish_run_tasks_and_cache(parts_for: Callable[..., ServableParts], pool: WorkerPool) -> None:
    alice = parts_for("alice")
    assert alice.registry.publish(alice.registry.describe(scale, name="scale")) == "alice/scale"
    alice.registry.publish(alice.registry.describe(ratio, name="scale", domains=["v2"]))
    info = alice.registry.servable("alice/scale")
    assert (info.version, info.versions) == (2, [1, 2])
    assert alice.run("alice/scale@1", 3.0, {"factor": 3.0}) == 9.0
    assert np.isnan(alice.run("scale", {"a": 1.0, "b": 0.0}))

    # memoized outputs
    first = alice.run("alice/scale@1", 5.0, cache=True)
    runs = sum(w.runs for w in pool._workers if w is not None)
    assert alice.run("alice/scale@1", 5.0, cache=True) == first == 10.0
    assert sum(w.runs for w in pool._workers if w is not None) == runs

    # asynchronous tasks: status, result, output and times, kept in the catalog
    task = alice.run("alice/scale@1", 4.0, asynchronous=True)
    done = alice.tasks.task(task.id).wait(60)
    assert (done.status, done.result) == ("completed", 8.0)
    assert "scaling 4.0" in done.stdout
    assert done.created_at is not None and done.created_at.utcoffset().total_seconds() == 0
    nan = alice.run("alice/scale@2", {"a": 1.0, "b": 0.0}, asynchronous=True).wait(60)
    assert nan.status == "completed" and np.isnan(nan.result), "a NaN result survives the catalog"
    with pytest.raises(NotFoundError):
        parts_for("mallory").tasks.task(task.id)


def test_access_versions_and_deletion(parts_for: Callable[..., ServableParts]) -> None:
    alice = parts_for("alice")
    alice.registry.publish(
        alice.registry.describe(scale, name="lab-run", visible_to=["public"], runnable_by=["group:lab"])
    )
    alice.registry.publish(alice.registry.describe(scale, name="hidden", visible_to=["group:lab"]))
    bob = parts_for("bob")
    labmate = parts_for("carol", groups=["lab"])
    assert bob.registry.servable("alice/lab-run").version == 1
    with pytest.raises(AccessDeniedError, match="may see alice/lab-run@1 but not run it"):
        bob.run("alice/lab-run", 1.0)
    with pytest.raises(NotFoundError):
        bob.registry.servable("alice/hidden")
    assert labmate.run("hidden", 2.0) == 4.0
    assert sorted(s.id for s in labmate.registry.listing()) == ["alice/hidden", "alice/lab-run"]
    alice.registry.publish(alice.registry.describe(ratio, name="hidden", visible_to=["group:lab"]))
    alice.registry.deprecate("alice/hidden@2")
    assert labmate.registry.servable("alice/hidden").version == 1
    alice.registry.delete("alice/hidden", version=1)
    assert labmate.registry.servable("alice/hidden").version == 2
    alice.registry.delete("alice/hidden", version=2)
    with pytest.raises(NotFoundError):
        labmate.registry.servable("alice/hidden")


def test_concurrent_publishers_and_lookups(make_hub: Callable[..., Any]) -> None:
    """Threads publish versions of one servable and resolve it at once (one catalog)."""
    hub = make_hub()
    db = ServableDatabase(hub._catalog)
    n = 8
    barrier = threading.Barrier(n)

    def publish(i: int) -> int:
        barrier.wait()
        row = db.publish(
            servable_id="ann/model",
            name="model",
            owner="ann",
            type="python",
            title=f"take {i}",
            artifact_sha=None,
            artifact_size=0,
            visible_to=["public"],
            runnable_by=["public"],
            stamp=lambda v: {"dlhub": {"version": v, "status": "published"}},
        )
        # every thread looks it up as a different principal (the statement cache is shared)
        seen = db.resolve_key(Principal(f"reader{i}", frozenset({f"g{i}"})), "model")
        assert seen[0] == "ann/model"
        return row.version

    with ThreadPoolExecutor(n) as threads:
        versions = sorted(threads.map(publish, range(n)))
    assert versions == list(range(1, n + 1))
    assert [r.version for r in db.versions("ann/model")] == versions
    assert db.resolve_key(Principal(None), "ann/model")[:3] == ("ann/model", n, "published")

    # two runs of the same inputs finish together: the output is remembered once, no error
    def remember(i: int) -> None:
        barrier.wait()
        db.remember("k" * 64, "ann/model", 1, f"{i:064x}")

    with ThreadPoolExecutor(n) as threads:
        list(threads.map(remember, range(n)))
    assert db.cached("k" * 64) in {f"{i:064x}" for i in range(n)}
    assert db.cached("x" * 64) is None
