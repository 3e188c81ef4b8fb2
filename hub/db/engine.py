"""Opening the catalog database.

The only module that knows about dialects: SQLite gets its WAL journal, foreign keys
and busy timeout here, PostgreSQL its connection pool (idle connections checked before
use) and autocommit reads (:func:`read_engine`), so the rest of the code is portable
SQL that both run unchanged.
The schema is brought to the current revision by :func:`hub.db.migrate.upgrade`.

JSON documents are stored as strict JSON, the JSON PostgreSQL's ``jsonb``
accepts: ``NaN`` and infinities become ``null`` and NUL characters are dropped
from strings.  Both backends do this, so that a catalog holds the same documents
whichever database it is in.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, sessionmaker

from hub.exceptions import ConfigurationError

ENV_AUTO_UPGRADE = "MATTERHUB_DB_AUTO_UPGRADE"

#: Connections kept open per engine, and the extra ones allowed under load.  The
#: hub service runs many threads over one hub; a thread holds a connection only
#: for one transaction, and waits (up to ``POOL_TIMEOUT`` s) when all are busy.
POOL_SIZE = 10
MAX_OVERFLOW = 20
POOL_TIMEOUT = 30
#: A PostgreSQL connection idle in the pool for longer than this is checked
#: (``SELECT 1``) before use, and replaced if the server dropped it (a restart,
#: an idle timeout).  Busy connections are not pinged: a ping is a round trip,
#: as much as a small query costs.
IDLE_PING_S = 10.0


def catalog_url(home: Path) -> str:
    """The URL of the SQLite catalog of the hub folder ``home`` (its ``catalog.sqlite``)."""
    return f"sqlite:///{home / 'catalog.sqlite'}"


#: How long a new SQLite connection retries switching the file to WAL while another holds it.
WAL_SWITCH_TIMEOUT_S = 30.0


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout=30000")
    _use_wal(cur)
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _use_wal(cur: Any) -> None:
    """Put the database file in WAL mode (once per file; a no-op when it is already).

    Switching needs the file to itself, and SQLite answers "database is locked" at once,
    without its busy handler, when another connection holds it (hubs opening a new
    catalog at the same moment): so wait here, a few milliseconds at a time.
    """
    deadline = time.monotonic() + WAL_SWITCH_TIMEOUT_S
    delay = 0.002
    while True:
        try:
            (mode,) = cur.execute("PRAGMA journal_mode").fetchone()
            if str(mode).lower() != "wal":
                cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.1)


def _checked_in(_dbapi_conn: Any, record: Any) -> None:
    record.info["checked_in_at"] = time.monotonic()


def _ping_if_idle(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
    last = record.info.get("checked_in_at")
    if last is None or time.monotonic() - last < IDLE_PING_S:
        return
    try:
        cur = dbapi_conn.cursor()
        cur.execute("SELECT 1")
        cur.close()
        dbapi_conn.rollback()
    except Exception as exc:  # the pool replaces the connection and tries again
        raise sa_exc.DisconnectionError(f"a pooled connection was dropped by the server: {exc}") from exc


def _strict(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_strict(str(k)): _strict(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_strict(v) for v in value]
    return value


def json_dumps(value: Any) -> str:
    """Strict JSON text of ``value`` (see the module docstring)."""
    try:
        text = json.dumps(value, allow_nan=False)
    except ValueError:  # NaN or an infinity somewhere
        return json.dumps(_strict(value), allow_nan=False)
    if "\\u0000" in text:
        return json.dumps(_strict(value), allow_nan=False)
    return text


def make_engine(url: str, *, pool_size: int = POOL_SIZE, max_overflow: int = MAX_OVERFLOW) -> Engine:
    """An engine for ``url`` with this module's settings, without touching the schema."""
    parsed = make_url(url)
    kw: dict[str, Any] = {"json_serializer": json_dumps}
    if parsed.get_backend_name() == "sqlite":
        memory = parsed.database in (None, "", ":memory:")
        if not memory:
            kw.update(pool_size=pool_size, max_overflow=max_overflow, pool_timeout=POOL_TIMEOUT)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kw)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(
        url, pool_size=pool_size, max_overflow=max_overflow, pool_timeout=POOL_TIMEOUT, **kw
    )
    event.listen(engine, "checkin", _checked_in)
    event.listen(engine, "checkout", _ping_if_idle)
    return engine


def read_engine(engine: Engine) -> Engine:
    """``engine`` for reads: on PostgreSQL in autocommit mode, ``engine`` itself on SQLite.

    In autocommit mode a read is one round trip (no BEGIN and ROLLBACK around it);
    SQLite reads are like that already.  Shares ``engine``'s pool.  Never write through
    it: use a transaction of ``engine``.
    """
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    return engine


def auto_upgrade() -> bool:
    """Whether opening a catalog upgrades its schema (``$MATTERHUB_DB_AUTO_UPGRADE``, default on).

    A shared deployment may turn it off (``0``) to upgrade only on purpose, with
    ``matterhub db upgrade``; a hub then refuses a catalog that is behind.
    """
    return os.environ.get(ENV_AUTO_UPGRADE, "1").strip().lower() not in ("0", "false", "no", "off")


def open_engine(url: str, *, migrate: bool | None = None, **kw: Any) -> Engine:
    """An engine for ``url`` with the schema at the current revision (created if missing).

    ``migrate=False`` (default: :func:`auto_upgrade`) only checks that the schema is
    at the current revision.

    Raises
    ------
    ConfigurationError
        When upgrades are off and the schema is not at the current revision.
    """
    from hub.db import migrate as migrations

    engine = make_engine(url, **kw)
    try:
        if migrate if migrate is not None else auto_upgrade():
            migrations.upgrade(engine)
        else:
            rev, head = migrations.current(engine), migrations.head()
            if rev != head:
                raise ConfigurationError(
                    f"the catalog {engine.url.render_as_string(hide_password=True)} is at schema revision "
                    f"{rev or '(none)'} and this MatterHub needs {head}; automatic upgrades are off "
                    f"(${ENV_AUTO_UPGRADE}=0): run `matterhub db upgrade` (or set ${ENV_AUTO_UPGRADE}=1)"
                )
    except BaseException:
        engine.dispose()
        raise
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory for ``engine``; its sessions keep objects loaded after a commit."""
    return sessionmaker(engine, expire_on_commit=False)
