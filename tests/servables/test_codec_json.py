"""Inputs as JSON (hub/servables/codec.py, from_json): what to_json writes comes back exact;
anything else is an InputValidationError that says where, never another exception."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from hub.exceptions import InputValidationError
from hub.servables.codec import DecodeLimits, from_json, to_json


def test_what_to_json_writes_comes_back() -> None:
    value = {
        "a": np.arange(6.0).reshape(2, 3),
        "b": [b"xy", float("nan"), float("-inf"), 1 + 2j, np.array(["ab", "c"])],
        "c": np.array(["2020-01-01"], dtype="datetime64[D]"),
        "d": np.zeros((0, 3), dtype=np.int16),
        "e": np.array([True, False]),
    }
    back = from_json(json.loads(json.dumps(to_json(value))), DecodeLimits())
    for key in ("a", "c", "d", "e"):
        assert np.array_equal(back[key], value[key]) and back[key].dtype == value[key].dtype
    assert back["b"][0] == b"xy" and np.isnan(back["b"][1]) and back["b"][2] == float("-inf")
    assert back["b"][3] == 1 + 2j and list(back["b"][4]) == ["ab", "c"]


@pytest.mark.parametrize(
    ("value", "where", "words"),
    [
        (
            {"__ndarray__": {"dtype": "O", "shape": [1], "data": "AAAAAAAAAAA="}},
            "inputs",
            "not a plain dtype",
        ),
        ({"__ndarray__": {"dtype": "<f8"}}, "inputs", "dtype, shape and data"),
        ({"__ndarray__": [1, 2]}, "inputs", "dtype, shape and data"),
        ({"__ndarray__": {"dtype": "<f8", "shape": [10**12], "data": ""}}, "inputs", "do not fill"),
        ({"__ndarray__": {"dtype": "<f8", "shape": [-1], "data": ""}}, "inputs", "whole numbers"),
        ({"__ndarray__": {"dtype": "i4,f8", "shape": [1], "data": "AAAAAAAAAAAAAAAA"}}, "inputs", "plain"),
        ({"__ndarray__": {"dtype": {"names": ["a"]}, "shape": [1], "data": ""}}, "inputs", "strings"),
        ({"__ndarray__": {"dtype": "U0", "shape": [1], "data": ""}}, "inputs", "do not fill"),
        ({"__ndarray__": {"dtype": "bogus", "shape": [1], "data": ""}}, "inputs", "not understood"),
        ({"__ndarray__": {"dtype": "<f8", "shape": [1], "data": "%%%"}}, "inputs", "base64"),
        ({"__float__": [1]}, "inputs", "__float__"),
        ({"__float__": "one"}, "inputs", "could not convert"),
        ({"__complex__": "x"}, "inputs", "two numbers"),
        ({"__complex__": [1, True]}, "inputs", "two numbers"),
        ({"__bytes__": "%%%"}, "inputs", "base64"),
        ({"__bytes__": 3}, "inputs", "not a string"),
        ({"x": [1, {"__float__": None}]}, "inputs['x'][1]", "__float__"),
    ],
)
def test_malformed_tags(value: Any, where: str, words: str) -> None:
    with pytest.raises(InputValidationError, match=words) as info:
        from_json(value, DecodeLimits(), "inputs")
    assert str(info.value).startswith(where + ":"), str(info.value)
    assert info.value.errors[0]["input"] == where
    assert len(str(info.value)) < 1_000


def test_limits() -> None:
    deep: Any = 1
    for _ in range(70):
        deep = [deep]
    with pytest.raises(InputValidationError, match="64 levels"):
        from_json(deep, DecodeLimits(), "inputs")
    assert from_json(deep) is not None  # no limits: the catalog's own task results
    with pytest.raises(InputValidationError, match="3 tagged values"):
        from_json([{"__float__": "nan"}] * 4, DecodeLimits(max_tags=3))
    assert len(from_json([{"__float__": "nan"}] * 3, DecodeLimits(max_tags=3))) == 3
