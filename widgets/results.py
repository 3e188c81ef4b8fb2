"""A page of search hits as a sortable table: a click on a column title sorts by it (again:
descending, a third time: unsorted), a click on a hit's id opens it, Prev/Next page.

The row widgets are made once (one per row of a page) and refilled on each update.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import ipywidgets as w
from hub.widgets.docpath import short, value_at


@dataclass(frozen=True)
class Column:
    title: str
    path: str
    width: str = "140px"
    sortable: bool = True


DEFAULT_COLUMNS: tuple[Column, ...] = (
    Column("Material", "material.composition", "150px"),
    Column("Dataset", "mdf.source_name", "170px"),
    Column("File", "files.filename", "190px", sortable=False),
    Column("Kind", "mdf.resource_type", "70px"),
)


def _cell(text: str, width: str, css: str = "") -> str:
    return (
        f"<span class='{css}' style='display:inline-block;width:{width};overflow:hidden;white-space:nowrap;"
        f"text-overflow:ellipsis;padding-right:6px;vertical-align:top' title='{html.escape(text, quote=True)}'>"
        f"{html.escape(text)}</span>"
    )


def cell_html(doc: dict[str, Any], columns: Sequence[Column]) -> str:
    """A hit's cells.  A dataset has no material or file of its own: its title spans the
    columns before its kind (``mh-dataset-title``), so it never reads as a composition."""
    mdf = doc.get("mdf") or {}
    if mdf.get("resource_type") == "dataset":
        titles = (doc.get("dc") or {}).get("titles") or [{}]
        title = "dataset: " + str(titles[0].get("title") or mdf.get("source_name") or "")
        spanned = [c for c in columns if c.path != "mdf.resource_type"]
        width = "calc(" + " + ".join(c.width for c in spanned) + ")"
        kind = next((c for c in columns if c.path == "mdf.resource_type"), None)
        cells = [_cell(title, width, "mh-dataset-title")]
        if kind is not None:
            cells.append(_cell("dataset", kind.width))
        return f"<div class='mh-row-cells' style='white-space:nowrap'>{''.join(cells)}</div>"
    cells = [_cell(short(value_at(doc, c.path)), c.width) for c in columns]
    return f"<div class='mh-row-cells' style='white-space:nowrap'>{''.join(cells)}</div>"


class ResultsTable(w.VBox):
    """``on_open(cb)``: ``cb(hit)``; ``on_sort(cb)``: ``cb(path)``; ``on_page(cb)``: ``cb(delta)``."""

    ID_WIDTH = "170px"

    def __init__(self, page_size: int = 10, columns: Sequence[Column] = DEFAULT_COLUMNS) -> None:
        self.columns = list(columns)
        self.hits: list[Any] = []
        self._open: list[Callable[[Any], None]] = []
        self._sort: list[Callable[[str], None]] = []
        self._page: list[Callable[[int], None]] = []
        self.sort_buttons: dict[str, w.Button] = {}
        head: list[w.Widget] = [w.HTML("<b>Id</b>", layout=w.Layout(width=self.ID_WIDTH))]
        for c in self.columns:
            if c.sortable:
                b = w.Button(description=c.title, layout=w.Layout(width=c.width, height="26px"))
                b.add_class("mh-sort")
                b.on_click(lambda _b, path=c.path: self.sort(path))
                self.sort_buttons[c.path] = b
                head.append(b)
            else:
                head.append(w.HTML(f"<b>{html.escape(c.title)}</b>", layout=w.Layout(width=c.width)))
        self.id_buttons: list[w.Button] = []
        self.cells: list[w.HTML] = []
        self.rows: list[w.HBox] = []
        for i in range(page_size):
            b = w.Button(layout=w.Layout(width=self.ID_WIDTH, height="26px"), tooltip="open this hit")
            b.add_class("mh-open")
            b.on_click(lambda _b, i=i: self.open_row(i))
            cells = w.HTML()
            row = w.HBox([b, cells], layout=w.Layout(display="none", align_items="center"))
            row.add_class("mh-result-row")
            self.id_buttons.append(b)
            self.cells.append(cells)
            self.rows.append(row)
        self.prev = w.Button(description="Prev", icon="chevron-left", layout=w.Layout(width="90px"))
        self.next = w.Button(description="Next", icon="chevron-right", layout=w.Layout(width="90px"))
        self.prev.on_click(lambda _b: self.turn(-1))
        self.next.on_click(lambda _b: self.turn(1))
        self.page_label = w.Label()
        self.page_label.add_class("mh-page")
        pager = w.HBox([self.prev, self.page_label, self.next], layout=w.Layout(align_items="center"))
        super().__init__([w.HBox(head), *self.rows, pager])
        self.add_class("mh-results")

    # -- events ----------------------------------------------------------------------

    def on_open(self, cb: Callable[[Any], None]) -> None:
        self._open.append(cb)

    def on_sort(self, cb: Callable[[str], None]) -> None:
        self._sort.append(cb)

    def on_page(self, cb: Callable[[int], None]) -> None:
        self._page.append(cb)

    def open_row(self, row: int) -> None:
        if row < len(self.hits):
            for cb in self._open:
                cb(self.hits[row])

    def sort(self, path: str) -> None:
        for cb in self._sort:
            cb(path)

    def turn(self, delta: int) -> None:
        for cb in self._page:
            cb(delta)

    # -- showing ---------------------------------------------------------------------

    def update(self, hits: Sequence[Any], page: int, pages: int, sort: str | None) -> None:
        self.hits = list(hits)
        for i, row in enumerate(self.rows):
            if i < len(self.hits):
                hit = self.hits[i]
                self.id_buttons[i].description = hit.id
                self.id_buttons[i].tooltip = f"open {hit.id}"
                self.cells[i].value = cell_html(hit.document, self.columns)
                row.layout.display = None
            else:
                row.layout.display = "none"
        for path, b in self.sort_buttons.items():
            title = next(c.title for c in self.columns if c.path == path)
            arrow = " ▲" if sort == path else " ▼" if sort == f"-{path}" else ""
            b.description = title + arrow
        self.page_label.value = f"page {page + 1} of {pages}"
        self.prev.disabled = page <= 0
        self.next.disabled = page + 1 >= pages
