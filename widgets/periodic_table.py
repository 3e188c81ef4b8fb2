"""An interactive periodic table: each element coloured by how many records hold it; a click
selects (or deselects) it.

118 buttons on an 18-column grid filled in reading order (blank boxes in the gaps;
lanthanides and actinides in two rows below).  The colours and counts are not per-button
state: they are ONE ``<style>`` block (an HTML widget) with a rule per element, scoped to
this table, so a new result costs one message however many counts changed.  Hovering an
element shows its count under the table (a CSS ``:has()`` rule in the same block).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Mapping

import ipywidgets as w
from ase.data import chemical_symbols

SYMBOLS: list[str] = chemical_symbols[1:119]
#: Colour levels for non-zero counts (log scale), plus one for zero and one for selected.
LEVELS = 8
#: (background, text) of each level: matplotlib's reversed viridis at 0.08 ... 1.0, written
#: out so the table needs no matplotlib import.
PALETTE = [
    ("#cae11f", "black"),
    ("#73d056", "black"),
    ("#32b67a", "black"),
    ("#1f968b", "white"),
    ("#2a768e", "white"),
    ("#39558c", "white"),
    ("#472e7c", "white"),
    ("#440154", "white"),
]
ZERO_COLOR = "#eeeeee"
SELECTED_COLOR = "#d62728"
#: Rows of the grid: 7 periods, a gap, lanthanides, actinides.
ROWS = 10


def table_position(z: int) -> tuple[int, int]:
    """(row, column), both from 1, of element ``z`` in the 18-column table; lanthanides
    (57-71) on row 9 and actinides (89-103) on row 10, columns 3-17."""
    if z == 1:
        return 1, 1
    if z == 2:
        return 1, 18
    if 57 <= z <= 71:
        return 9, 3 + (z - 57)
    if 89 <= z <= 103:
        return 10, 3 + (z - 89)
    starts = [(3, 2), (11, 3), (19, 4), (37, 5), (55, 6), (87, 7)]  # first z of periods 2-7
    first, period = next((f, p) for f, p in reversed(starts) if z >= f)
    offset = z - first
    if period <= 3:  # 2 s-block, then 6 p-block at columns 13-18
        return period, offset + 1 if offset < 2 else offset + 11
    if period <= 5:
        return period, offset + 1
    # periods 6 and 7: s-block, then the f-block sits below, then d and p blocks
    # (offsets 2-16 are La-Lu / Ac-Lr, placed above)
    return period, offset + 1 if offset < 2 else offset - 13


def level(count: int, max_count: int) -> int:
    """0 for none, else 1..LEVELS on a log scale of ``max_count``."""
    if count <= 0 or max_count <= 0:
        return 0
    if max_count == 1:
        return LEVELS
    return 1 + min(LEVELS - 1, int(math.log(count) / math.log(max_count) * (LEVELS - 1) + 1e-9))


def colors(lvl: int) -> tuple[str, str]:
    """(background, text) colour of a level: 0 none, 1..LEVELS counts, LEVELS + 1 selected."""
    if lvl <= 0:
        return ZERO_COLOR, "#999999"
    if lvl > LEVELS:
        return SELECTED_COLOR, "white"
    return PALETTE[lvl - 1]


class PeriodicTable(w.VBox):
    """The table and a legend.  ``on_select(callback)``: ``callback(symbol)`` on each click.

    ``counts`` holds the record count of each element from the last :meth:`update`,
    ``levels`` its colour level (0 none, 1..LEVELS, LEVELS + 1 selected) and ``selected``
    the symbols currently selected (drawn in red).
    """

    def __init__(self, cell: str = "34px") -> None:
        self.scope = f"mh-pt-{uuid.uuid4().hex[:8]}"
        self.counts: dict[str, int] = dict.fromkeys(SYMBOLS, 0)
        self.levels: dict[str, int] = dict.fromkeys(SYMBOLS, 0)
        self.selected: set[str] = set()
        self._callbacks: list[Callable[[str], None]] = []
        self.buttons: dict[str, w.Button] = {}
        cells: dict[tuple[int, int], w.Widget] = {}
        for z, sym in enumerate(SYMBOLS, start=1):
            b = w.Button(
                description=sym,
                tooltip=sym,
                layout=w.Layout(width=cell, height="28px", padding="0", margin="0"),
            )
            b.add_class(f"mh-el-{sym}")
            b.on_click(self._clicked)
            self.buttons[sym] = b
            cells[table_position(z)] = b
        # the grid is filled in reading order: empty cells get a blank box each
        ordered = [cells.get((r, c)) or w.Box() for r in range(1, ROWS + 1) for c in range(1, 19)]
        grid = w.GridBox(
            ordered,
            layout=w.Layout(
                grid_template_columns=f"repeat(18, {cell})",
                grid_template_rows="repeat(7, 28px) 10px repeat(2, 28px)",
                grid_gap="2px",
            ),
        )
        grid.add_class("mh-periodic-table")
        self.css = w.HTML(layout=w.Layout(height="0px", margin="0"))
        self.css.add_class("mh-periodic-css")
        self.legend = w.HTML()
        super().__init__([self.css, grid, self.legend])
        self.add_class("mh-periodic")
        self.add_class(self.scope)
        self.css.value = self.stylesheet()
        self.legend.value = self._legend(0)

    def on_select(self, callback: Callable[[str], None]) -> None:
        self._callbacks.append(callback)

    def _clicked(self, button: w.Button) -> None:
        self.click(button.description)

    def click(self, symbol: str) -> None:
        """What a click on ``symbol`` does (also callable from code and tests)."""
        for cb in self._callbacks:
            cb(symbol)

    def update(self, counts: Mapping[str, int], selected: set[str] | None = None) -> int:
        """Recolour from ``{symbol: records}`` (one message); returns how many elements changed."""
        if selected is not None:
            self.selected = set(selected)
        before = (dict(self.counts), dict(self.levels))
        self.counts = {s: int(counts.get(s, 0)) for s in SYMBOLS}
        top = max(self.counts.values(), default=0)
        self.levels = {s: LEVELS + 1 if s in self.selected else level(n, top) for s, n in self.counts.items()}
        changed = sum(1 for s in SYMBOLS if (before[0][s], before[1][s]) != (self.counts[s], self.levels[s]))
        if changed:
            self.css.value = self.stylesheet()
        self.legend.value = self._legend(top)
        return changed

    def stylesheet(self) -> str:
        """The colour of each element and the line its hover shows, for this table only."""
        scope = f".{self.scope}"
        rules = [
            f"{scope} .mh-hover-info::after{{content:'hover an element for its count'}}",
            f"{scope} .mh-periodic-table button{{border:1px solid transparent}}",
        ]
        for sym in SYMBOLS:
            bg, fg = colors(self.levels[sym])
            weight = ";font-weight:bold" if sym in self.selected else ""
            rules.append(
                f"{scope} .mh-el-{sym}{{background-color:{bg} !important;color:{fg} !important{weight}}}"
            )
            n = self.counts[sym]
            note = " (selected)" if sym in self.selected else ""
            rules.append(
                f"{scope}:has(.mh-el-{sym}:hover) .mh-hover-info::after"
                f"{{content:'{sym}: {n:,} record{'s' if n != 1 else ''}{note}'}}"
            )
        return "<style>" + "\n".join(rules) + "</style>"

    def _legend(self, top: int) -> str:
        swatches = "".join(
            f"<span style='display:inline-block;width:14px;height:10px;background:{bg}'></span>"
            for bg, _ in PALETTE
        )
        picked = ", ".join(sorted(self.selected)) or "none"
        return (
            f"<div style='font-size:11px;color:#555'>records per element: 1 {swatches} {top:,} "
            f"(log scale) &middot; click an element to require it; selected: {picked} &middot; "
            "<b class='mh-hover-info'></b></div>"
        )
