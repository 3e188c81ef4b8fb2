"""How values are typed and tokenized for the index.

The tokenizer is tantivy's ``default`` analyzer itself (split on every
character that is not alphanumeric in Rust's sense, drop tokens of 40 bytes or
more, lowercase), so a query is analyzed exactly as the indexed text was: a
Python imitation differs on letters such as circled ``Ⓐ`` (alphabetic in Rust,
not in Python), on a final ``Σ`` and on tokens of exactly 40 bytes.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import tantivy

#: tantivy drops tokens of this many bytes or more (before lowercasing).
MAX_TOKEN_BYTES = 40
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$")


@lru_cache(maxsize=1)
def _analyzer() -> tantivy.TextAnalyzer:
    """The ``default`` text analyzer of tantivy, built the way tantivy builds it."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(MAX_TOKEN_BYTES))
        .filter(tantivy.Filter.lowercase())
        .build()
    )


def tokenize(text: str) -> list[str]:
    """The tokens tantivy's default analyzer makes of ``text``."""
    return list(_analyzer().analyze(text))


def positioned_tokens(text: str) -> list[tuple[int, str]]:
    """The (position, token) pairs of ``text``.

    A dropped (too long) word leaves a gap, as it does in the index, so a phrase around
    it keeps its shape.
    """
    return [(t.position, t.text) for t in _analyzer().pre_tokenize(text).tokens]


#: The instants tantivy can index as dates (nanoseconds since 1970 in 64 bits);
#: a date string outside them is indexed as a keyword.
MIN_DATE: _dt.datetime = tantivy.MIN_DATETIME
MAX_DATE: _dt.datetime = tantivy.MAX_DATETIME


def parse_date(text: str, clamp: bool = False) -> _dt.datetime | None:
    """A timezone-aware datetime for ISO 8601 dates and datetimes, else None.

    A date outside :data:`MIN_DATE`..:data:`MAX_DATE` is None, or with ``clamp``
    (for a range bound) the nearest instant tantivy can index.
    """
    if not _DATE.match(text):
        return None
    try:
        value = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.UTC)
    if MIN_DATE <= value <= MAX_DATE:
        return value
    if not clamp:
        return None
    return MIN_DATE if value < MIN_DATE else MAX_DATE


def rfc3339(value: _dt.datetime) -> str:
    """``value`` as RFC 3339 text in UTC, with microseconds (``2019-01-02T03:04:05.000000Z``)."""
    return value.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def value_type(value: Any) -> str | None:
    """The index type of a leaf: ``boolean``, ``number``, ``date``, ``keyword``."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number" if not (isinstance(value, float) and not math.isfinite(value)) else None
    if isinstance(value, str):
        return "date" if parse_date(value) else "keyword"
    return None


def leaves(doc: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every (dotted path, scalar) of a JSON document; list items share their path."""
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from leaves(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(doc, list):
        for item in doc:
            yield from leaves(item, prefix)
    elif doc is not None:
        yield prefix, doc
