"""Fixtures of the reliability checks: ``matterhub serve`` as a real subprocess
(:mod:`reliability_server`), stopped after the test whatever happened, and the marker
``reliability`` for the long runs (deselected unless ``MATTERHUB_RELIABILITY=1``; each
long check has a short version in the default suite)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from reliability_server import ServerProcess, long_run


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the long runs unless MATTERHUB_RELIABILITY=1 (``make reliability``)."""
    if long_run():
        return
    long = [i for i in items if i.get_closest_marker("reliability") is not None]
    if long:
        config.hook.pytest_deselected(items=long)
        items[:] = [i for i in items if i.get_closest_marker("reliability") is None]


def pytest_configure(config: pytest.Config) -> None:
    # registered here too, so `--strict-markers` accepts it before pyproject.toml lists it
    config.addinivalue_line("markers", "reliability: long reliability runs (make reliability)")


@pytest.fixture()
def server_factory(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """``server_factory(home=None, env=None, args=())``: a started ``matterhub serve``; every
    server made is stopped (its workers too) when the test ends, passed or failed."""
    made: list[ServerProcess] = []

    def make(home: Path | None = None, env: dict[str, str] | None = None, args: tuple[str, ...] = ()) -> Any:
        n = len(made)
        server = ServerProcess(home or tmp_path / f"hub{n}", tmp_path / f"server{n}", env=env, args=args)
        made.append(server)
        return server.start()

    try:
        yield make
    finally:
        for server in made:
            server.stop()
