"""A servable's input made from what a person has at hand: an uploaded file or the values of
a field in search hits, shaped to the servable's input schema (an ArgSpec document block)."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

import numpy as np
from hub.widgets.docpath import value_at


def coerce(value: Any, spec: Mapping[str, Any] | None) -> Any:
    """``value`` in the form ``spec`` asks for: an ndarray (with its dtype) for ``ndarray``,
    a list for ``list``, numbers for ``float``/``integer``; anything else unchanged."""
    kind = (spec or {}).get("type")
    if kind == "ndarray":
        if hasattr(value, "to_numpy"):
            value = value.to_numpy()
        dtype = (spec or {}).get("dtype")
        item = ((spec or {}).get("item_type") or {}).get("type")
        if dtype is None and item in ("float", "number"):
            dtype = "float64"
        return np.asarray(value, dtype=dtype)
    if kind == "list" and not isinstance(value, list):
        if hasattr(value, "tolist"):
            return value.tolist()
        return list(value) if isinstance(value, (tuple, set)) else [value]
    if kind in ("float", "number") and isinstance(value, str):
        return float(value)
    if kind == "integer" and isinstance(value, str):
        return int(value)
    return value


def value_from_file(name: str, content: bytes, spec: Mapping[str, Any] | None = None) -> Any:
    """Read an uploaded file as the input ``spec`` expects.

    ``.npy`` -> ndarray; ``.npz`` -> its only array (or a dict of them); ``.json`` -> JSON;
    ``.csv``/``.tsv`` -> a DataFrame (an ndarray when an ndarray is expected, else a list of
    rows); text -> str; a ``file`` input gets the bytes themselves.
    """
    kind = (spec or {}).get("type")
    if kind == "file":
        return bytes(content)
    suffix = PurePath(name).suffix.lower()
    if suffix == ".npy":
        return coerce(np.load(io.BytesIO(content), allow_pickle=False), spec)
    if suffix == ".npz":
        with np.load(io.BytesIO(content), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        return coerce(next(iter(arrays.values())), spec) if len(arrays) == 1 else arrays
    if suffix == ".json":
        return coerce(json.loads(content.decode("utf-8")), spec)
    if suffix in (".csv", ".tsv"):
        import pandas as pd

        frame = pd.read_csv(io.BytesIO(content), sep="\t" if suffix == ".tsv" else ",", comment="#")
        if kind == "ndarray":
            return coerce(frame, spec)
        if kind == "list":
            return frame.iloc[:, 0].tolist() if frame.shape[1] == 1 else frame.to_dict("records")
        return frame
    if kind in ("string", None, "unknown"):
        return content.decode("utf-8")
    raise ValueError(
        f"cannot read {name!r} as {kind}: give a .npy, .npz, .json or .csv file "
        "(or a text file for a string input)"
    )


def values_from_hits(hits: list[Any], field: str) -> tuple[list[str], list[Any]]:
    """(hit ids, values) of ``field`` in each hit that has it."""
    ids, values = [], []
    for h in hits:
        v = value_at(h.document, field)
        if v is not None:
            ids.append(h.id)
            values.append(v)
    return ids, values
