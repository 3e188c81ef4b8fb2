"""Outputs with units (widgets/units.py) and forms built from a servable's schema and example
(widgets/schema_form.py): dropdowns, numbers with units, a batch item's fields, file pickers."""

from __future__ import annotations

import datetime as dt

import ipywidgets as w
import pytest
from hub.widgets.schema_form import SchemaForm
from hub.widgets.type_words import schema_rows, spec_text
from hub.widgets.units import UnitTable, convert, unit_columns

from hub.servables.schema import ArgSpec

MOLECULE = ArgSpec.dict_of(
    {
        "xyz": ArgSpec.scalar("string", units="Å", format="xyz"),
        "u0": ArgSpec.scalar("float", units="Hartree"),
    }
)
PREDICTION = ArgSpec.dict_of(
    {"atomization_energy": ArgSpec.scalar("float", units="Hartree"), "label": ArgSpec.scalar("string")}
)


def test_energy_units_convert_and_switch() -> None:
    assert convert(1.0, "Hartree", "kcal/mol") == pytest.approx(627.5094740631)
    assert convert(27.211386245988, "eV", "Ha") == pytest.approx(1.0)
    with pytest.raises(ValueError, match="energy units are"):
        convert(1.0, "Å", "eV")
    spec = ArgSpec.list_of(PREDICTION).to_dict()
    cols, rows = unit_columns([{"atomization_energy": 1.5, "label": "a"}], spec) or ([], [])
    table = UnitTable(cols, rows)
    assert "atomization_energy (Hartree)" in table.table.value
    table.unit.value = "eV"
    assert "atomization_energy (eV)" in table.table.value and table.shown()[0][0] == pytest.approx(
        40.817, 1e-4
    )
    assert table.shown()[0][1] == "a"
    gap = unit_columns([1.2, 0.4], ArgSpec.ndarray([None], units="eV").to_dict())
    assert gap == ([("value", "eV")], [[1.2], [0.4]])
    assert unit_columns({"x": 1}, ArgSpec.dict_of({"x": "float"}).to_dict()) is None


def test_form_from_a_batch_schema_and_its_example() -> None:
    example = [{"xyz": "3\nwater\nO 0 0 0\nH 0 0 1\nH 0 1 0", "u0": -76.4}]
    params = {
        "kind": ArgSpec.scalar("string", choices=["direct", "indirect", "auto"], default="auto").to_dict()
    }
    form = SchemaForm(ArgSpec.list_of(MOLECULE).to_dict(), params, example)
    assert form.batch_of_one and isinstance(form.input_fields["xyz"], w.Textarea)
    assert form.input_fields["u0"].description == "u0 (Hartree)" and form.input_fields["u0"].value == -76.4
    assert list(form.pickers) == ["xyz"] and form.pickers["xyz"].accept == ".xyz,.txt"
    kind = form.parameter_fields["kind"]
    assert isinstance(kind, w.Dropdown) and kind.value == "auto"
    assert form.values() == (example, {"kind": "auto"})  # the example runs as given
    co = b"2\nCO\nC 0 0 0\nO 0 0 1.1"
    form.pickers["xyz"].value = (
        {
            "name": "co.xyz",
            "type": "",
            "size": len(co),
            "last_modified": dt.datetime(2026, 12, 7, tzinfo=dt.UTC),
            "content": memoryview(co),
        },
    )
    assert form.inputs()[0]["xyz"].startswith("2\nCO")


def test_types_and_the_readable_form_in_words() -> None:
    assert (
        spec_text(ArgSpec.ndarray([None, 32, 32, 1], dtype="float32").to_dict())
        == "array (n \N{MULTIPLICATION SIGN} 32 \N{MULTIPLICATION SIGN} 32 \N{MULTIPLICATION SIGN} 1) of float32"
    )
    assert (
        spec_text(ArgSpec.list_of(MOLECULE).to_dict()) == "list of {xyz: text (xyz, Å), u0: number (Hartree)}"
    )
    rows = schema_rows({"input": ArgSpec.list_of(MOLECULE).to_dict(), "output": PREDICTION.to_dict()})
    assert [r["name"] for r in rows] == ["input.xyz", "input.u0", "output"]
    assert rows[1]["type"] == "number (Hartree)"
