"""Fixtures for the servable tests: one worker pool for the whole session (started
once; tests count its runs and replacements as deltas), one hub folder per module,
and the servable parts of a hub (registry, runs, tasks) acting as different
principals over it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hub import Hub
from hub.db.database import Database
from hub.index.engine import SearchIndex
from hub.servables.executors import Executor, LocalExecutor
from hub.servables.parts import ServableParts
from hub.servables.pool import WorkerPool
from hub.store.blobs import BlobStore

PartsFactory = Callable[..., ServableParts]


@pytest.fixture(scope="session")
def pool() -> Iterator[WorkerPool]:
    p = WorkerPool(2, max_loaded=4)
    p.start()
    yield p
    p.close()


@pytest.fixture(scope="module")
def servable_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("servables-hub")


class PartsMaker:
    """``maker(hub, executor)``: the servable parts over ``hub``'s catalog, store and index
    (opened from its configuration) as its principal, running on ``executor``;
    :meth:`close` closes every one made."""

    def __init__(self) -> None:
        self.made: list[tuple[ServableParts, Database]] = []

    def __call__(self, hub: Hub, executor: Executor) -> ServableParts:
        config = hub.config
        catalog = Database(config.catalog)
        parts = ServableParts(
            catalog,
            BlobStore(config.store),
            SearchIndex(config.index),
            hub.principal,
            config.home,
            executor=executor,
        )
        self.made.append((parts, catalog))
        return parts

    def close(self) -> None:
        for parts, catalog in reversed(self.made):
            parts.close()
            catalog.close()
        self.made.clear()


@pytest.fixture()
def parts_of() -> Iterator[PartsMaker]:
    """:class:`PartsMaker` for one test."""
    maker = PartsMaker()
    yield maker
    maker.close()


@pytest.fixture(scope="module")
def module_parts_of() -> Iterator[PartsMaker]:
    """:class:`PartsMaker` for a module."""
    maker = PartsMaker()
    yield maker
    maker.close()


@pytest.fixture(scope="module")
def parts_as(servable_home: Path, pool: WorkerPool, module_parts_of: PartsMaker) -> Iterator[PartsFactory]:
    """``parts_as("alice", groups=["lab"])``: the servable parts of the module's hub as that user."""
    hubs: list[Hub] = []

    def make(user: str = "alice", groups: tuple[str, ...] = ()) -> ServableParts:
        hub = Hub(servable_home, user=user, groups=list(groups) or None, progress=False)
        hubs.append(hub)
        return module_parts_of(hub, LocalExecutor(pool))

    yield make
    for hub in hubs:
        hub.close()


@pytest.fixture(scope="module")
def alice(parts_as: PartsFactory) -> ServableParts:
    return parts_as("alice")
