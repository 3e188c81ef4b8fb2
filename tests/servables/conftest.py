"""Fixtures for the servable tests: one worker pool for the whole session (started
once; tests count its runs and replacements as deltas), one hub folder per module,
and services acting as different principals over it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hub import Hub
from hub.servables.executors import LocalExecutor
from hub.servables.pool import WorkerPool
from hub.servables.service import ServableService

ServiceFactory = Callable[..., ServableService]


@pytest.fixture(scope="session")
def pool() -> Iterator[WorkerPool]:
    p = WorkerPool(2, max_loaded=4)
    p.start()
    yield p
    p.close()


@pytest.fixture(scope="module")
def servable_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("servables-hub")


@pytest.fixture(scope="module")
def service_as(servable_home: Path, pool: WorkerPool) -> Iterator[ServiceFactory]:
    """``service_as("alice", groups=["lab"])``: a ServableService over the module's hub as that user."""
    made: list[tuple[Hub, ServableService]] = []

    def make(user: str = "alice", groups: tuple[str, ...] = ()) -> ServableService:
        hub = Hub(servable_home, user=user, groups=list(groups) or None, progress=False)
        svc = ServableService.from_hub(hub, executor=LocalExecutor(pool))
        made.append((hub, svc))
        return svc

    yield make
    for hub, svc in made:
        svc.close()
        hub.close()


@pytest.fixture(scope="module")
def alice(service_as: ServiceFactory) -> ServableService:
    return service_as("alice")
