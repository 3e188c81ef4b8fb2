"""``matterhub serve --workers 2`` over a PostgreSQL catalog: two API processes, one writer.

Each check talks to one API process at a time: a keep-alive connection stays with the
process that accepted it, found through ``/proc`` (which process holds the server's end
of the connection).  No timing assertion: what must happen within a bound is polled
with a deadline well past it.
"""

from __future__ import annotations

import http.client
import json
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psutil
import pytest
from click.testing import CliRunner

from hub import Hub
from hub.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reliability"))
from reliability_server import CIF, ServerProcess

#: Past the freshness bound (the writer's announcement, else the periodic reload).
DEADLINE_S = 60.0


class Pinned:
    """A keep-alive HTTP connection to one API process of the server."""

    def __init__(self, server: ServerProcess, token: str) -> None:
        self.server = server
        self.token = token
        self.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
        self.call("GET", "/api/info")
        self.pid = self._serving_pid()

    def _serving_pid(self) -> int:
        client = self.conn.sock.getsockname()
        for pid in self.server.api_processes():
            for c in psutil.Process(pid).net_connections(kind="tcp"):
                if c.raddr and (c.raddr.ip, c.raddr.port) == client[:2]:
                    return pid
        raise AssertionError(f"no API process holds the connection from {client}")

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=data, headers=headers)
        r = self.conn.getresponse()
        raw = r.read()
        return r.status, json.loads(raw) if raw else None

    def close(self) -> None:
        self.conn.close()


def pinned_pair(server: ServerProcess, token: str, timeout: float = 180.0) -> tuple[Pinned, Pinned]:
    """Two connections held by the two different API processes, that send ``token``.

    Connections are opened a few at once and held, until two processes hold one each (a
    process still starting, or busy, accepts none for a while).  Found anonymously: the
    caller's rate limit is not touched finding them.
    """
    deadline = time.monotonic() + timeout
    while True:
        with ThreadPoolExecutor(8) as threads:
            batch = list(threads.map(lambda _: Pinned(server, ""), range(8)))
        by_pid = {c.pid: c for c in batch}
        if len(by_pid) >= 2:
            one, other = list(by_pid.values())[:2]
            for c in batch:
                if c is not one and c is not other:
                    c.close()
            one.token = other.token = token
            return one, other
        for c in batch:
            c.close()
        assert time.monotonic() < deadline, f"every connection went to one API process for {timeout} s"
        time.sleep(0.5)


def started(home: Path, workdir: Path, catalog: str, env: dict[str, str] | None = None) -> ServerProcess:
    Hub(home, catalog=catalog, progress=False).close()  # the hub folder, its catalog on PostgreSQL
    args = ("--workers", "2", "--no-servable-containment")
    return ServerProcess(home, workdir, env=env, args=args).start()


@pytest.fixture(scope="module")
def cluster(
    postgres_server: Any, postgres_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServerProcess, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("workers")
    server = started(
        tmp / "hub",
        tmp / "server",
        postgres_server.url(postgres_server.create_database(template=postgres_template)),
    )
    try:
        tokens = server.add_users({"alice": ["servable-publishers"], "bob": []})
        yield server, tokens
    finally:
        server.stop()


def test_sqlite_refuses_more_than_one_worker(tmp_path: Path) -> None:
    catalog = f"sqlite:///{tmp_path / 'catalog.sqlite'}"  # whatever MATTERHUB_TEST_CATALOG says
    result = CliRunner().invoke(
        main, ["--hub", str(tmp_path / "hub"), "serve", "--catalog", catalog, "--workers", "2"]
    )
    assert result.exit_code == 2
    assert "--workers 2 needs a PostgreSQL catalog" in result.output
    assert "--catalog postgresql+psycopg://" in result.output


def test_two_api_processes_and_one_writer(cluster: tuple[ServerProcess, dict[str, str]]) -> None:
    server, _ = cluster
    api = server.api_processes()
    assert len(api) == 2
    assert all(psutil.Process(p).ppid() == server.pid for p in api)


def test_a_commit_through_one_process_is_found_through_the_other(
    cluster: tuple[ServerProcess, dict[str, str]], tmp_path: Path
) -> None:
    server, tokens = cluster
    one, other = pinned_pair(server, tokens["alice"])
    # a submission: queued through one process, run by the writer, searched through the other
    src = tmp_path / "src"
    src.mkdir()
    (src / "Cu.cif").write_bytes(CIF)
    remote = Hub(server.url, token=tokens["alice"], progress=False)
    sub = remote.submit(src, title="Copper for freshness", authors=["Ward, Logan"], visible_to=["public"])
    assert sub.status == "complete", sub.message
    deadline = time.monotonic() + DEADLINE_S
    for conn in (one, other):
        while True:
            status, body = conn.call(
                "POST", "/api/search", {"q": '"Copper for freshness"', "kinds": ["dataset"]}
            )
            assert status == 200, body
            if body["total"] == 1:
                break
            assert time.monotonic() < deadline, f"process {conn.pid} did not see the commit"
            time.sleep(0.05)
    # a change made by an API process (the writer applies it to the index): found through the other
    status, body = one.call("PATCH", f"/api/datasets/{sub.source_id}", {"title": "Copper renamed"})
    assert status == 200, body
    while True:
        status, body = other.call("POST", "/api/search", {"q": '"Copper renamed"', "kinds": ["dataset"]})
        if status == 200 and body["total"] == 1:
            break
        assert time.monotonic() < deadline, (
            f"process {other.pid} did not see the change within {DEADLINE_S} s"
        )
        time.sleep(0.05)
    remote.close()
    one.close()
    other.close()


def test_a_revoked_token_stops_working_in_the_other_process(
    cluster: tuple[ServerProcess, dict[str, str]],
) -> None:
    server, _ = cluster
    new = server.add_users({"carol": []})["carol"]
    one, other = pinned_pair(server, new)
    assert other.call("GET", "/api/info")[0] == 200  # remembered by the other process now
    status, mine = one.call("GET", "/api/tokens?user=carol")
    assert status == 200, mine
    for t in mine:
        assert one.call("DELETE", f"/api/tokens/{t['id']}")[0] in (200, 204)
    deadline = time.monotonic() + DEADLINE_S
    while other.call("GET", "/api/info")[0] != 401:
        assert time.monotonic() < deadline, "the other process kept accepting a revoked token"
        time.sleep(0.05)
    one.close()
    other.close()


def test_runs_go_to_the_writers_one_pool(cluster: tuple[ServerProcess, dict[str, str]]) -> None:
    server, tokens = cluster
    remote = Hub(server.url, token=tokens["alice"], progress=False)

    def triple(x: float) -> float:
        return 3.0 * x

    servable = remote.publish_servable(remote.describe(triple, name="triple"))
    remote.close()
    one, other = pinned_pair(server, tokens["bob"])
    for conn in (one, other):
        status, body = conn.call("POST", f"/api/servables/{servable}/run", {"inputs": 2.0})
        assert status == 200 and body["output"] == 6.0, body
    api = set(server.api_processes())
    for pid in api:  # no API process runs a pool of its own
        assert not psutil.Process(pid).children(recursive=True), pid
    pool = [p for p in psutil.Process(server.pid).children() if p.pid not in api]
    assert any("hub.servables.worker" in " ".join(p.cmdline()) for p in pool)
    one.close()
    other.close()


def test_rate_limits_hold_summed_over_both_processes(
    postgres_server: Any, postgres_template: str, tmp_path: Path
) -> None:
    burst, rate = 12, 0.5
    env = {"MATTERHUB_SERVICE_RATE_LIMIT": str(rate), "MATTERHUB_SERVICE_RATE_BURST": str(burst)}
    catalog = postgres_server.url(postgres_server.create_database(template=postgres_template))
    server = started(tmp_path / "hub", tmp_path / "server", catalog, env)
    try:
        token = server.add_users({"dave": []})["dave"]  # as the admin: dave's bucket is untouched
        one, other = pinned_pair(server, token)
        granted = {one.pid: 0, other.pid: 0}
        refused = 0
        t0 = time.monotonic()
        for i in range(4 * burst):
            conn = (one, other)[i % 2]
            status, _ = conn.call("GET", "/api/info")
            if status == 200:
                granted[conn.pid] += 1
            else:
                assert status == 429
                refused += 1
        elapsed = time.monotonic() - t0
        # a bucket per process would let 2 * burst through; the shared one burst and its refill
        assert sum(granted.values()) <= burst + rate * elapsed + 1, (granted, elapsed)
        assert all(granted.values()) and refused, (granted, refused)
        one.close()
        other.close()
    finally:
        server.stop()
