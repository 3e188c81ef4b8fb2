"""Facets: what a facet asks for, checked before the search engine sees it.

A :class:`FacetSpec` is a terms facet (the most frequent values of a field) or a
histogram of numbers or dates.  Its parameters are checked when it is made (a field
path, a size the engine takes, a positive finite interval, a duration it parses), and
a histogram's bins are counted before it runs (:func:`check_bins`), so no request
reaches the engine with values it refuses or would exhaust its memory on: the caller
gets a plain 400 saying what to change.
"""

from __future__ import annotations

import datetime as _dt
import math
import numbers
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hub.exceptions import QueryError, quoted
from hub.index.query import _PATH

#: The most values a terms facet gives (the engine counts them in 32 bits).
MAX_FACET_SIZE = 10_000
#: The most bins a histogram may have (asked for as ``buckets``, or made by an ``interval``
#: over the range of the field's values); the engine itself gives up at 65,000.
MAX_HISTOGRAM_BUCKETS = 10_000
#: A date histogram's bin width: a whole number of milliseconds, seconds, minutes, hours or days.
DATE_INTERVAL = re.compile(r"^([1-9][0-9]{0,8})(ms|s|m|h|d)$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86_400}
#: tantivy's stats aggregation reports dates in nanoseconds since the epoch.
DATE_STATS_PER_DAY = 86_400 * 1_000_000_000
_TYPES = ("terms", "histogram", "date_histogram")
_KEYS = frozenset({"field", "type", "size", "interval", "buckets"})
_SHAPE = "{'field': ..., 'type': 'terms'|'histogram'|'date_histogram', 'size'|'interval'|'buckets': ...}"


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
        A histogram's bin width: a positive number, or a duration such as ``"30d"`` for
        dates (:data:`DATE_INTERVAL`).  None (or 0): chosen from the range of the field
        over what the principal may see.
    buckets : int or None
        About how many bins a histogram without an ``interval`` gets (10 when None; 1 to
        :data:`MAX_HISTOGRAM_BUCKETS`).

    Raises
    ------
    QueryError
        When a parameter is not one the engine can run.
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
        if not isinstance(self.type, str) or self.type not in _TYPES:
            raise QueryError(f"facet type {quoted(self.type)} is not one of {', '.join(_TYPES)}")
        if not _whole(self.size) or not 1 <= self.size <= MAX_FACET_SIZE:
            raise QueryError(
                f"a facet's size is a whole number from 1 to {MAX_FACET_SIZE:,}; got {quoted(self.size)}"
            )
        if self.buckets is not None and (
            not _whole(self.buckets) or not 1 <= self.buckets <= MAX_HISTOGRAM_BUCKETS
        ):
            raise QueryError(
                f"a histogram's buckets is a whole number from 1 to {MAX_HISTOGRAM_BUCKETS:,}; "
                f"got {quoted(self.buckets)}"
            )
        if self.interval is None or (self.interval == 0 and not isinstance(self.interval, str)):
            object.__setattr__(self, "interval", None)
        elif self.type == "date_histogram":
            if not isinstance(self.interval, str) or not DATE_INTERVAL.match(self.interval):
                raise QueryError(
                    f"a date_histogram's interval is a duration such as 30d, 12h, 15m, 10s or 500ms; "
                    f"got {quoted(self.interval)}"
                )
        elif self.type == "histogram" and not _positive(self.interval):
            raise QueryError(f"a histogram's interval is a positive number; got {quoted(self.interval)}")

    @classmethod
    def of(cls, spec: str | dict[str, Any] | FacetSpec) -> FacetSpec:
        """The facet ``spec`` describes: a field path (a ``terms`` facet), a dict of the attributes or a spec.

        Raises
        ------
        QueryError
            When the dict has unknown keys or no ``field``, or a value the engine cannot run.
        """
        if isinstance(spec, FacetSpec):
            return spec
        if isinstance(spec, str):
            return cls(field=spec)
        if not isinstance(spec, dict) or set(spec) - _KEYS or "field" not in spec:
            raise QueryError(f"bad facet {quoted(spec)}: give a field path or {_SHAPE}")
        return cls(**spec)

    def bin_width(self, interval: float | str) -> float:
        """The width of one bin of ``interval``, in the unit the engine's field stats use."""
        if self.type == "histogram":
            return float(interval)
        m = DATE_INTERVAL.match(str(interval))
        assert m is not None
        return int(m.group(1)) * _UNIT_SECONDS[m.group(2)] * 1_000_000_000


def check_bins(spec: FacetSpec, interval: float | str, bounds: tuple[float, float] | None) -> None:
    """Refuse a histogram that would have more than :data:`MAX_HISTOGRAM_BUCKETS` bins over ``bounds``.

    ``bounds`` is the field's range over what the principal may see (None: no values).
    """
    if bounds is None:
        return
    lo, hi = bounds
    width = spec.bin_width(interval)
    bins = hi / width - lo / width + 1  # not (hi - lo) / width, which overflows over the widest ranges
    if bins > MAX_HISTOGRAM_BUCKETS:
        raise QueryError(
            f"the {spec.type} of {spec.field} with interval {interval} would have {bins:.3g} bins "
            f"(at most {MAX_HISTOGRAM_BUCKETS:,}); give a larger interval, or buckets instead"
        )


def auto_interval(spec: FacetSpec, bounds: tuple[float, float] | None) -> float | str | None:
    """A histogram's bin width chosen for about ``spec.buckets`` (10) bins over ``bounds`` (None: no values)."""
    if bounds is None:
        return None
    lo, hi = bounds
    if spec.type == "histogram":
        return nice_interval(lo, hi, spec.buckets or 10)
    span_days = max((hi - lo) / DATE_STATS_PER_DAY, 1)
    return f"{max(1, math.ceil(span_days / (spec.buckets or 10)))}d"


def nice_interval(lo: float, hi: float, buckets: int) -> float:
    """A round bin width (1, 2, 2.5 or 5 times a power of ten) giving about ``buckets`` bins over ``[lo, hi]``."""
    span = hi - lo
    if span <= 0:
        return 1.0
    if not math.isfinite(span):  # wider than a float: one bin per power of ten of the larger end
        return float(10 ** math.floor(math.log10(max(abs(lo), abs(hi)))))
    raw = span / max(buckets, 1)
    magnitude: float = 10 ** math.floor(math.log10(raw))
    for step in (1, 2, 2.5, 5, 10):
        if raw <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def histogram_request(spec: FacetSpec, path: str, interval: float | str) -> dict[str, Any]:
    """The engine's aggregation of histogram ``spec`` on the indexed ``path``."""
    if spec.type == "histogram":
        return {"histogram": {"field": path, "interval": float(interval)}}
    return {"date_histogram": {"field": path, "fixed_interval": str(interval)}}


def facet_name(spec: FacetSpec, specs: Sequence[FacetSpec]) -> str:
    """A facet's key in the results: its field, or ``field:type`` when a field has several facets."""
    same = [s for s in specs if s.field == spec.field]
    return spec.field if len(same) == 1 else f"{spec.field}:{spec.type}"


def ms_to_iso(ms: float) -> str:
    """A date bucket's key (milliseconds since the epoch) as ISO 8601 text."""
    return _dt.datetime.fromtimestamp(ms / 1000, _dt.UTC).isoformat()


def _whole(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _positive(value: Any) -> bool:
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
        and float(value) > 0
    )
