"""Notebook fixtures: small notebooks built here, and one kernel pool for the module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("papermill")
pytest.importorskip("ipykernel")

from nbformat.v4 import new_code_cell, new_notebook  # noqa: E402


def make_notebook(path: Path, params: str, *cells: str) -> Path:
    nb = new_notebook(
        cells=[new_code_cell(params, metadata={"tags": ["parameters"]})] + [new_code_cell(c) for c in cells]
    )
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))
    return path


ROUNDTRIP = """
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from hub.notebooks import record
record("n", n)
record("x", x * 2)
record("label", label)
record("flag", not flag)
record("nothing", None)
record("items", [1, "a", [2.5]])
record("mapping", {"a": 1, "b": [1, 2]})
record("nan", float("nan"))
record("arr", np.arange(n * 3, dtype="float32").reshape(n, 3))
record("iarr", np.array([[1, 2], [3, 4]], dtype=np.int64))
record("frame", pd.DataFrame({"a": np.arange(n), "b": [label] * n}, index=pd.Index(list("pqrstuvw"[:n]), name="k")))
record("series", pd.Series([1.5, 2.5], name="s"))
fig, ax = plt.subplots()
ax.plot([1, 2, 3])
record("fig", fig)
"""


@pytest.fixture()
def make_nb(tmp_path: Path) -> object:
    """``make_nb(name, params, *cells)``: a notebook in tmp_path."""
    return lambda name, params, *cells: make_notebook(tmp_path / name, params, *cells)


@pytest.fixture(scope="session")
def pool() -> Iterator[object]:
    from hub.notebooks.pool import KernelPool

    with KernelPool(2, "python3") as p:
        yield p


@pytest.fixture()
def roundtrip_nb(tmp_path: Path) -> Path:
    return make_notebook(tmp_path / "roundtrip.ipynb", "n = 2\nx = 1.5\nlabel = 'a'\nflag = True", ROUNDTRIP)


@pytest.fixture()
def failing_nb(tmp_path: Path) -> Path:
    return make_notebook(
        tmp_path / "failing.ipynb",
        "fail = False\nvalue = 1",
        "from hub.notebooks import record\nrecord('before', value)",
        "if fail:\n    raise ValueError(f'bad value {value}')\nrecord('after', value + 1)",
    )
