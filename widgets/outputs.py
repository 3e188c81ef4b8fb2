"""A servable's outputs as widgets: arrays as images (2-D) or plots (1-D), tables as
tables, dicts part by part, anything else as text.  (matplotlib is imported on the first
picture, not with the panel.)"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as w
import numpy as np

#: Parts of a list or dict output shown before "... N more".
MAX_PARTS = 12


def _image(png: bytes) -> w.Image:
    img = w.Image(value=png, format="png", layout=w.Layout(max_width="460px"))
    img.add_class("mh-output-image")
    return img


def _text(value: Any, title: str) -> w.HTML:
    body = html.escape(repr(value) if not isinstance(value, str) else value)
    if len(body) > 4000:
        body = body[:4000] + " …"
    head = f"<b>{html.escape(title)}</b>: " if title else ""
    out = w.HTML(f"<div class='mh-output-text'>{head}<code style='white-space:pre-wrap'>{body}</code></div>")
    return out


def _table(frame: Any, title: str) -> w.HTML:
    head = f"<b>{html.escape(title)}</b> " if title else ""
    more = f"<i>first 50 of {len(frame):,} rows</i>" if len(frame) > 50 else ""
    return w.HTML(
        f"<div class='mh-output-table' style='max-height:360px;overflow:auto'>{head}{more}"
        f"{frame.head(50).to_html(max_cols=20, float_format=lambda x: f'{x:.6g}')}</div>"
    )


def _numeric(arr: np.ndarray) -> bool:
    return arr.dtype.kind in "fiucb"


def render(value: Any, title: str = "") -> list[w.Widget]:
    """Widgets showing ``value``."""
    import pandas as pd

    if hasattr(value, "dims") and hasattr(value, "values") and not isinstance(value, Mapping):  # xarray
        dims = ", ".join(map(str, getattr(value, "dims", ())))
        return render(np.asarray(value.values), f"{title} ({dims})".strip())
    if isinstance(value, pd.DataFrame):
        return [_table(value, title)]
    if isinstance(value, pd.Series):
        return [_table(value.to_frame(), title)]
    if isinstance(value, np.ndarray) or (
        isinstance(value, (list, tuple)) and value and all(isinstance(x, (int, float)) for x in value)
    ):
        arr = np.asarray(value)
        if arr.dtype.kind == "c" or _numeric(arr):
            squeezed = np.squeeze(arr)
            if squeezed.ndim == 0:
                return [_text(squeezed.item(), title)]
            from hub.widgets.plotting import array_png, line_png

            if squeezed.ndim == 1:
                widgets: list[w.Widget] = [
                    _image(line_png(squeezed.real, title=title or f"{squeezed.size} values"))
                ]
                if squeezed.size <= 20:
                    widgets.append(_text(squeezed.tolist(), title))
                return widgets
            return [_image(array_png(arr, title=title))]
        return [_text(arr.tolist(), title)]
    if isinstance(value, Mapping):
        out: list[w.Widget] = []
        for i, (k, v) in enumerate(value.items()):
            if i == MAX_PARTS:
                out.append(w.HTML(f"<i>… {len(value) - MAX_PARTS} more keys</i>"))
                break
            out += render(v, f"{title}.{k}" if title else str(k))
        return out
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)) and value:
        if all(isinstance(x, Mapping) for x in value):
            return [_table(pd.DataFrame(list(value)), title)]
        out = []
        for i, v in enumerate(value[:MAX_PARTS]):
            out += render(v, f"{title}[{i}]")
        if len(value) > MAX_PARTS:
            out.append(w.HTML(f"<i>… {len(value) - MAX_PARTS} more</i>"))
        return out
    return [_text(value, title)]


def batch_table(ids: Sequence[str], inputs: Sequence[Any], outputs: Sequence[Any]) -> Any:
    """A DataFrame with one row per batch item: hit id, input and output (scalars as numbers)."""
    import pandas as pd

    def cell(v: Any) -> Any:
        if isinstance(v, np.ndarray):
            return v.item() if v.size == 1 else f"array{tuple(v.shape)}"
        if isinstance(v, np.generic):
            return v.item()
        return v

    return pd.DataFrame(
        {"hit": list(ids), "input": [cell(v) for v in inputs], "output": [cell(v) for v in outputs]}
    )
