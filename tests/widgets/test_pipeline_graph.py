"""A pipeline in the servables panel: its steps as boxes with arrows, each with its exact
version and its input -> output types."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import numpy as np
from hub.widgets import ServablePanel
from hub.widgets.pipeline_graph import pipeline_svg

from hub import Hub


def widen(x: Annotated[np.ndarray, (None, 2)]) -> Annotated[np.ndarray, (None, 3)]:
    return np.concatenate([x, x[:, :1]], axis=1)


def halve(x: np.ndarray) -> np.ndarray:
    return np.asarray(x) / 2


def total(x: np.ndarray) -> float:
    return float(np.asarray(x).sum())


def test_the_panel_draws_a_pipeline_as_a_graph(tmp_path: Path) -> None:
    hub = Hub(tmp_path / "hub", user="alice", progress=False)
    try:
        first = hub.publish_servable(hub.describe(widen))
        last = hub.publish_servable(hub.describe(total))
        name = hub.publish_servable(hub.pipeline([first, halve, last], name="drawn"))
        panel = ServablePanel(hub, "servable.type:pipeline")
        assert [v for _, v in panel.choice.options] == [name]
        panel.select(name)
        svg = panel.graph.value
        assert len(re.findall(r"class='mh-step'", svg)) == 3
        assert svg.count("<line") == 2 and "marker-end" in svg
        for label in ("1. alice/widen@1", "2. adapter:halve", "3. alice/total@1"):
            assert label in svg
        assert "array (n \N{MULTIPLICATION SIGN} 2)" in svg and "→ number" in svg
        assert panel.graph in panel.children
        panel.select(first)
        assert panel.graph.value == ""
        assert pipeline_svg({"pipeline": {"steps": []}}) == ""
    finally:
        hub.close()
