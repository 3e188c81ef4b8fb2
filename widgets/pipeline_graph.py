"""A pipeline drawn as a graph: one box per step, arrows between them (inline SVG, no dependency).

Each box shows the step as a trace names it (``owner/name@version``, ``adapter:<function>``,
``source:search``, ``source:file``) and its input -> output types, read from the
pipeline's document (its ``pipeline.steps`` block).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from hub.widgets.type_words import spec_text

BOX_W, BOX_H, GAP, PAD = 230, 66, 36, 8
COLOURS = {"servable": "#e8f0fe", "adapter": "#fef7e0", "search": "#e6f4ea", "file": "#e6f4ea"}


def step_label(step: Mapping[str, Any]) -> str:
    """What a trace calls a step of a pipeline document."""
    kind = step.get("kind")
    if kind == "servable":
        return f"{step.get('id')}@{step.get('version')}" if step.get("version") else str(step.get("ref"))
    if kind == "adapter":
        return f"adapter:{step.get('function')}"
    return f"source:{kind}"


def _clip(text: str, n: int = 34) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def pipeline_svg(document: Mapping[str, Any]) -> str:
    """The steps of a pipeline's document as an SVG graph ("" for a servable that is no pipeline)."""
    steps = list((document.get("pipeline") or {}).get("steps") or [])
    if not steps:
        return ""
    width = len(steps) * BOX_W + (len(steps) - 1) * GAP + 2 * PAD
    height = BOX_H + 2 * PAD
    parts = [
        f"<svg class='mh-pipeline' xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"font-family='sans-serif' font-size='11'>",
        "<defs><marker id='mh-arrow' markerWidth='8' markerHeight='8' refX='7' refY='4' orient='auto'>"
        "<path d='M0,0 L8,4 L0,8 z' fill='#555'/></marker></defs>",
    ]
    for i, step in enumerate(steps):
        x = PAD + i * (BOX_W + GAP)
        label = step_label(step)
        types = f"{spec_text(step.get('input') or {})} -> {spec_text(step.get('output') or {})}"
        fill = COLOURS.get(str(step.get("kind")), "#eee")
        parts.append(
            f"<g class='mh-step' data-step='{i + 1}'>"
            f"<rect x='{x}' y='{PAD}' width='{BOX_W}' height='{BOX_H}' rx='6' fill='{fill}' stroke='#888'/>"
            f"<text x='{x + 8}' y='{PAD + 18}' font-weight='bold'>{i + 1}. {html.escape(_clip(label))}</text>"
            f"<text x='{x + 8}' y='{PAD + 36}'>{html.escape(_clip(spec_text(step.get('input') or {}), 40))}</text>"
            f"<text x='{x + 8}' y='{PAD + 54}'>→ {html.escape(_clip(spec_text(step.get('output') or {}), 38))}</text>"
            f"<title>{html.escape(label)}: {html.escape(types)}</title></g>"
        )
        if i:
            parts.append(
                f"<line x1='{x - GAP}' y1='{PAD + BOX_H / 2}' x2='{x - 2}' y2='{PAD + BOX_H / 2}' "
                "stroke='#555' stroke-width='1.5' marker-end='url(#mh-arrow)'/>"
            )
    parts.append("</svg>")
    return "".join(parts)
