"""``record(name, value)``: a notebook's named outputs, kept in the executed notebook.

A recorded value is display data with the MIME type :data:`MIME`; its JSON
payload says what it is and holds it losslessly:

========== ========================================================
kind       data
========== ========================================================
json       the value itself (None, bool, int, float, str, lists, dicts)
ndarray    base64 of the ``.npy`` file (``allow_pickle=False``)
dataframe  base64 of a Parquet file (index and dtypes kept)
figure     base64 PNG (also shown as ``image/png``)
========== ========================================================

The runner reads them back with :func:`read_records`.
"""

from __future__ import annotations

import base64
import io
import json
import math
from dataclasses import dataclass
from typing import Any

from hub.exceptions import ValidationError

MIME = "application/vnd.matterhub.record+json"
VERSION = 1


@dataclass(frozen=True)
class RecordedFigure:
    """A recorded matplotlib figure, read back as PNG bytes (shown as an image in Jupyter)."""

    png: bytes

    def _repr_png_(self) -> bytes:
        return self.png

    def save(self, path: str) -> None:
        """Write the PNG bytes to ``path`` (overwriting it)."""
        with open(path, "wb") as f:
            f.write(self.png)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _is_json(value: Any) -> bool:
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return False
    same: bool = json.loads(text) == value
    return same


def encode(name: str, value: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The payload of ``value`` and the extra MIME bundle entries that show it to people."""
    if not isinstance(name, str) or not name:
        raise ValidationError(f"record() needs a non-empty string name, got {name!r}")
    head: dict[str, Any] = {"name": name, "version": VERSION}
    kind = type(value)
    module = kind.__module__.split(".")[0]
    if module == "numpy":
        import numpy as np

        if isinstance(value, np.generic):
            value = value.item()
        elif isinstance(value, np.ndarray):
            buf = io.BytesIO()
            np.save(buf, value, allow_pickle=False)
            return (
                {
                    **head,
                    "kind": "ndarray",
                    "dtype": str(value.dtype),
                    "shape": list(value.shape),
                    "data": _b64(buf.getvalue()),
                },
                {},
            )
    if module == "pandas":
        import pandas as pd

        if isinstance(value, pd.Series):
            value = value.to_frame()
            head["series"] = True
        if isinstance(value, pd.DataFrame):
            buf = io.BytesIO()
            value.to_parquet(buf)
            return (
                {
                    **head,
                    "kind": "dataframe",
                    "shape": list(value.shape),
                    "columns": [str(c) for c in value.columns],
                    "data": _b64(buf.getvalue()),
                },
                {"text/html": value.head(20).to_html()},
            )
    if module == "matplotlib" or hasattr(value, "savefig"):
        fig = value if hasattr(value, "savefig") else getattr(value, "figure", None)
        if fig is not None and hasattr(fig, "savefig"):
            buf = io.BytesIO()
            fig.savefig(buf, format="png", bbox_inches="tight")
            png = _b64(buf.getvalue())
            return {**head, "kind": "figure", "format": "png", "data": png}, {"image/png": png}
    if isinstance(value, float) and not math.isfinite(value):
        return {**head, "kind": "float", "data": repr(value)}, {}
    if _is_json(value):
        return {**head, "kind": "json", "data": value}, {}
    raise ValidationError(
        f"record({name!r}, ...) cannot keep a {kind.__module__}.{kind.__qualname__}; it keeps JSON values "
        "(numbers, strings, booleans, None, lists and dicts of them), numpy arrays, pandas DataFrames "
        "and Series, and matplotlib figures. Convert the value to one of these first."
    )


def decode(payload: dict[str, Any]) -> Any:
    """The value a payload made by :func:`encode` holds."""
    kind = payload.get("kind")
    data = payload.get("data")
    if kind == "json":
        return data
    if kind == "float":
        return float(data)  # type: ignore[arg-type]
    if kind == "ndarray":
        import numpy as np

        return np.load(io.BytesIO(base64.b64decode(data)), allow_pickle=False)  # type: ignore[arg-type]
    if kind == "dataframe":
        import pandas as pd

        frame = pd.read_parquet(io.BytesIO(base64.b64decode(data)))  # type: ignore[arg-type]
        return frame.iloc[:, 0] if payload.get("series") else frame
    if kind == "figure":
        return RecordedFigure(base64.b64decode(data))  # type: ignore[arg-type]
    raise ValidationError(
        f"unknown recorded value kind {kind!r} (known: json, float, ndarray, dataframe, figure)"
    )


def record(name: str, value: Any) -> Any:
    """Record ``value`` as the notebook output ``name``; returns ``value``.

    Call it in a notebook (run by papermill, ``matterhub batch`` or as a
    servable); the runner reads the recorded outputs back from the executed
    notebook.  Recording the same name twice keeps the last value.

    Examples
    --------
    >>> from hub.notebooks import record          # doctest: +SKIP
    >>> record("mae", 0.31)                        # doctest: +SKIP
    >>> record("parity", fig)                      # doctest: +SKIP
    """
    payload, extra = encode(name, value)
    bundle: dict[str, Any] = {MIME: payload, "text/plain": f"<matterhub record {name!r}: {payload['kind']}>"}
    bundle.update(extra)
    try:
        from IPython.display import display
    except ImportError:  # not in IPython: nothing to show the record to
        return value
    display(bundle, raw=True)  # type: ignore[no-untyped-call]
    if payload["kind"] == "figure":
        import contextlib

        with contextlib.suppress(Exception):
            import matplotlib.pyplot as plt

            plt.close(value)  # shown once, as the record, not again at the end of the cell
    return value


def read_records(nb: Any) -> dict[str, Any]:
    """The values recorded in an executed notebook (a ``NotebookNode`` or dict), by name, in order."""
    out: dict[str, Any] = {}
    for payload in iter_payloads(nb):
        out[payload["name"]] = decode(payload)
    return out


def iter_payloads(nb: Any) -> list[dict[str, Any]]:
    """The record payloads in an executed notebook's outputs, in cell and output order.

    A payload is the :data:`MIME` entry of an output's data (a dict, or its JSON text)
    that has a ``name``; other outputs are skipped.  Payloads are not decoded (see
    :func:`decode`).
    """
    found = []
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []) or []:
            data = output.get("data") or {}
            payload = data.get(MIME)
            if isinstance(payload, str):
                payload = json.loads(payload)
            if isinstance(payload, dict) and "name" in payload:
                found.append(payload)
    return found
