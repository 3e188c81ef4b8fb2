"""The optional mapping of table columns (CSV, Excel, JSON, YAML keys) to record fields:
one row per field, the field suggested from the hub's fields, the column from the table."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

import ipywidgets as w

#: Record fields people map most; the hub's own fields are added to the suggestions.
COMMON_TARGETS = [
    "material.composition",
    "crystal_structure.space_group_number",
    "crystal_structure.number_of_atoms",
    "crystal_structure.volume",
    "dft.total_energy",
    "dft.code",
    "dft.method",
    "custom.band_gap",
    "custom.formation_energy",
]


def table_columns(name: str, content: bytes, limit: int = 200) -> list[str]:
    """The column names of a CSV/TSV table's header (lines starting with ``#`` skipped)."""
    if not name.lower().endswith((".csv", ".tsv", ".txt")):
        return []
    text = content[:65536].decode("utf-8", errors="replace")
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        return []
    dialect = csv.excel_tab if name.lower().endswith(".tsv") or "\t" in lines[0] else csv.excel
    header = next(csv.reader(io.StringIO(lines[0]), dialect))
    return [h.strip() for h in header if h.strip()][:limit]


class MappingRow(w.HBox):
    def __init__(self, targets: list[str], columns: list[str], target: str = "", column: str = "") -> None:
        self.target = w.Combobox(
            value=target,
            options=targets,
            placeholder="record field",
            ensure_option=False,
            layout=w.Layout(width="280px"),
        )
        self.column = w.Combobox(
            value=column,
            options=columns,
            placeholder="column",
            ensure_option=False,
            layout=w.Layout(width="200px"),
        )
        self.remove = w.Button(icon="trash", layout=w.Layout(width="36px"))
        super().__init__([self.target, w.HTML("&larr;"), self.column, self.remove])


class MappingEditor(w.VBox):
    """``mapping()``: ``{"record.field": "column"}`` of the filled rows, or None when off/empty."""

    def __init__(self, fields: Iterable[str] = ()) -> None:
        self.targets = sorted(
            set(COMMON_TARGETS) | {f for f in fields if not f.startswith(("mdf.", "files.", "dc.", "data."))}
        )
        self.columns: list[str] = []
        self.enabled = w.Checkbox(value=False, description="Map table columns to record fields", indent=False)
        self.rows = w.VBox()
        self.add_button = w.Button(description="Add field", icon="plus", layout=w.Layout(width="120px"))
        self.add_button.on_click(lambda _b: self.add_row())
        self.body = w.VBox([self.rows, self.add_button], layout=w.Layout(display="none"))
        self.enabled.observe(lambda ch: self._toggle(bool(ch["new"])), names="value")
        super().__init__([self.enabled, self.body])
        self.add_class("mh-mapping")

    def _toggle(self, on: bool) -> None:
        self.body.layout.display = None if on else "none"
        if on and not self.rows.children:
            self.add_row()

    def set_columns(self, columns: Iterable[str]) -> None:
        """Offer these column names (e.g. from the header of an uploaded CSV)."""
        self.columns = list(dict.fromkeys(columns))
        for row in self.rows.children:
            row.column.options = self.columns

    def add_row(self, target: str = "", column: str = "") -> MappingRow:
        row = MappingRow(self.targets, self.columns, target, column)
        row.remove.on_click(lambda _b: self._remove(row))
        self.rows.children = (*self.rows.children, row)
        return row

    def _remove(self, row: MappingRow) -> None:
        self.rows.children = tuple(r for r in self.rows.children if r is not row)

    def mapping(self) -> dict[str, str] | None:
        if not self.enabled.value:
            return None
        out = {
            r.target.value.strip(): r.column.value.strip()
            for r in self.rows.children
            if r.target.value.strip() and r.column.value.strip()
        }
        return out or None
