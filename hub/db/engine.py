"""Opening the catalog database.  The only module that knows about dialects:
SQLite gets its WAL journal, foreign keys and busy timeout here, PostgreSQL its
connection pool, so the rest of the code is portable SQL that both run unchanged.
The schema is brought to the current revision by :func:`hub.db.migrate.upgrade`.

JSON documents are stored as strict JSON, the JSON PostgreSQL's ``jsonb``
accepts: ``NaN`` and infinities become ``null`` and NUL characters are dropped
from strings.  Both backends do this, so that a catalog holds the same documents
whichever database it is in.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import sessionmaker

#: Connections kept open per engine, and the extra ones allowed under load.  The
#: hub service runs many threads over one hub; a thread holds a connection only
#: for one transaction, and waits (up to ``POOL_TIMEOUT`` s) when all are busy.
POOL_SIZE = 10
MAX_OVERFLOW = 20
POOL_TIMEOUT = 30


def catalog_url(home: Path) -> str:
    return f"sqlite:///{home / 'catalog.sqlite'}"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


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
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=POOL_TIMEOUT,
        **kw,
    )


def open_engine(url: str, *, migrate: bool = True, **kw: Any) -> Engine:
    """An engine for ``url`` with the schema at the current revision (created if missing)."""
    from hub.db.migrate import upgrade

    engine = make_engine(url, **kw)
    if migrate:
        try:
            upgrade(engine)
        except BaseException:
            engine.dispose()
            raise
    return engine


def session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)
