"""How values are typed and tokenized for the index.

The tokenizer mirrors tantivy's ``default`` analyzer (split on every character
that is not a letter or digit, lowercase, drop tokens longer than 40 bytes), so
a query is analyzed exactly as the indexed text was.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Iterator
from typing import Any

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
MAX_TOKEN_BYTES = 40
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$")


def tokenize(text: str) -> list[str]:
    """The tokens tantivy's default analyzer makes of ``text``."""
    return [t for t in (m.lower() for m in _TOKEN.findall(text)) if len(t.encode()) <= MAX_TOKEN_BYTES]


def parse_date(text: str) -> _dt.datetime | None:
    """A timezone-aware datetime for ISO 8601 dates and datetimes, else None."""
    if not _DATE.match(text):
        return None
    try:
        value = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.UTC)
    return value


def rfc3339(value: _dt.datetime) -> str:
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


def normalize(doc: Any) -> Any:
    """The document as indexed in the keyword JSON field: numbers as floats (so a
    range or a term matches ints and floats alike), dates as RFC 3339 (which
    tantivy indexes as dates), non-finite numbers dropped."""
    if isinstance(doc, dict):
        out = {}
        for k, v in doc.items():
            n = normalize(v)
            if n is not None and n != [] and n != {}:
                out[k] = n
        return out
    if isinstance(doc, list):
        return [n for n in (normalize(v) for v in doc) if n is not None]
    if isinstance(doc, bool):
        return doc
    if isinstance(doc, int | float):
        return float(doc) if math.isfinite(doc) else None
    if isinstance(doc, str):
        date = parse_date(doc)
        return rfc3339(date) if date else doc
    return doc
