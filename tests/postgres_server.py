"""A throwaway PostgreSQL server for the tests: Debian's binaries, a cluster in a
temporary folder, one loopback port and a unix socket in that folder.

``initdb`` and ``postgres`` refuse to run as root, so when the tests run as root
the cluster belongs to the ``postgres`` system user (the folder is handed to it
and the binaries run under its uid).  The server trusts local connections (it
listens on 127.0.0.1 and its own socket only), runs with ``fsync`` off (a test
cluster need not survive a power cut) and is stopped with ``pg_ctl -m immediate``;
a watchdog process stops it if the test session dies without doing so.

>>> with PostgresServer() as pg:          # doctest: +SKIP
...     url = pg.url(pg.create_database())
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

#: Where Debian puts the server binaries (``/usr/lib/postgresql/<major>/bin``).
DEBIAN_BINDIRS = "/usr/lib/postgresql/*/bin"
#: Set to a folder holding initdb, pg_ctl and postgres to use other binaries.
ENV_BINDIR = "MATTERHUB_PG_BINDIR"
SUPERUSER = "postgres"

#: Run beside the server: if the process that started it dies without stopping it
#: (SIGKILL, a CI job's timeout), stop the server (SIGQUIT: immediate shutdown)
#: and remove its folder.  argv: the owner's pid, the cluster's folder.
WATCHDOG = """
import os, shutil, signal, sys, time
owner, folder = int(sys.argv[1]), sys.argv[2]
while os.path.isdir(folder):
    try:
        os.kill(owner, 0)
    except ProcessLookupError:
        break
    except PermissionError:
        pass
    time.sleep(1)
else:
    sys.exit(0)
try:
    with open(os.path.join(folder, "data", "postmaster.pid")) as f:
        pid = int(f.readline())
    os.kill(pid, signal.SIGQUIT)
    for _ in range(300):
        os.kill(pid, 0)
        time.sleep(0.1)
except (OSError, ValueError):
    pass
shutil.rmtree(folder, ignore_errors=True)
"""


class PostgresUnavailable(RuntimeError):
    """The server cannot run here; the message says why and how to fix it."""


def find_bindir() -> Path:
    """The folder with ``initdb``, ``pg_ctl`` and ``postgres`` (newest Debian major first)."""
    candidates: list[str] = []
    if os.environ.get(ENV_BINDIR):
        candidates.append(os.environ[ENV_BINDIR])
    candidates += sorted(glob.glob(DEBIAN_BINDIRS), key=_major, reverse=True)
    which = shutil.which("pg_ctl")
    if which:
        candidates.append(str(Path(which).parent))
    for c in candidates:
        if all((Path(c) / exe).is_file() for exe in ("initdb", "pg_ctl", "postgres")):
            return Path(c)
    raise PostgresUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found in "
        f"{DEBIAN_BINDIRS} or on PATH: run `make system-deps` (Debian's postgresql package) "
        f"or set ${ENV_BINDIR}"
    )


def _major(path: str) -> int:
    try:
        return int(Path(path).parent.name)
    except ValueError:
        return 0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """A PostgreSQL cluster of its own, started by :meth:`start` and removed by :meth:`stop`.

    Parameters
    ----------
    settings
        Extra server settings (``-c name=value``), e.g. ``{"TimeZone": "UTC"}``.
    """

    #: Settings for speed (a test cluster is disposable) and for the many
    #: connections of a test session (every Hub has a pool).
    SETTINGS: dict[str, str] = {
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "max_connections": "300",
        "shared_buffers": "64MB",
        "listen_addresses": "127.0.0.1",
        # not UTC on purpose: the catalog must not rely on the server's time zone
        "TimeZone": "Asia/Kolkata",
        "log_min_messages": "warning",
    }

    def __init__(self, settings: dict[str, str] | None = None) -> None:
        self.bindir = find_bindir()
        self.settings = {**self.SETTINGS, **(settings or {})}
        self.dir: Path | None = None
        self.port: int | None = None
        self._run_as: dict[str, Any] = {}
        self._watchdog: subprocess.Popen[bytes] | None = None

    # -- lifecycle -------------------------------------------------------------------

    def __enter__(self) -> PostgresServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def data(self) -> Path:
        assert self.dir is not None, "the server is not started"
        return self.dir / "data"

    @property
    def socket_dir(self) -> Path:
        assert self.dir is not None, "the server is not started"
        return self.dir

    def start(self, attempts: int = 5) -> None:
        """initdb a cluster in a new temporary folder and start the server on a free port."""
        self.dir = Path(tempfile.mkdtemp(prefix="matterhub-pg-"))
        atexit.register(self.stop)  # also when the session dies before its teardown
        try:
            self._prepare_user()
            self._initdb()
            self._watchdog = subprocess.Popen(
                [sys.executable, "-c", WATCHDOG, str(os.getpid()), str(self.dir)],
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # outlives a killed process group too
            )
            for attempt in range(attempts):
                self.port = free_port()
                if self._pg_ctl_start():
                    return
                if attempt == attempts - 1:
                    raise PostgresUnavailable(f"PostgreSQL did not start; its log says:\n{self.log()}")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the server (immediate: nothing to keep) and remove its folder. Idempotent."""
        if self.dir is None:
            return
        if (self.data / "postmaster.pid").exists():
            self._run([self.bindir / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop"], check=False)
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None
        if self._watchdog is not None:
            self._watchdog.kill()
            self._watchdog.wait()
            self._watchdog = None
        atexit.unregister(self.stop)

    def log(self) -> str:
        try:
            return (self.socket_dir / "server.log").read_text()[-4000:]
        except OSError:
            return "(no log)"

    # -- databases -------------------------------------------------------------------

    def url(self, database: str = "postgres", driver: str = "postgresql+psycopg") -> str:
        """A SQLAlchemy URL over the loopback port."""
        return f"{driver}://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def socket_url(self, database: str = "postgres") -> str:
        """A SQLAlchemy URL over the unix socket in the cluster's folder."""
        return f"postgresql+psycopg://{SUPERUSER}@/{database}?host={self.socket_dir}&port={self.port}"

    def connect(self, database: str = "postgres") -> Any:
        """A psycopg connection in autocommit mode (CREATE/DROP DATABASE cannot run in a transaction)."""
        import psycopg

        return psycopg.connect(
            host="127.0.0.1", port=self.port, user=SUPERUSER, dbname=database, autocommit=True
        )

    def create_database(self, name: str | None = None, template: str | None = None) -> str:
        """A new empty database (a copy of ``template`` when given); returns its name."""
        name = name or f"t_{uuid.uuid4().hex[:16]}"
        sql = f'CREATE DATABASE "{name}"'
        if template:
            sql += f' TEMPLATE "{template}"'
        with self.connect() as conn:
            conn.execute(sql)
        return name

    def drop_database(self, name: str) -> None:
        """Drop ``name``, closing any connection a test left open."""
        with self.connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def databases(self) -> list[str]:
        with self.connect() as conn:
            rows = conn.execute("SELECT datname FROM pg_database WHERE NOT datistemplate").fetchall()
        return sorted(r[0] for r in rows)

    # -- internals -------------------------------------------------------------------

    def _prepare_user(self) -> None:
        """As root, hand the folder to the ``postgres`` user and run the binaries as it."""
        assert self.dir is not None
        if os.geteuid() != 0:
            return
        try:
            pw = pwd.getpwnam(SUPERUSER)
        except KeyError:
            raise PostgresUnavailable(
                "the tests run as root, and PostgreSQL refuses to run as root; no 'postgres' "
                "system user exists to run it as (Debian's postgresql package creates one)"
            ) from None
        os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self._run_as = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}

    def _run(self, cmd: list[Any], check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
        env.pop("PGDATA", None)
        proc = subprocess.run(
            [str(c) for c in cmd],
            capture_output=True,
            text=True,
            env=env,
            cwd=self.dir,
            timeout=120,
            **self._run_as,
        )
        if check and proc.returncode != 0:
            raise PostgresUnavailable(
                f"{Path(str(cmd[0])).name} failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout}"
            )
        return proc

    def _initdb(self) -> None:
        self._run(
            [
                self.bindir / "initdb",
                "-D",
                self.data,
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )

    def _pg_ctl_start(self) -> bool:
        options = [f"-p {self.port}", f"-k {self.socket_dir}"]
        options += [f"-c {k}={v}" for k, v in self.settings.items()]
        proc = self._run(
            [
                self.bindir / "pg_ctl",
                "-D",
                self.data,
                "-l",
                self.socket_dir / "server.log",
                "-o",
                " ".join(options),
                "-w",
                "-t",
                "60",
                "start",
            ],
            check=False,
        )
        return proc.returncode == 0


@contextlib.contextmanager
def running_server(**kw: Any) -> Iterator[PostgresServer]:
    server = PostgresServer(**kw)
    server.start()
    try:
        yield server
    finally:
        server.stop()
