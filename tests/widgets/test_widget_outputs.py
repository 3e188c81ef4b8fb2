"""Outputs as pictures and tables, inputs from files, forms from schemas, metadata trees,
structure pictures: the pieces the panels are made of."""

from __future__ import annotations

import io
import json

import ipywidgets as w
import numpy as np
import pandas as pd
import pytest
from hub.widgets.inputs import coerce, value_from_file, values_from_hits
from hub.widgets.namespace import push, valid_name
from hub.widgets.outputs import batch_table, render
from hub.widgets.plotting import array_png
from hub.widgets.schema_form import SchemaForm
from hub.widgets.structure import has_structure, structure_png
from hub.widgets.tree import MAX_ITEMS, tree_html
from hub.widgets.type_words import spec_text

from hub.servables.schema import ArgSpec

PNG = b"\x89PNG\r\n\x1a\n"


def kinds(widgets: list[w.Widget]) -> list[str]:
    return [type(x).__name__ for x in widgets]


def test_arrays_become_pictures() -> None:
    image = render(np.arange(12.0).reshape(3, 4), "frame")
    assert kinds(image) == ["Image"] and bytes(image[0].value).startswith(PNG)
    line = render(np.linspace(0, 1, 50))
    assert kinds(line) == ["Image"]
    short = render([1.0, 2.0, 3.0])
    assert kinds(short) == ["Image", "HTML"] and "[1.0, 2.0, 3.0]" in short[1].value
    assert kinds(render(np.ones((4, 4), dtype=complex))) == ["Image"]
    assert kinds(render(np.zeros((5, 6, 7)))) == ["Image"]  # the middle slice
    assert "3.5" in render(np.array(3.5))[0].value


def test_tables_dicts_and_text() -> None:
    frame = pd.DataFrame({"formula": ["NaCl", "MgO"], "gap": [5.0, 7.8]})
    table = render(frame, "t")
    assert kinds(table) == ["HTML"] and "<table" in table[0].value and "MgO" in table[0].value
    rows = render([{"a": 1}, {"a": 2}])
    assert kinds(rows) == ["HTML"] and "<table" in rows[0].value
    parts = render({"image": np.eye(3), "label": "ok"})
    assert kinds(parts) == ["Image", "HTML"] and "label" in parts[1].value
    assert "&lt;b&gt;" in render("<b>")[0].value  # escaped
    many = render([f"part {i}" for i in range(20)])
    assert len(many) == 13 and "part 11" in many[11].value and "8 more" in many[-1].value


def test_batch_table() -> None:
    t = batch_table(["r.1", "r.2"], ["NaCl", "MgO"], [np.float64(58.4), np.array([40.3])])
    assert t.to_dict("list") == {"hit": ["r.1", "r.2"], "input": ["NaCl", "MgO"], "output": [58.4, 40.3]}


def test_values_from_files() -> None:
    arr = np.arange(6.0).reshape(2, 3)
    buf = io.BytesIO()
    np.save(buf, arr)
    spec = ArgSpec.ndarray([None, 3]).to_dict()
    np.testing.assert_array_equal(value_from_file("x.npy", buf.getvalue(), spec), arr)
    assert value_from_file("x.json", b'{"a": 1}') == {"a": 1}
    got = value_from_file("t.csv", b"# ref: somewhere\nx,y\n1,2\n3,4\n", spec)
    np.testing.assert_array_equal(got, [[1.0, 2.0], [3.0, 4.0]])
    assert value_from_file("t.csv", b"f\nNaCl\nMgO\n", {"type": "list"}) == ["NaCl", "MgO"]
    assert isinstance(value_from_file("t.csv", b"f,g\n1,2\n"), pd.DataFrame)
    assert value_from_file("a.cif", b"data_x", {"type": "file"}) == b"data_x"
    assert value_from_file("a.txt", b"hello", {"type": "string"}) == "hello"
    with pytest.raises(ValueError, match="cannot read"):
        value_from_file("a.bin", b"\x00", {"type": "integer"})


def test_coerce_to_the_schema() -> None:
    out = coerce([[1, 2]], {"type": "ndarray", "item_type": {"type": "float"}})
    assert isinstance(out, np.ndarray) and out.dtype == np.float64
    assert coerce(np.array([1, 2]), {"type": "list"}) == [1, 2]
    assert coerce("2.5", {"type": "float"}) == 2.5 and coerce("3", {"type": "integer"}) == 3
    assert coerce("x", None) == "x"


def test_values_from_hits() -> None:
    class H:
        def __init__(self, i: str, doc: dict) -> None:
            self.id, self.document = i, doc

    ids, values = values_from_hits(
        [H("a", {"material": {"composition": "NaCl"}}), H("b", {})], "material.composition"
    )
    assert ids == ["a"] and values == ["NaCl"]


def test_form_from_a_schema() -> None:
    spec = ArgSpec.dict_of(
        {"mass": "float", "count": "integer", "name": "string", "flag": "boolean"}
    ).to_dict()
    params = {
        "scale": ArgSpec.scalar("float", default=2.0).to_dict(),
        "grid": ArgSpec.ndarray([None, 2]).to_dict(),
    }
    form = SchemaForm(spec, params)
    assert kinds(list(form.input_fields.values())) == ["FloatText", "IntText", "Text", "Checkbox"]
    form.input_fields["mass"].value = 1.5
    form.input_fields["count"].value = 3
    form.input_fields["name"].value = "x"
    form.parameter_fields["grid"].value = json.dumps([[1, 2], [3, 4]])
    inputs, parameters = form.values()
    assert inputs == {"mass": 1.5, "count": 3, "name": "x", "flag": False}
    assert parameters["scale"] == 2.0 and parameters["grid"].shape == (2, 2)
    form.parameter_fields["grid"].value = ""
    assert "grid" not in form.parameters()  # empty JSON: the servable's default
    single = SchemaForm(ArgSpec.ndarray([None, 4]).to_dict(), {})
    single.input_fields["input"].value = "[[1, 2, 3]"
    with pytest.raises(ValueError, match="input: not valid JSON"):
        single.inputs()
    assert spec_text(ArgSpec.ndarray([None, 4]).to_dict()) == "array (n \N{MULTIPLICATION SIGN} 4) of float"


def test_metadata_tree() -> None:
    doc = {"mdf": {"source_id": "x_v1", "tags": []}, "sites": list(range(40)), "files": [{"path": "a<b"}]}
    out = tree_html(doc)
    assert out.count("<details") == 3 and "x_v1" in out  # mdf, files, files[0] and "a&lt;b" in out
    assert f"… {40 - MAX_ITEMS} more" in out


def test_structure_pictures_only_for_structures() -> None:
    assert structure_png({"material": {"composition": "NaCl"}}) is None
    doc = {
        "material": {"composition": "NaCl"},
        "crystal_structure": {
            "species_at_sites": ["Na", "Cl"],
            "cartesian_site_positions": [[0, 0, 0], [2.8, 2.8, 2.8]],
            "lattice": [[5.6, 0, 0], [0, 5.6, 0], [0, 0, 5.6]],
            "pbc": [True, True, True],
        },
    }
    assert has_structure(doc) and structure_png(doc).startswith(PNG)
    with pytest.raises(ValueError, match="2-D"):
        array_png(np.zeros(3))


def test_namespace_names() -> None:
    assert valid_name("selection") and not valid_name("2x") and not valid_name("class")
    assert push("selection", 1) is False  # no IPython kernel in a test process
    with pytest.raises(ValueError, match="not a Python variable name"):
        push("a-b", 1)
