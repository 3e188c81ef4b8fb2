"""Outputs shown with the units their schema declares, switchable between energy units.

A servable's output schema may give ``units`` on a number, an array or each key of a dict
(a list of dicts: one row per item).  :class:`UnitTable` shows such an output as a table
whose column titles carry the units; when a unit is an energy (Hartree, eV, kcal/mol,
kJ/mol), a dropdown switches every energy column between them.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as w
import numpy as np

#: Energy units per Hartree (CODATA 2018, as ase.units gives them).
PER_HARTREE = {"Hartree": 1.0, "eV": 27.211386245988, "kcal/mol": 627.5094740631, "kJ/mol": 2625.4996394799}
_ALIASES = {"ha": "Hartree", "hartree": "Hartree", "eh": "Hartree", "ev": "eV", "kcal/mol": "kcal/mol"}
_ALIASES |= {"kj/mol": "kJ/mol", "kcal mol-1": "kcal/mol", "kj mol-1": "kJ/mol"}


def energy_unit(unit: str | None) -> str | None:
    """The energy unit ``unit`` names (``"Ha"`` -> ``"Hartree"``), or None when it is not one."""
    return _ALIASES.get(str(unit or "").strip().lower())


def convert(value: float, unit: str, to: str) -> float:
    """``value`` in energy ``unit`` expressed in energy unit ``to``.

    Raises
    ------
    ValueError
        When either is not an energy unit.
    """
    a, b = energy_unit(unit), energy_unit(to)
    if a is None or b is None:
        raise ValueError(f"cannot convert {unit!r} to {to!r}: energy units are {', '.join(PER_HARTREE)}")
    return value * PER_HARTREE[b] / PER_HARTREE[a]


def unit_columns(
    value: Any, spec: Mapping[str, Any]
) -> tuple[list[tuple[str, str | None]], list[list[Any]]] | None:
    """(columns as (name, unit), rows) of an output whose schema declares units; None when none does."""
    kind = spec.get("type")
    item = spec.get("item_type") or {}
    if kind in ("list", "ndarray") and item.get("properties") and isinstance(value, Sequence):
        props = item["properties"]
        if not any(p.get("units") for p in props.values()):
            return None
        cols = [(k, p.get("units")) for k, p in props.items()]
        return cols, [[(v or {}).get(k) for k, _ in cols] for v in value]
    if kind == "dict" and spec.get("properties") and isinstance(value, Mapping):
        props = spec["properties"]
        if not any(p.get("units") for p in props.values()):
            return None
        cols = [(k, p.get("units")) for k, p in props.items()]
        return cols, [[value.get(k) for k, _ in cols]]
    if spec.get("units") and kind in ("float", "number", "integer", "ndarray", "list"):
        flat = np.ravel(np.asarray(value, dtype=float)).tolist()
        return [("value", spec["units"])], [[v] for v in flat]
    return None


class UnitTable(w.VBox):
    """An output as a table with units; ``unit`` (a dropdown) switches the energy columns."""

    def __init__(self, columns: list[tuple[str, str | None]], rows: list[list[Any]]) -> None:
        self.columns = columns
        self.rows = rows
        energies = [energy_unit(u) for _, u in columns if energy_unit(u)]
        self.unit = w.Dropdown(
            options=list(PER_HARTREE), value=energies[0] if energies else "Hartree", description="energy in"
        )
        self.unit.add_class("mh-unit-choice")
        self.unit.layout.display = None if energies else "none"
        self.table = w.HTML()
        self.table.add_class("mh-output-units")
        self.unit.observe(lambda _ch: self._draw(), names="value")
        self._draw()
        super().__init__([self.unit, self.table])

    def shown(self) -> list[list[Any]]:
        """The rows as shown (energies in the chosen unit)."""
        out = []
        for row in self.rows:
            cells = []
            for (_, unit), v in zip(self.columns, row, strict=True):
                if isinstance(v, int | float) and energy_unit(unit):
                    v = convert(float(v), str(unit), self.unit.value)
                cells.append(v)
            out.append(cells)
        return out

    def _draw(self) -> None:
        def title(name: str, unit: str | None) -> str:
            shown = self.unit.value if energy_unit(unit) else unit
            return html.escape(name) + (f" ({html.escape(str(shown))})" if shown else "")

        def cell(v: Any) -> str:
            return f"{v:.6g}" if isinstance(v, float) else html.escape(str(v))

        head = "".join(
            f"<th style='text-align:right;padding:2px 8px'>{title(n, u)}</th>" for n, u in self.columns
        )
        body = "".join(
            "<tr>"
            + "".join(f"<td style='text-align:right;padding:2px 8px'>{cell(v)}</td>" for v in r)
            + "</tr>"
            for r in self.shown()[:200]
        )
        self.table.value = (
            f"<table style='font-size:13px;border-collapse:collapse'><tr>{head}</tr>{body}</table>"
        )
