"""record() payloads round-trip every value type without a kernel."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from hub.exceptions import ValidationError
from hub.notebooks.record import RecordedFigure, decode, encode


@pytest.mark.parametrize(
    "value",
    [0, -3, 2.5, "text", True, None, [1, "a", [2.0]], {"a": {"b": [1, 2]}}],
)
def test_json_values(value: object) -> None:
    payload, _ = encode("v", value)
    assert decode(json.loads(json.dumps(payload))) == value


def test_special_floats_and_numpy_scalars() -> None:
    assert math.isinf(decode(encode("v", float("inf"))[0]))
    assert math.isnan(decode(encode("v", float("nan"))[0]))
    assert decode(encode("v", np.float32(1.5))[0]) == 1.5


def test_arrays_are_lossless() -> None:
    for arr in (np.arange(12, dtype="float32").reshape(3, 4), np.array([1 + 2j]), np.array(["a", "bc"])):
        back = decode(json.loads(json.dumps(encode("a", arr)[0])))
        assert back.dtype == arr.dtype and np.array_equal(back, arr)


def test_frames_keep_index_and_dtypes() -> None:
    df = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}, index=pd.Index(["p", "q"], name="k"))
    pd.testing.assert_frame_equal(decode(encode("f", df)[0]), df)
    s = pd.Series([1.0, 2.0], name="s")
    pd.testing.assert_series_equal(decode(encode("s", s)[0]), s)


def test_figure_is_png() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, _ = plt.subplots()
    payload, extra = encode("fig", fig)
    assert "image/png" in extra
    back = decode(payload)
    assert isinstance(back, RecordedFigure) and back.png.startswith(b"\x89PNG")
    plt.close(fig)


def test_unsupported_value_says_what_is_allowed() -> None:
    with pytest.raises(ValidationError, match="numpy arrays, pandas DataFrames"):
        encode("o", object())
