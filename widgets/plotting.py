"""Pictures as PNG bytes, drawn with matplotlib's object API (no pyplot state, no GUI backend)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def new_figure(width: float = 4.0, height: float = 3.2) -> Figure:
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def figure_png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()


def array_png(array: Any, title: str = "", cmap: str = "viridis") -> bytes:
    """A 2-D array (or the real part / modulus of a complex one) as an image with a colour bar.

    A 3-D array with a last axis of 3 or 4 is drawn as RGB(A); other 3-D arrays show their
    middle slice along the first axis, titled so.
    """
    arr = np.asarray(array)
    if np.iscomplexobj(arr):
        arr = np.abs(arr)
        title = f"{title} |modulus|".strip()
    squeezed = np.squeeze(arr)
    if squeezed.ndim == 3 and squeezed.shape[-1] not in (3, 4):
        mid = squeezed.shape[0] // 2
        squeezed = squeezed[mid]
        title = f"{title} slice {mid} of {arr.shape[0]}".strip()
    if squeezed.ndim != 2 and not (squeezed.ndim == 3 and squeezed.shape[-1] in (3, 4)):
        raise ValueError(f"an image needs a 2-D array; got shape {arr.shape}")
    fig = new_figure()
    ax = fig.add_subplot()
    shown = ax.imshow(squeezed, cmap=cmap, origin="upper", interpolation="nearest")
    if squeezed.ndim == 2:
        fig.colorbar(shown, ax=ax, shrink=0.85)
    ax.set_title(title or f"array {tuple(arr.shape)}", fontsize=9)
    return figure_png(fig)


def line_png(
    y: Any, x: Sequence[float] | None = None, title: str = "", xlabel: str = "", ylabel: str = ""
) -> bytes:
    """One or more 1-D series (a 2-D array: one line per row) as a line plot."""
    ys = np.atleast_2d(np.asarray(y, dtype=float))
    fig = new_figure(4.5, 3.0)
    ax = fig.add_subplot()
    for row in ys:
        ax.plot(np.arange(row.size) if x is None else x, row, lw=1.2)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return figure_png(fig)


def bars_png(labels: Sequence[str], values: Sequence[float], title: str = "") -> bytes:
    fig = new_figure(4.5, 3.0)
    ax = fig.add_subplot()
    ax.bar(range(len(values)), values, color="#3b6ea8")
    ax.set_xticks(range(len(values)), [str(v) for v in labels], rotation=60, ha="right", fontsize=7)
    ax.set_title(title, fontsize=9)
    return figure_png(fig)
