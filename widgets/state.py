"""What a search panel is asking the hub: the query text and every drill-down, as plain data.

The widgets only change a :class:`SearchState`; :meth:`SearchState.query` and
:meth:`SearchState.search_kwargs` turn it into one ``hub.search`` call, so the logic is
tested without any widget.

Drill-downs combine as people expect from faceted search:

- values ticked in one facet list are alternatives (``filters``: OR within a field);
- different facet lists, elements and ranges all apply (AND);
- elements picked on the periodic table must all be present (``material.elements:Co AND
  material.elements:O``: a compound holding both);
- a numeric range is inclusive (``crystal_structure.volume:[10 TO 200]``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ELEMENTS_FIELD = "material.elements"


def _number(x: float) -> str:
    """A bound as the query language reads it (no exponent, no trailing zeros)."""
    text = f"{float(x):.10f}".rstrip("0").rstrip(".")
    return text if text not in ("-0", "") else "0"


def _quote(value: str) -> str:
    if value and all(c.isalnum() or c in "._-+" for c in value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass
class SearchState:
    text: str = "*"
    filters: dict[str, list[str]] = field(default_factory=dict)
    elements: list[str] = field(default_factory=list)
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    sort: str | None = None
    page: int = 0
    page_size: int = 10
    kinds: list[str] | None = None

    # -- changes (each returns to the first page) ---------------------------------

    def set_text(self, text: str) -> None:
        self.text = text.strip() or "*"
        self.page = 0

    def toggle(self, field_path: str, value: str, on: bool) -> None:
        values = self.filters.setdefault(field_path, [])
        if on and value not in values:
            values.append(value)
        elif not on and value in values:
            values.remove(value)
        if not values:
            del self.filters[field_path]
        self.page = 0

    def toggle_element(self, symbol: str) -> bool:
        """Add or remove an element; returns whether it is now selected."""
        if symbol in self.elements:
            self.elements.remove(symbol)
        else:
            self.elements.append(symbol)
        self.page = 0
        return symbol in self.elements

    def set_range(self, field_path: str, bounds: tuple[float, float] | None) -> None:
        if bounds is None:
            self.ranges.pop(field_path, None)
        else:
            lo, hi = bounds
            self.ranges[field_path] = (float(min(lo, hi)), float(max(lo, hi)))
        self.page = 0

    def set_sort(self, field_path: str | None) -> None:
        """Sort by a field; the same field again flips to descending, a third time clears it."""
        if field_path is None:
            self.sort = None
        elif self.sort == field_path:
            self.sort = f"-{field_path}"
        elif self.sort == f"-{field_path}":
            self.sort = None
        else:
            self.sort = field_path
        self.page = 0

    def clear(self) -> None:
        self.filters.clear()
        self.elements.clear()
        self.ranges.clear()
        self.page = 0

    # -- the hub call ----------------------------------------------------------------

    def clauses(self) -> list[str]:
        """The query's parts besides the facet filters: the text, elements and ranges."""
        parts = []
        if self.text not in ("", "*"):
            parts.append(f"({self.text})")
        parts += [f"{ELEMENTS_FIELD}:{_quote(e)}" for e in self.elements]
        parts += [f"{f}:[{_number(lo)} TO {_number(hi)}]" for f, (lo, hi) in sorted(self.ranges.items())]
        return parts

    def query(self) -> str:
        parts = self.clauses()
        return " AND ".join(parts) if parts else "*"

    def search_kwargs(self, facets: list[Any] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "facets": list(facets or []),
            "filters": {k: list(v) for k, v in self.filters.items()} or None,
            "limit": self.page_size,
            "offset": self.page * self.page_size,
            "sort": self.sort,
        }
        if self.kinds:
            out["kinds"] = list(self.kinds)
        return out

    def without_filter(self, field_path: str) -> dict[str, list[str]] | None:
        """The facet filters minus one field: the counts a facet list shows for its alternatives."""
        rest = {k: list(v) for k, v in self.filters.items() if k != field_path}
        return rest or None

    def pages(self, total: int) -> int:
        return max(1, -(-total // self.page_size))

    def describe(self) -> str:
        """The state as one line of Python a notebook user can paste."""
        args = [repr(self.query())]
        if self.filters:
            args.append(f"filters={self.filters!r}")
        if self.sort:
            args.append(f"sort={self.sort!r}")
        if self.kinds:
            args.append(f"kinds={self.kinds!r}")
        return f"hub.search({', '.join(args)})"
