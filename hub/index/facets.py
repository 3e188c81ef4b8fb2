"""Facets of a search: how to count the matches by the values of a field.

A :class:`FacetSpec` is checked when it is made: a field path, a known type, a size
and a number of buckets within bounds, an interval the engine can use.  A malformed
facet is a :class:`~hub.exceptions.QueryError` saying what is allowed, never another
exception from deeper down.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hub.exceptions import QueryError, quoted
from hub.index.query import _PATH

#: The most values a ``terms`` facet gives.
MAX_FACET_SIZE = 10_000
#: The most bins a histogram may have (asked for as ``buckets``, or made by an ``interval``
#: over the range of the field's values); the engine itself gives up at 65,000.
MAX_HISTOGRAM_BUCKETS = 10_000
TYPES = ("terms", "histogram", "date_histogram")
#: A date histogram's interval: a number and a unit (milliseconds, seconds, minutes, hours, days).
DURATION = re.compile(r"^[1-9][0-9]{0,9}(ms|s|m|h|d)$")
_KEYS = frozenset({"field", "type", "size", "interval", "buckets"})


@dataclass(frozen=True)
class FacetSpec:
    """One facet of a search: how to count the matches by the values of a field.

    Attributes
    ----------
    field : str
        The dotted path of the field.
    type : str
        ``terms`` (the most frequent values), ``histogram`` (numbers in bins) or
        ``date_histogram`` (dates in bins).
    size : int
        How many values a ``terms`` facet gives (1 to :data:`MAX_FACET_SIZE`).
    interval : float or str or None
        A histogram's bin width: a positive number, or for dates a duration such as
        ``"30d"`` (:data:`DURATION`).  None: chosen from the range of the field over
        what the principal may see.
    buckets : int or None
        About how many bins a histogram without an ``interval`` gets (10 when None; at
        most :data:`MAX_HISTOGRAM_BUCKETS`).

    Raises
    ------
    QueryError
        When an attribute is of the wrong type or out of bounds.
    """

    field: str
    type: str = "terms"  # terms | histogram | date_histogram
    size: int = 10
    interval: float | str | None = None
    buckets: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.field, str) or not _PATH.match(self.field):
            raise QueryError(
                f"a facet's field is a field path such as material.elements; got {quoted(self.field)}"
            )
        if not isinstance(self.type, str) or self.type not in TYPES:
            raise QueryError(f"facet type {quoted(self.type)} is not one of {', '.join(TYPES)}")
        _whole(self.size, "size", MAX_FACET_SIZE)
        if self.buckets is not None:
            _whole(self.buckets, "buckets", MAX_HISTOGRAM_BUCKETS)
        if self.interval is not None:
            self._check_interval(self.interval)

    def _check_interval(self, interval: Any) -> None:
        if self.type == "date_histogram":
            if not isinstance(interval, str) or not DURATION.match(interval):
                raise QueryError(
                    f"a date_histogram's interval is a duration such as 30d, 12h, 15m, 10s or 500ms; "
                    f"got {quoted(interval)}"
                )
            return
        number = isinstance(interval, int | float) and not isinstance(interval, bool)
        if not number or not math.isfinite(interval) or interval <= 0:
            raise QueryError(f"a histogram's interval is a positive number; got {quoted(interval)}")

    @classmethod
    def of(cls, spec: str | dict[str, Any] | FacetSpec) -> FacetSpec:
        """The facet ``spec`` describes: a field path (a ``terms`` facet), a dict of the attributes or a spec.

        Raises
        ------
        QueryError
            When ``spec`` is none of these, the dict has unknown keys or no ``field``,
            or an attribute is not one the class takes.
        """
        if isinstance(spec, FacetSpec):
            return spec
        if isinstance(spec, str):
            return cls(field=spec)
        if not isinstance(spec, dict) or set(spec) - _KEYS or "field" not in spec:
            raise QueryError(
                f"bad facet {quoted(spec)}: give a field path or "
                "{'field': ..., 'type': 'terms'|'histogram'|'date_histogram', 'size'|'interval'|'buckets': ...}"
            )
        return cls(**spec)

    def check_bins(self, lo: float, hi: float) -> None:
        """Check that this histogram's ``interval`` makes few enough bins over values ``lo`` to ``hi``.

        ``lo`` and ``hi`` are in the engine's statistics' unit (dates: nanoseconds).

        Raises
        ------
        QueryError
            When it would make more than :data:`MAX_HISTOGRAM_BUCKETS`.
        """
        if self.interval is None:
            return
        bins = (hi - lo) / interval_width(self, self.interval) + 1
        if bins > MAX_HISTOGRAM_BUCKETS:
            raise QueryError(
                f"a histogram of {self.field} with interval {self.interval} would have {bins:,.0f} bins "
                f"over the field's values; at most {MAX_HISTOGRAM_BUCKETS:,}",
                hint="use a wider interval, or 'buckets' instead of 'interval'",
            )


#: A duration's unit in nanoseconds (the engine's statistics give dates in nanoseconds).
_UNIT_NS = {"ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3_600 * 10**9, "d": 86_400 * 10**9}


def interval_width(spec: FacetSpec, interval: float | str) -> float:
    """A histogram interval as a width in the unit of the engine's statistics (dates: nanoseconds)."""
    if isinstance(interval, str):
        m = DURATION.match(interval)
        assert m is not None, interval
        return float(interval[: m.start(1)]) * _UNIT_NS[m.group(1)]
    return float(interval)


def _whole(value: Any, name: str, most: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= most:
        raise QueryError(f"a facet's {name} is a whole number from 1 to {most:,}; got {quoted(value)}")


def histogram_request(spec: FacetSpec, path: str, interval: float | str) -> dict[str, Any]:
    """The engine's aggregation request for a histogram facet of ``interval`` on ``path``."""
    if spec.type == "histogram":
        return {"histogram": {"field": path, "interval": float(interval)}}
    return {"date_histogram": {"field": path, "fixed_interval": str(interval)}}


def facet_name(spec: FacetSpec, specs: Sequence[FacetSpec]) -> str:
    """A facet's key in the results: its field, or ``field:type`` when a field has several facets."""
    same = [s for s in specs if s.field == spec.field]
    return spec.field if len(same) == 1 else f"{spec.field}:{spec.type}"
