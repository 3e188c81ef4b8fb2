"""A terms facet as a list of checkboxes with counts: ticking values drills down.

Values ticked in one list are alternatives (OR).  A ticked value stays listed with its
count even when the rest of the page would push it out of the top ``size``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as w


def _label(value: Any, count: int) -> str:
    return f"{value} ({count:,})"


class FacetList(w.VBox):
    """Checkboxes for the buckets of one terms facet.

    ``on_change(callback)``: ``callback(field, value, ticked)`` when a box is (un)ticked.
    The checkboxes are created once (``size`` of them) and relabelled on each
    :meth:`update`, so a new result costs a few small messages, not new widgets.
    """

    def __init__(self, field: str, title: str | None = None, size: int = 8) -> None:
        self.field = field
        self.size = size
        self.ticked: list[str] = []
        self.values: list[str] = []
        self.counts: dict[str, int] = {}
        self._callbacks: list[Callable[[str, str, bool], None]] = []
        self._updating = False
        self.boxes = [
            w.Checkbox(value=False, indent=False, layout=w.Layout(display="none", width="auto", margin="0"))
            for _ in range(size)
        ]
        for i, box in enumerate(self.boxes):
            box.observe(lambda change, i=i: self._toggled(i, change["new"]), names="value")
        self.header = w.HTML(f"<b>{title or field}</b>")
        self.empty = w.HTML("<i style='color:#888'>none</i>")
        super().__init__([self.header, *self.boxes, self.empty], layout=w.Layout(margin="0 0 8px 0"))
        self.add_class("mh-facet")
        self.add_class("mh-facet-" + field.replace(".", "-"))

    def on_change(self, callback: Callable[[str, str, bool], None]) -> None:
        self._callbacks.append(callback)

    def _toggled(self, i: int, ticked: bool) -> None:
        if self._updating or i >= len(self.values):
            return
        self.tick(self.values[i], ticked)

    def tick(self, value: str, ticked: bool = True) -> None:
        """What (un)ticking ``value`` does (also callable from code and tests)."""
        if ticked and value not in self.ticked:
            self.ticked.append(value)
        elif not ticked and value in self.ticked:
            self.ticked.remove(value)
        for cb in self._callbacks:
            cb(self.field, value, ticked)

    def update(self, facet: dict[str, Any] | None, ticked: list[str] | None = None) -> None:
        """Show the buckets of ``facet`` (``{"buckets": [{"value", "count"}, ...]}``)."""
        if ticked is not None:
            self.ticked = list(ticked)
        buckets = [(str(b["value"]), int(b["count"])) for b in (facet or {}).get("buckets", []) if b["count"]]
        counts = dict(buckets)
        shown = [v for v, _ in buckets][: self.size]
        for v in self.ticked:  # a ticked value stays in view
            if v not in shown:
                shown = [*shown[: self.size - 1], v] if len(shown) >= self.size else [*shown, v]
        self.values = shown
        self.counts = {v: counts.get(v, 0) for v in shown}
        self._updating = True
        try:
            for i, box in enumerate(self.boxes):
                if i < len(shown):
                    v = shown[i]
                    with box.hold_sync():
                        box.description = _label(v, self.counts[v])
                        box.value = v in self.ticked
                        box.layout.display = None
                else:
                    box.layout.display = "none"
        finally:
            self._updating = False
        self.empty.layout.display = "none" if shown else None
