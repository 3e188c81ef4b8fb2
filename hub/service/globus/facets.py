"""Globus Search facets counted by the hub (over what the caller may see).

- ``terms``: the ``size`` most frequent values, ``{"value", "count"}`` buckets;
- ``numeric_histogram``: ``histogram_range`` split in ``size`` equal buckets, each
  ``{"value": {"from": lo, "to": hi}, "count"}`` counting the documents with a value in
  ``[lo, hi)``;
- ``date_histogram``: calendar buckets (``year``, ``quarter``, ``month``, ``week``
  starting on Monday, ``day``, ``hour``, ``minute``, ``second``), each
  ``{"value": {"from", "to"}, "count"}`` with ``"YYYY-MM-DD HH:MM:SS"`` bounds (UTC),
  clipped to ``histogram_range`` when given.  Bucket counts are summed from the
  hub's day (or finer) counts, so a document with two dates in one bucket counts twice.

Every count goes through ``hub.search``, so access control applies to it.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import math
import numbers
from collections import Counter
from collections.abc import Sequence
from typing import Any

from hub.hubs.embedded import EmbeddedHub
from hub.index.analysis import parse_date
from hub.service.globus.errors import GlobusRequestError
from hub.service.globus.filters import bound, field_path
from hub.service.globus.models import DateHistogramFacet, GFacet, NumericHistogramFacet, TermsFacet

#: The most buckets a numeric histogram may ask for (each is one count).
MAX_NUMERIC_BUCKETS = 100
#: The most buckets a date histogram may return.
MAX_DATE_BUCKETS = 10_000
#: The hub interval that date buckets are summed from.
_BASE_INTERVAL = {"hour": "1h", "minute": "1m", "second": "1s"}
_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


def facet_results(
    hub: EmbeddedHub, query: str, facets: Sequence[GFacet], kinds: list[str]
) -> list[dict[str, Any]]:
    """The ``facet_results`` of a search: one GFacetResult per facet, in request order."""
    names = [f.result_name for f in facets]
    if len(set(names)) != len(names):
        raise GlobusRequestError(
            "two facets have the same name; give each facet on the same field its own 'name'",
            "BadRequest.ValidationError",
        )
    terms = _terms(hub, query, [f for f in facets if isinstance(f, TermsFacet)], kinds)
    out = []
    for f in facets:
        if isinstance(f, TermsFacet):
            buckets = terms[f.field_name][: f.size]
        elif isinstance(f, NumericHistogramFacet):
            buckets = _numeric(hub, query, f, kinds)
        else:
            buckets = _dates(hub, query, f, kinds)
        out.append(
            {
                "@datatype": "GFacetResult",
                "@version": "2017-09-01",
                "name": f.result_name,
                "buckets": [
                    {"@datatype": "GBucket", "@version": "2017-09-01", "value": v, "count": n}
                    for v, n in buckets
                ],
            }
        )
    return out


def _terms(
    hub: EmbeddedHub, query: str, facets: list[TermsFacet], kinds: list[str]
) -> dict[str, list[tuple[Any, int]]]:
    """Every terms facet in one search (the largest size asked for each field)."""
    sizes: dict[str, int] = {}
    for f in facets:
        path = field_path(f.field_name)
        sizes[path] = max(sizes.get(path, 0), f.size)
    if not sizes:
        return {}
    res = hub.search(query, facets=[{"field": p, "size": s} for p, s in sizes.items()], limit=0, kinds=kinds)
    return {p: [(b["value"], int(b["count"])) for b in res.facets[p]["buckets"]] for p in sizes}


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real | str):
        raise GlobusRequestError(f"histogram_range.{what} must be a number; got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise GlobusRequestError(f"histogram_range.{what} must be a number; got {value!r}") from None
    if not math.isfinite(number):
        raise GlobusRequestError(f"histogram_range.{what} must be finite; got {value!r}")
    return number


def _count(hub: EmbeddedHub, query: str, clause: str, kinds: list[str]) -> int:
    return hub.search(f"({query}) AND {clause}", limit=0, kinds=kinds).total


def _numeric(
    hub: EmbeddedHub, query: str, f: NumericHistogramFacet, kinds: list[str]
) -> list[tuple[Any, int]]:
    path = field_path(f.field_name)
    low = _number(f.histogram_range.low, "low")
    high = _number(f.histogram_range.high, "high")
    if high <= low:
        raise GlobusRequestError(f"histogram_range.high ({high}) must be above histogram_range.low ({low})")
    if f.size > MAX_NUMERIC_BUCKETS:
        raise GlobusRequestError(
            f"Max allowed numeric_histogram size is {MAX_NUMERIC_BUCKETS}, you requested {f.size}"
        )
    width = high / f.size - low / f.size  # not (high - low) / size, which overflows over the widest ranges
    if not width > 0:
        raise GlobusRequestError(
            f"histogram_range [{low}, {high}] is too narrow for {f.size} buckets; widen it or ask fewer buckets"
        )
    edges = [low + i * width for i in range(f.size)] + [high]
    out: list[tuple[Any, int]] = []
    for lo, hi in itertools.pairwise(edges):
        n = _count(hub, query, f"{path}:[{bound(lo)} TO {bound(hi)}}}", kinds)
        out.append(({"from": lo, "to": hi}, n))
    return out


def _floor(t: _dt.datetime, unit: str) -> _dt.datetime:
    """The start of the calendar ``unit`` holding ``t``."""
    if unit == "year":
        return t.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    if unit == "quarter":
        return t.replace(month=3 * ((t.month - 1) // 3) + 1, day=1, hour=0, minute=0, second=0, microsecond=0)
    if unit == "month":
        return t.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    day = t.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "week":
        return day - _dt.timedelta(days=day.weekday())
    if unit == "day":
        return day
    if unit == "hour":
        return t.replace(minute=0, second=0, microsecond=0)
    if unit == "minute":
        return t.replace(second=0, microsecond=0)
    return t.replace(microsecond=0)


def _next(t: _dt.datetime, unit: str) -> _dt.datetime:
    """The start of the ``unit`` after the one starting at ``t``."""
    if unit in ("year", "quarter", "month"):
        months = {"year": 12, "quarter": 3, "month": 1}[unit]
        index = t.year * 12 + t.month - 1 + months
        return t.replace(year=index // 12, month=index % 12 + 1)
    step = {
        "week": _dt.timedelta(weeks=1),
        "day": _dt.timedelta(days=1),
        "hour": _dt.timedelta(hours=1),
        "minute": _dt.timedelta(minutes=1),
    }.get(unit, _dt.timedelta(seconds=1))
    return t + step


def _date(value: Any, what: str) -> _dt.datetime:
    parsed = parse_date(str(value)) if value is not None else None
    if parsed is None:
        raise GlobusRequestError(f"histogram_range.{what} must be a date; got {value!r}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=_dt.UTC)


def _dates(hub: EmbeddedHub, query: str, f: DateHistogramFacet, kinds: list[str]) -> list[tuple[Any, int]]:
    path = field_path(f.field_name)
    unit = f.date_interval
    lo = hi = None
    if f.histogram_range is not None:
        lo, hi = _date(f.histogram_range.low, "low"), _date(f.histogram_range.high, "high")
        query = f"({query}) AND {path}:[{bound(lo.isoformat())} TO {bound(hi.isoformat())}}}"
    spec = {"field": path, "type": "date_histogram", "interval": _BASE_INTERVAL.get(unit, "1d")}
    res = hub.search(query, facets=[spec], limit=0, kinds=kinds)
    counts: Counter[_dt.datetime] = Counter()
    for b in res.facets[path]["buckets"]:
        start = _date(b["value"], "bucket")
        if b["count"]:
            counts[_floor(start, unit)] += int(b["count"])
    if not counts:
        return []
    start, last = min(counts), max(counts)
    if lo is not None and hi is not None:
        start, last = _floor(lo, unit), max(_floor(hi, unit), start)
    out: list[tuple[Any, int]] = []
    t = start
    while t <= last:
        if len(out) >= MAX_DATE_BUCKETS:
            raise GlobusRequestError(
                f"this date_histogram would have more than {MAX_DATE_BUCKETS} buckets; "
                "use a longer date_interval or a narrower histogram_range"
            )
        end = _next(t, unit)
        if hi is None or t < hi:
            out.append(({"from": t.strftime(_DATE_FORMAT), "to": end.strftime(_DATE_FORMAT)}, counts[t]))
        t = end
    return out
