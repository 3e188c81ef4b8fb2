"""The test harness's PostgreSQL server (tests/postgres_server.py)."""

from __future__ import annotations

import socket
from pathlib import Path

import postgres_server as pgs
import psycopg
import pytest
import sqlalchemy as sa
from postgres_server import PostgresServer, PostgresUnavailable


def test_port_socket_and_databases(postgres_server: PostgresServer) -> None:
    name = postgres_server.create_database()
    try:
        assert name in postgres_server.databases()
        for url in (postgres_server.url(name), postgres_server.socket_url(name)):
            engine = sa.create_engine(url)
            with engine.connect() as conn:
                assert conn.execute(sa.text("SELECT current_database()")).scalar() == name
                assert conn.execute(sa.text("SHOW fsync")).scalar() == "off"
            engine.dispose()
        left_open = postgres_server.connect(name)  # a test that forgot to close its hub
    finally:
        postgres_server.drop_database(name)
    assert name not in postgres_server.databases()
    assert left_open.closed or left_open.broken or _is_dead(left_open)


def _is_dead(conn: psycopg.Connection) -> bool:
    try:
        conn.execute("SELECT 1")
    except psycopg.OperationalError:
        return True
    return False


def test_a_server_is_gone_after_stop() -> None:
    try:
        server = PostgresServer()
        server.start()
    except PostgresUnavailable as exc:
        pytest.skip(str(exc))
    folder, port = server.dir, server.port
    assert folder is not None and (folder / "data" / "postmaster.pid").exists()
    server.stop()
    server.stop()  # idempotent
    assert not folder.exists()
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port or 0)) != 0, "nothing listens on the port any more"


def test_missing_binaries_say_how_to_install_them(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(pgs, "DEBIAN_BINDIRS", str(tmp_path / "none" / "*" / "bin"))
    monkeypatch.setenv(pgs.ENV_BINDIR, str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PostgresUnavailable, match="make system-deps"):
        pgs.find_bindir()


def test_a_killed_session_leaves_no_server(tmp_path: Path) -> None:
    """The process that started a server is SIGKILLed: the watchdog stops the server."""
    import os
    import signal
    import subprocess
    import sys
    import time

    pytest.importorskip("psycopg")
    try:
        pgs.find_bindir()
    except PostgresUnavailable as exc:
        pytest.skip(str(exc))
    script = (
        "import sys, time; sys.path.insert(0, sys.argv[1]); from postgres_server import PostgresServer; "
        "s = PostgresServer(); s.start(); print(s.dir, s.port, flush=True); time.sleep(600)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(Path(pgs.__file__).parent)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        folder, port = proc.stdout.readline().split()
        assert Path(folder, "data", "postmaster.pid").exists()
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    for _ in range(600):  # the watchdog looks once a second; give it a minute on a busy machine
        if not Path(folder).exists():
            break
        time.sleep(0.1)
    assert not Path(folder).exists(), "the folder was removed"
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", int(port))) != 0, "nothing listens on the port any more"
