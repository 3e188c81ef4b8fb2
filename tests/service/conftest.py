"""A live hub service for the tests: one embedded hub (the truth), served by a real uvicorn
on a loopback port, with users alice (group lab), bob and carol (curators), and tokens.

``as_user(kind, name)`` opens the hub as a principal, either embedded (``Hub(path,
token=...)``) or remote (``Hub("http://...", token=...)``): the same tests run through
both and must see the same things.

``MATTERHUB_TEST_SERVE_WORKERS=2`` (with ``MATTERHUB_TEST_CATALOG=postgresql``, or
against a cluster started by ``make cluster-test``) serves the same hub with
``matterhub serve --workers 2`` instead, a real subprocess: two API processes and one
writer over the PostgreSQL catalog, so the whole suite runs against the multi-process
deployment; ``MATTERHUB_TEST_SERVE_EXECUTOR=dask://host:port`` runs its servables on that
Dask cluster.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hub import Hub
from hub.db.notify import is_postgresql
from hub.service import create_app
from hub.service.testing import LiveServer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reliability"))
from reliability_server import ServerProcess

USERS = {"alice": ["lab"], "bob": [], "carol": ["curators"], "root": ["admin"]}
#: API processes of the served hub (1: create_app in this process; more: matterhub serve --workers N).
ENV_WORKERS = "MATTERHUB_TEST_SERVE_WORKERS"
#: Where the served hub runs servables (``dask://host:port``; default its own pool).
ENV_EXECUTOR = "MATTERHUB_TEST_SERVE_EXECUTOR"


class Service:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.hub = Hub(home, progress=False)
        self.tokens: dict[str, str] = {}
        for name, groups in USERS.items():
            self.hub.users.ensure_user(name, groups)
            self.tokens[name], _ = self.hub.users.create_token(self.hub.principal, name, label="tests")
        workers = int(os.environ.get(ENV_WORKERS, "1"))
        self.process: ServerProcess | None = None
        if workers > 1:
            if not is_postgresql(self.hub.config.catalog):
                self.hub.close()
                pytest.skip(f"{ENV_WORKERS}={workers} needs MATTERHUB_TEST_CATALOG=postgresql")
            # as the in-process service: uncontained workers, every signed-in user publishes
            args = (
                "--workers",
                str(workers),
                "--no-servable-containment",
                "--servable-publishers",
                "signed-in",
            )
            if os.environ.get(ENV_EXECUTOR):  # a Dask cluster (make cluster-test)
                args += ("--executor", os.environ[ENV_EXECUTOR])
            self.process = ServerProcess(home, home.parent / f"{home.name}-server", args=args).start()
            self.url = self.process.url
        else:
            self.app = create_app(self.hub)
            self.server = LiveServer(self.app).start()
            self.url = self.server.url
        self._opened: list[Any] = []

    def open(self, kind: str, name: str | None) -> Any:
        token = self.tokens[name] if name else None
        if kind == "remote":
            h = Hub(self.url, token=token, progress=False)
            self._opened.append(h)
            return h
        if name is None:
            from hub.access import Principal

            return self.hub.acting_as(Principal(None))
        return self.hub.acting_as(self.hub.users.authenticate(token))

    def wait_idle(self) -> None:
        if self.process is None:
            assert self.app.state.submissions.wait_idle(120)
            return
        deadline = time.monotonic() + 120  # the writer process runs them: ask the catalog
        while any(s.status in ("queued", "running") for s in self.hub.submissions()):
            assert time.monotonic() < deadline, "submissions still queued or running after 120 s"
            time.sleep(0.05)

    def close(self) -> None:
        for h in self._opened:
            h.close()
        if self.process is not None:
            self.process.stop()
        else:
            self.server.stop()
        self.hub.close()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    svc = Service(tmp_path_factory.mktemp("service-hub"))
    try:
        yield svc
    finally:
        svc.close()


@pytest.fixture(params=["embedded", "remote"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture()
def as_user(service: Service, kind: str) -> Callable[[str | None], Any]:
    return lambda name: service.open(kind, name)
