"""A live hub service for the tests: one embedded hub (the truth), served by a real uvicorn
on a loopback port, with users alice (group lab), bob and carol (curators), and tokens.

``as_user(kind, name)`` opens the hub as a principal, either embedded (``Hub(path,
token=...)``) or remote (``Hub("http://...", token=...)``): the same tests run through
both and must see the same things.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hub import Hub
from hub.service import create_app
from hub.service.testing import LiveServer

USERS = {"alice": ["lab"], "bob": [], "carol": ["curators"], "root": ["admin"]}


class Service:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.hub = Hub(home, progress=False)
        self.tokens: dict[str, str] = {}
        for name, groups in USERS.items():
            self.hub.users.ensure_user(name, groups)
            self.tokens[name], _ = self.hub.users.create_token(self.hub.principal, name, label="tests")
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
        assert self.app.state.submissions.wait_idle(120)

    def close(self) -> None:
        for h in self._opened:
            h.close()
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
