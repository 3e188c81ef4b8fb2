"""MDF's ``mdf.scroll_id`` convention for dataset entries.

MDF Forge's ``aggregate`` walks past the 10,000-results limit in windows of
``mdf.scroll_id`` (``(q) AND (mdf.scroll_id:>=0 AND mdf.scroll_id:<10000)``, then the
next window, ...) until it holds as many entries as the query's total.  In MDF a
dataset entry sits at scroll id 0, so it falls in the first window; the hub's
dataset documents carry no scroll id (records count from 1).  Without help a query
matching a dataset and more than 10,000 records would never reach its total, and
Forge would keep asking forever.

So, in the MDF index, a dataset entry is read as having ``mdf.scroll_id`` 0: each
``mdf.scroll_id`` clause that 0 satisfies also matches dataset entries, and the
dataset entries returned carry ``mdf.scroll_id: 0``.
"""

from __future__ import annotations

import enum
from typing import Any, Final

from luqum import tree

from hub.index.query import parse

FIELD = "mdf.scroll_id"


def zero_satisfies(node: tree.Item) -> bool | None:
    """Whether the value 0 satisfies the field expression ``node`` (None: cannot tell)."""
    if isinstance(node, tree.Group | tree.FieldGroup):
        return zero_satisfies(node.expr)
    if isinstance(node, tree.Word):
        if node.value == "*":
            return True
        number = _number(node)
        return None if number is None else number == 0
    if isinstance(node, tree.Range):
        lo, hi = _bound(node.low), _bound(node.high)
        if lo is _UNKNOWN or hi is _UNKNOWN:
            return None
        ok_lo = lo is None or (lo <= 0 if node.include_low else lo < 0)
        ok_hi = hi is None or (hi >= 0 if node.include_high else hi > 0)
        return ok_lo and ok_hi
    if isinstance(node, tree.From | tree.To):
        value = _bound(node.a)
        if value is _UNKNOWN or value is None:
            return None if value is _UNKNOWN else True
        if isinstance(node, tree.From):
            return value <= 0 if node.include else value < 0
        return value >= 0 if node.include else value > 0
    if isinstance(node, tree.Not | tree.Prohibit):
        inner = zero_satisfies(node.a)
        return None if inner is None else not inner
    if isinstance(node, tree.Plus):
        return zero_satisfies(node.a)
    if isinstance(node, tree.OrOperation | tree.AndOperation | tree.UnknownOperation):
        answers = [zero_satisfies(c) for c in node.children]
        if any(a is None for a in answers):
            return None
        return any(answers) if isinstance(node, tree.OrOperation) else all(answers)
    return None


class _Unknown(enum.Enum):
    """A range bound that is not a number."""

    UNKNOWN = enum.auto()


_UNKNOWN: Final = _Unknown.UNKNOWN


def _number(word: tree.Word) -> float | None:
    try:
        return float(word.unescaped_value)
    except ValueError:
        return None


def _bound(item: Any) -> float | _Unknown | None:
    """A range bound as a number, None when open, ``_UNKNOWN`` when not a number."""
    if item is None:
        return None
    text = getattr(item, "unescaped_value", None) or str(item)
    if text.strip() == "*":
        return None
    try:
        return float(text)
    except ValueError:
        return _UNKNOWN


def _rewrite(node: tree.Item) -> tree.Item:
    if isinstance(node, tree.SearchField) and node.name == FIELD:
        if not zero_satisfies(node.expr):
            return node
        text = str(node)
        core = text.strip()
        either = parse(f"({core} OR mdf.resource_type:dataset)")
        either.head = text[: len(text) - len(text.lstrip())]
        either.tail = text[len(text.rstrip()) :]
        return either
    if node.children:
        node.children = [_rewrite(c) for c in node.children]
    return node


def datasets_at_zero(query: str) -> str:
    """``query`` with each ``mdf.scroll_id`` clause that 0 satisfies also matching dataset entries."""
    if FIELD not in query:
        return query
    return str(_rewrite(parse(query)))


def stamp(document: dict[str, Any]) -> dict[str, Any]:
    """A dataset document as the MDF index shows it: at ``mdf.scroll_id`` 0."""
    mdf = document.get("mdf")
    if isinstance(mdf, dict) and mdf.get("resource_type") == "dataset" and FIELD.split(".")[1] not in mdf:
        return {**document, "mdf": {**mdf, "scroll_id": 0}}
    return document
