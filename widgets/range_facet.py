"""A numeric field as a range slider over its values, with a small histogram of the
current result's counts above it."""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from typing import Any

import ipywidgets as w


def nice_bounds(histogram: dict[str, Any] | None) -> tuple[float, float, float] | None:
    """(low, high, interval) covering the non-empty buckets of a histogram facet; None if none."""
    if not histogram:
        return None
    interval = float(histogram.get("interval") or 0) or 1.0
    full = [float(b["value"]) for b in histogram.get("buckets", []) if b["count"]]
    if not full:
        return None
    return min(full), max(full) + interval, interval


def _bars(histogram: dict[str, Any] | None, lo: float, hi: float, interval: float, bins: int) -> str:
    """An HTML bar chart of a histogram facet's counts on [lo, hi)."""
    counts = [0] * bins
    for b in (histogram or {}).get("buckets", []):
        i = math.floor((float(b["value"]) - lo) / interval + 1e-9)
        if 0 <= i < bins:
            counts[i] += int(b["count"])
    top = max(counts) or 1
    cells = "".join(
        f"<div title='{lo + i * interval:g} to {lo + (i + 1) * interval:g}: {c:,}' style='flex:1;"
        f"margin-right:1px;background:#3b6ea8;height:{max(1 if c else 0, round(28 * c / top))}px'></div>"
        for i, c in enumerate(counts)
    )
    return f"<div style='display:flex;align-items:flex-end;height:30px;width:100%'>{cells}</div>"


class RangeFacet(w.VBox):
    """A slider over ``[low, high]`` of one numeric field.

    ``on_change(callback)``: ``callback(field, bounds)`` when the slider is released;
    bounds is None when it spans the whole range again (no constraint).  ``units`` go into
    the title and the readout.
    """

    def __init__(
        self,
        field: str,
        low: float,
        high: float,
        interval: float,
        title: str | None = None,
        units: str | None = None,
    ) -> None:
        self.field = field
        self.units = units
        self.low, self.high, self.interval = float(low), float(high), float(interval)
        self.bins = max(1, round((self.high - self.low) / self.interval))
        self._callbacks: list[Callable[[str, tuple[float, float] | None], None]] = []
        self._updating = False
        step = (self.high - self.low) / 200 or 1.0
        self.slider = w.FloatRangeSlider(
            value=(self.low, self.high),
            min=self.low,
            max=self.high,
            step=step,
            continuous_update=False,
            readout=False,
            layout=w.Layout(width="98%"),
        )
        self.slider.observe(lambda ch: self._moved(tuple(ch["new"])), names="value")
        self.bars = w.HTML()
        self.readout = w.HTML()
        self._show_bounds(self.low, self.high)
        head = f"<b title='{html.escape(field, quote=True)}'>{html.escape(title or field)}</b>" + (
            f" <span class='mh-range-units' style='color:#555'>({html.escape(units)})</span>" if units else ""
        )
        super().__init__([w.HTML(head), self.bars, self.slider, self.readout])
        self.add_class("mh-range")
        self.add_class("mh-range-" + field.replace(".", "-"))

    def facet_spec(self) -> dict[str, Any]:
        """The histogram facet that feeds the bars (same interval as the slider's bins)."""
        return {"field": self.field, "type": "histogram", "interval": self.interval}

    def on_change(self, callback: Callable[[str, tuple[float, float] | None], None]) -> None:
        self._callbacks.append(callback)

    def _moved(self, value: tuple[float, float]) -> None:
        self._show_bounds(*value)
        if not self._updating:
            self.select(value)

    def _show_bounds(self, lo: float, hi: float) -> None:
        unit = f" {html.escape(self.units)}" if self.units else ""
        self.readout.value = f"<span style='font-size:11px;color:#555'>{lo:.4g} to {hi:.4g}{unit}</span>"

    def select(self, value: tuple[float, float] | None) -> None:
        """What moving the slider to ``value`` does (None: the whole range)."""
        bounds = None
        if value is not None:
            lo, hi = float(value[0]), float(value[1])
            eps = (self.high - self.low) * 1e-9
            if lo > self.low + eps or hi < self.high - eps:
                bounds = (lo, hi)
        for cb in self._callbacks:
            cb(self.field, bounds)

    def update(self, histogram: dict[str, Any] | None, bounds: tuple[float, float] | None = None) -> None:
        self.bars.value = _bars(histogram, self.low, self.high, self.interval, self.bins)
        want = bounds or (self.low, self.high)
        if tuple(self.slider.value) != tuple(want):
            self._updating = True
            try:
                self.slider.value = want
            finally:
                self._updating = False
