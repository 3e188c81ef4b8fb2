"""Inserting many rows at once: a dataset's files and records.

Core ``executemany`` everywhere (SQLite's executemany; psycopg's pipelined
executemany on PostgreSQL), and PostgreSQL's ``COPY ... FROM STDIN`` when there
are many rows: measured here about twice as fast as the pipelined executemany for
20,000 records, itself faster than SQLAlchemy's "insertmanyvalues" batches.
Values go through the columns' SQLAlchemy types either way (JSON documents are
serialized by the engine's ``json_serializer``), inside the caller's
transaction, and a violated constraint is the same ``sqlalchemy.exc.IntegrityError``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Connection, Table, insert
from sqlalchemy import exc as sa_exc

#: From this many rows on, PostgreSQL gets a COPY.
COPY_THRESHOLD = 500


def insert_many(conn: Connection, entity: type[Any] | Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` into the table of ``entity`` in the connection's current transaction.

    ``entity`` is a mapped class or a Table; ``rows`` are dicts with the same keys.  From
    :data:`COPY_THRESHOLD` rows on, PostgreSQL through psycopg gets a COPY, when the rows
    give every column that has a Python-side default; otherwise an executemany INSERT.
    """
    table = entity if isinstance(entity, Table) else cast(Table, entity.__table__)
    if not rows:
        return
    if len(rows) >= COPY_THRESHOLD and _can_copy(conn, table, rows[0].keys()):
        _copy(conn, table, rows)
    else:
        conn.execute(insert(table), list(rows))


def _can_copy(conn: Connection, table: Table, keys: Any) -> bool:
    if conn.dialect.name != "postgresql" or conn.dialect.driver != "psycopg":
        return False
    # COPY applies no Python-side defaults: every column that has one must be given
    return all(c.name in keys for c in table.columns if c.default is not None)


def _copy(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    import psycopg

    dialect = conn.dialect
    names = list(rows[0].keys())
    columns = [table.c[n] for n in names]
    processors = [c.type._cached_bind_processor(dialect) for c in columns]
    quote = dialect.identifier_preparer.quote
    sql = f"COPY {quote(table.name)} ({', '.join(quote(n) for n in names)}) FROM STDIN"
    raw = conn.connection.driver_connection
    assert raw is not None
    try:
        with raw.cursor() as cur, cur.copy(sql) as copy:
            for row in rows:
                copy.write_row(
                    [p(row[n]) if p is not None else row[n] for n, p in zip(names, processors, strict=True)]
                )
    except psycopg.errors.IntegrityError as exc:
        raise sa_exc.IntegrityError(sql, None, exc) from exc
    except psycopg.errors.DataError as exc:
        raise sa_exc.DataError(sql, None, exc) from exc
