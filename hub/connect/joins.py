"""Table joins of a submission's mapping: a table's columns added to the records of other files.

A mapping value of the form ``"TABLE:COLUMN by KEY"`` is a join, not a column of each
table's rows::

    {"custom.b3lyp_u0": "Energy_GDB_data.txt:E0 by filename"}

gives each record the ``E0`` of the row of ``Energy_GDB_data.txt`` (a file of the
submission) whose ``filename`` names one of the record's files: the two names match when
their stems (the name up to its first dot) are equal, so ``acid-aceticacid.in.out`` is the
row of ``acid-aceticacid.xyz``.  Tables are read with :func:`hub.formats.tables.read_table`
(CSV, TSV, Excel, ...) or, for other suffixes, as whitespace-separated text.

A join naming a table the submission does not hold, or a column the table does not have,
is a :class:`~hub.exceptions.MappingError` saying what is there.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from hub.exceptions import MappingError
from hub.extractors.mapping import MISSING, plain_value

_JOIN = re.compile(r"^(?P<table>[^:]+):(?P<column>.+?) by (?P<key>.+)$")


@dataclass(frozen=True)
class TableJoin:
    """One record field filled from a table's column, matched by a key column.

    Parameters
    ----------
    target
        The record field path (``custom.b3lyp_u0``).
    table
        The table's path inside the submission.
    column, key
        The column giving the value, and the column naming each row's file.
    """

    target: str
    table: str
    column: str
    key: str


def split_mapping(mapping: Mapping[str, str] | None) -> tuple[dict[str, str] | None, list[TableJoin]]:
    """(the mapping without its joins, or None when nothing is left; the joins)."""
    if not mapping:
        return None, []
    plain: dict[str, str] = {}
    joins: list[TableJoin] = []
    for target, source in mapping.items():
        m = _JOIN.match(source)
        if m:
            joins.append(TableJoin(target, m["table"].strip(), m["column"].strip(), m["key"].strip()))
        else:
            plain[target] = source
    return plain or None, joins


def stem(name: str) -> str:
    """A file name up to its first dot (``a/b.in.out`` -> ``b``)."""
    return PurePosixPath(name).name.split(".", 1)[0]


def read_join_table(path: Path) -> Any:
    """The table at ``path`` as a DataFrame (whitespace-separated text for non-table suffixes)."""
    import pandas as pd

    from hub.formats.tables import read_table, table_format

    if table_format(path) is not None:
        return read_table(path)
    return pd.read_csv(path, sep=r"\s+", comment="#")


def apply_joins(
    bodies: Sequence[tuple[dict[str, Any], list[str]]], joins: Sequence[TableJoin], root: Path
) -> list[tuple[dict[str, Any], list[str]]]:
    """``bodies`` (record bodies and their extractors) with each join's value set where a row fits.

    Raises
    ------
    MappingError
        When a join's table is not under ``root`` or lacks the column or the key.
    """
    values = [(j, _values_by_stem(j, root)) for j in joins]
    out = []
    for body, names in bodies:
        stems = {stem(str(f.get("path") or f.get("filename") or "")) for f in body.get("files") or []}
        for join, by_stem in values:
            hit = next((by_stem[s] for s in sorted(stems) if s in by_stem), None)
            if hit is not None:
                body = _with(body, join.target.split("."), hit)
        out.append((body, names))
    return out


def _values_by_stem(join: TableJoin, root: Path) -> dict[str, Any]:
    path = root / join.table
    if not path.is_file():
        files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
        near = difflib.get_close_matches(join.table, files, n=1)
        raise MappingError(
            f"the mapping joins {join.table!r}, which is not a file of the submission"
            + (f"; did you mean {near[0]!r}?" if near else "")
        )
    frame = read_join_table(path)
    for col in (join.column, join.key):
        if col not in frame.columns:
            near = difflib.get_close_matches(col, list(map(str, frame.columns)), n=1)
            raise MappingError(
                f"{join.table} has no column {col!r}"
                + (f"; did you mean {near[0]!r}?" if near else "")
                + f" (its columns: {', '.join(map(str, frame.columns))})"
            )
    out: dict[str, Any] = {}
    for key, value in zip(frame[join.key], frame[join.column], strict=True):
        plain = plain_value(value)
        if plain is not MISSING:
            out.setdefault(stem(str(key)), plain)
    return out


def _with(body: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    """A copy of ``body`` with ``value`` at ``path`` (a value already there wins)."""
    head, *rest = path
    if not rest:
        return body if body.get(head) is not None else {**body, head: value}
    inner = body.get(head)
    return {**body, head: _with(dict(inner) if isinstance(inner, Mapping) else {}, rest, value)}
