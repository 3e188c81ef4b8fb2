"""Globus Search filters as clauses of the hub's query language.

``match_all`` requires every value, ``match_any`` one of them; ``range`` takes
``from``/``to`` (both inclusive, ``"*"`` for no bound) or ``gte``/``gt``/``lte``/``lt``,
and a document matches when one of the ranges holds one of its values; ``exists``,
``not``, ``and`` and ``or`` combine them.  The clauses are ANDed to the query, so a
filter obeys the same rules as the query itself (access control included).
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Iterable, Sequence
from typing import Any

from hub.forge import quote
from hub.index.query import number_text
from hub.service.globus.errors import GlobusRequestError
from hub.service.globus.models import (
    BoolFilter,
    ExistsFilter,
    GFilter,
    MatchFilter,
    NotFilter,
    RangeFilter,
    RangeValue,
)

_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def field_path(name: str) -> str:
    """A field name as the hub writes it (a dotted path), or a clear error."""
    if not _PATH.match(name):
        raise GlobusRequestError(
            f"field_name {name!r} is not a field path; give a dotted path such as material.elements",
            "BadRequest.ValidationError",
        )
    return name


def bound(value: Any) -> str:
    """A range bound in the query language: ``*``, a number, or a quoted date/word."""
    if value is None or (isinstance(value, str) and value.strip() == "*"):
        return "*"
    if isinstance(value, bool):
        raise GlobusRequestError(f"a range bound cannot be a boolean; got {value!r}")
    if isinstance(value, numbers.Real):
        number = float(value)
        if not math.isfinite(number):
            raise GlobusRequestError(f"a range bound must be finite; got {value!r}")
        return str(int(value)) if isinstance(value, numbers.Integral) else number_text(number)
    text = str(value).strip().replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def range_clause(path: str, r: RangeValue) -> str:
    """One range of a range filter: ``path:[lo TO hi]`` with the brackets its bounds ask for."""
    if r.from_ is not None or r.to is not None:
        if any(v is not None for v in (r.gte, r.gt, r.lte, r.lt)):
            raise GlobusRequestError("a range gives from/to or gte/gt/lte/lt, not both")
        lo, hi, incl_lo, incl_hi = r.from_, r.to, True, True
    else:
        if (r.gte is not None and r.gt is not None) or (r.lte is not None and r.lt is not None):
            raise GlobusRequestError("a range gives at most one of gte/gt and one of lte/lt")
        lo, incl_lo = (r.gte, True) if r.gt is None else (r.gt, False)
        hi, incl_hi = (r.lte, True) if r.lt is None else (r.lt, False)
    lo_text, hi_text = bound(lo), bound(hi)
    if lo_text == "*" and hi_text == "*":
        return f"{path}:*"
    left = "[" if incl_lo or lo_text == "*" else "{"
    right = "]" if incl_hi or hi_text == "*" else "}"
    return f"{path}:{left}{lo_text} TO {hi_text}{right}"


def filter_clause(f: GFilter) -> str:
    """One filter as a parenthesised clause of the query language."""
    if isinstance(f, MatchFilter):
        path = field_path(f.field_name)
        terms = [f"{path}:{quote(v, wildcard=False)}" for v in f.values]
        return _join(terms, " AND " if f.type == "match_all" else " OR ")
    if isinstance(f, RangeFilter):
        path = field_path(f.field_name)
        return _join([range_clause(path, r) for r in f.values], " OR ")
    if isinstance(f, ExistsFilter):
        return f"({field_path(f.field_name)}:*)"
    if isinstance(f, NotFilter):
        return f"(NOT {filter_clause(f.filter)})"
    if isinstance(f, BoolFilter):
        return _join([filter_clause(g) for g in f.filters], " AND " if f.type == "and" else " OR ")
    raise GlobusRequestError(f"filter type {getattr(f, 'type', f)!r} is not supported")


def _join(parts: Sequence[str], op: str) -> str:
    return "(" + op.join(parts) + ")"


def with_filters(q: str, filters: Iterable[GFilter]) -> str:
    """``q`` with ``filters`` ANDed to it."""
    clauses = [filter_clause(f) for f in filters]
    if not clauses:
        return q
    return " AND ".join([f"({q})", *clauses])
