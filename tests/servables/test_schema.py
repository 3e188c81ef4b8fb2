"""The typed argument schema: validation messages, coercion, JSON Schema, type hints."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import numpy.typing as npt
import pytest

from hub.exceptions import InputValidationError
from hub.servables.schema import ArgSpec, check_parameters, from_annotation, parse_docstring


def test_ndarray_shape_mismatch_names_input_expected_and_given() -> None:
    spec = ArgSpec.ndarray([None, 4], "float")
    with pytest.raises(InputValidationError) as err:
        spec.check(np.zeros((3, 5)), "x")
    msg = str(err.value)
    assert "input 'x'" in msg
    assert "shape (None, 4)" in msg
    assert "shape (3, 5)" in msg
    assert err.value.errors == [
        {
            "input": "x",
            "expected": "an ndarray of shape (None, 4) with float items (None: any size)",
            "given": "an ndarray of shape (3, 5) with float64 items",
        }
    ]


def test_ndarray_item_type_and_list_coercion() -> None:
    spec = ArgSpec.ndarray([None, 2], "float", dtype="float32")
    out = spec.check([[1, 2], [3, 4]], "x")
    assert isinstance(out, np.ndarray) and out.dtype == np.float32 and out.shape == (2, 2)
    with pytest.raises(InputValidationError, match="with <U1 items"):
        spec.check(np.array([["a", "b"]]), "x")
    with pytest.raises(InputValidationError, match="not a rectangular array"):
        spec.check([[1, 2], [3]], "x")
    with pytest.raises(InputValidationError, match="got a string 'abc'"):
        spec.check("abc", "x")


def test_scalars_lists_dicts_and_files(tmp_path: Path) -> None:
    assert ArgSpec.scalar("integer").check(np.int64(3), "n") == 3
    with pytest.raises(InputValidationError, match="expected an integer; got a boolean True"):
        ArgSpec.scalar("integer").check(True, "n")
    with pytest.raises(InputValidationError, match="expected a float; got a string"):
        ArgSpec.scalar("float").check("1.0", "t")
    assert ArgSpec.list_of("string").check(["a", "b"], "names") == ["a", "b"]
    with pytest.raises(
        InputValidationError, match=r"input 'names\[1\]': expected a string; got an integer 2"
    ):
        ArgSpec.list_of("string").check(["a", 2], "names")
    d = ArgSpec.dict_of({"a": "float", "b": ArgSpec.scalar("string", default="x")})
    assert d.check({"a": 1}, "input") == {"a": 1.0}
    with pytest.raises(InputValidationError, match="missing 'a'; unexpected 'c'"):
        d.check({"c": 1}, "input")
    f = tmp_path / "f.txt"
    f.write_text("x")
    assert ArgSpec.scalar("file").check(f, "path") == str(f)
    with pytest.raises(InputValidationError, match="no such file"):
        ArgSpec.scalar("file").check(str(tmp_path / "missing"), "path")


def test_parameters_unknown_name_lists_known_ones() -> None:
    specs = {"batch_size": ArgSpec.scalar("integer", default=32)}
    assert check_parameters(specs, {"batch_size": 8}) == {"batch_size": 8}
    with pytest.raises(InputValidationError, match=r"unknown parameter.*'bs'.*takes: batch_size"):
        check_parameters(specs, {"bs": 8})


def test_json_schema_export() -> None:
    schema = ArgSpec.ndarray(
        [None, 32, 32, 1], "float", dtype="float32", description="intensity"
    ).json_schema()
    assert schema["type"] == "array" and "minItems" not in schema
    inner = schema["items"]
    assert inner["minItems"] == inner["maxItems"] == 32
    assert inner["items"]["items"]["items"] == {"type": "number"}
    assert schema["x-ndarray"] == {"shape": [None, 32, 32, 1], "dtype": "float32"}
    assert schema["description"] == "intensity"
    d = ArgSpec.dict_of({"a": "string", "b": "boolean"}).json_schema()
    assert d == {
        "type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": "boolean"}},
        "required": ["a", "b"],
        "additionalProperties": False,
    }
    assert ArgSpec.scalar("integer", nullable=True).json_schema() == {
        "anyOf": [{"type": "integer"}, {"type": "null"}]
    }


def test_from_annotation() -> None:
    assert from_annotation(float).type == "float"
    assert from_annotation(bool).type == "boolean"
    spec = from_annotation(npt.NDArray[np.float32])
    assert (spec.type, spec.dtype, spec.item_type and spec.item_type.type) == ("ndarray", "float32", "float")
    shaped = from_annotation(Annotated[np.ndarray, (None, 3), "positions in Å"])
    assert shaped.shape == [None, 3] and shaped.description == "positions in Å"
    lst = from_annotation(list[str])
    assert lst.type == "list" and lst.item_type is not None and lst.item_type.type == "string"
    tup = from_annotation(tuple[int, str])
    assert [e.type for e in tup.element_types or []] == ["integer", "string"]
    opt = from_annotation(float | None)
    assert opt.type == "float" and opt.nullable
    assert from_annotation(Path).type == "file"


def test_parse_numpy_docstring() -> None:
    summary, params, returns = parse_docstring(
        """Scale a vector.

        Parameters
        ----------
        x : ndarray
            The vector.
        factor : float
            How much.

        Returns
        -------
        ndarray
            The scaled vector.
        """
    )
    assert summary == "Scale a vector."
    assert params == {"x": "The vector.", "factor": "How much."}
    assert returns == "The scaled vector."


def test_dlhub_free_text_types() -> None:
    spec = ArgSpec.from_dlhub({"type": "XYZ file", "description": "coordinates"})
    assert spec.type == "file" and spec.format == "XYZ"
    obj = ArgSpec.from_dlhub({"type": "pandas DataFrame"})
    assert obj.type == "python object" and obj.python_type == "pandas DataFrame"


def test_choices_from_literal_and_enum() -> None:
    import enum
    from typing import Literal

    class Gap(enum.Enum):
        DIRECT = "direct"
        INDIRECT = "indirect"

    spec = from_annotation(Literal["direct", "indirect", "auto"])
    assert spec.type == "string" and spec.choices == ["direct", "indirect", "auto"]
    assert spec.describe() == "one of direct, indirect, auto"
    assert spec.json_schema() == {"type": "string", "enum": ["direct", "indirect", "auto"]}
    assert spec.check("auto") == "auto"
    with pytest.raises(
        InputValidationError, match="expected one of direct, indirect, auto; got a string 'x'"
    ):
        spec.check("x", "kind")
    assert from_annotation(Gap).choices == ["direct", "indirect"]
    assert from_annotation(Literal[1, 2]).type == "integer"
