"""Reading a dotted field path (``files.filename``, ``dft.total_energy``) out of a document."""

from __future__ import annotations

from typing import Any


def values_at(doc: Any, path: str) -> list[Any]:
    """Every value at ``path``; lists along the way are walked (``files.filename`` of every file)."""
    current = [doc]
    for key in path.split("."):
        nxt: list[Any] = []
        for item in current:
            items = item if isinstance(item, list) else [item]
            for x in items:
                if isinstance(x, dict) and key in x:
                    nxt.append(x[key])
        current = nxt
    out: list[Any] = []
    for v in current:
        out.extend(v if isinstance(v, list) and not _is_vector(v) else [v])
    return out


def _is_vector(v: list[Any]) -> bool:
    """A list of numbers or of lists (a lattice, positions): one value, not many."""
    return bool(v) and all(isinstance(x, (int, float, list)) and not isinstance(x, bool) for x in v)


def value_at(doc: Any, path: str, default: Any = None) -> Any:
    """The value at ``path``: a single value as is, several as a list, none as ``default``."""
    found = values_at(doc, path)
    if not found:
        return default
    return found[0] if len(found) == 1 else found


def short(value: Any, width: int = 40) -> str:
    """A value as a short cell text."""
    if value is None:
        return ""
    if isinstance(value, float):
        text = f"{value:.6g}"
    elif isinstance(value, list):
        text = ", ".join(short(v, width) for v in value[:6]) + (", ..." if len(value) > 6 else "")
    else:
        text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"
