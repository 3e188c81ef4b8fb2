"""Runs on a dask.distributed cluster: a LocalCluster with one worker process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.tree import DecisionTreeClassifier

from hub import Hub
from hub.exceptions import ServableRunError, ServableTimeoutError
from hub.servables.executors import DaskExecutor, executor_from
from hub.servables.parts import ServableParts

distributed = pytest.importorskip("distributed")

X, Y = load_iris(return_X_y=True)
TREE = DecisionTreeClassifier(random_state=0).fit(X, Y)


def where_am_i(x: float) -> int:
    import os

    return os.getpid()


def nap(x: float) -> float:
    import time

    time.sleep(30)
    return x


def fail(x: float) -> float:
    raise RuntimeError("no")


@pytest.fixture(scope="module")
def cluster() -> Iterator[object]:
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None, memory_limit="2GiB"
    ) as c:
        yield c


@pytest.fixture(scope="module")
def on_dask(
    servable_home: Path, cluster: object, module_parts_of: Callable[..., ServableParts]
) -> Iterator[ServableParts]:
    hub = Hub(servable_home, user="dana", progress=False)
    client = distributed.Client(cluster)
    executor = executor_from(client)
    assert isinstance(executor, DaskExecutor)
    yield module_parts_of(hub, executor)
    executor.close()
    client.close()
    hub.close()


def test_run_on_a_local_cluster(on_dask: ServableParts) -> None:
    name = on_dask.registry.publish(on_dask.registry.describe(TREE, name="tree"))
    np.testing.assert_array_equal(on_dask.run(name, X[:10]), TREE.predict(X[:10]))
    batch = on_dask.run(name, [X[:2], X[100:103]])
    assert [b.tolist() for b in batch] == [TREE.predict(X[:2]).tolist(), TREE.predict(X[100:103]).tolist()]
    task = on_dask.run(name, X[50:52], asynchronous=True).wait(60)
    assert task.status == "completed" and task.result.tolist() == [1, 1]


def test_dask_runs_are_in_the_cluster_worker(on_dask: ServableParts) -> None:
    import os

    name = on_dask.registry.publish(on_dask.registry.describe(where_am_i))
    pid = on_dask.run(name, 1.0)
    executor = on_dask.executor
    assert isinstance(executor, DaskExecutor)
    worker_pids = set(executor.client.run(os.getpid).values())
    assert pid != os.getpid() and pid in worker_pids


def test_dask_errors_and_timeouts(on_dask: ServableParts) -> None:
    with pytest.raises(ServableRunError, match="raised RuntimeError: no"):
        on_dask.run(on_dask.registry.publish(on_dask.registry.describe(fail)), 1.0)
    with pytest.raises(
        ServableTimeoutError,
        match="timeout of 1 s on the Dask cluster; it was cancelled and its worker restarted",
    ):
        on_dask.run(on_dask.registry.publish(on_dask.registry.describe(nap)), 1.0, timeout=1)
    assert on_dask.run("dana/tree", X[:1]).tolist() == [0]  # the cluster recovered


def test_executor_from_settings(monkeypatch: pytest.MonkeyPatch, cluster: object) -> None:
    address = cluster.scheduler_address  # type: ignore[attr-defined]
    ex = executor_from("dask://" + address.removeprefix("tcp://"))
    try:
        assert isinstance(ex, DaskExecutor)
    finally:
        ex.close()
    from hub.exceptions import ConfigurationError

    with pytest.raises(ConfigurationError, match="'ray://x' is not understood"):
        executor_from("ray://x")
