"""A metadata document as a collapsible HTML tree (``<details>``: folding needs no kernel)."""

from __future__ import annotations

import html
from typing import Any

#: Items of a list shown before "... N more".
MAX_ITEMS = 12


def _leaf(value: Any) -> str:
    if isinstance(value, str):
        return f"<span style='color:#0a5a9c'>{html.escape(value)}</span>"
    if isinstance(value, bool) or value is None:
        return f"<span style='color:#8250df'>{html.escape(str(value).lower())}</span>"
    if isinstance(value, float):
        return f"<span style='color:#116329'>{value:.8g}</span>"
    return f"<span style='color:#116329'>{html.escape(str(value))}</span>"


def _is_flat(value: list[Any]) -> bool:
    return all(not isinstance(x, (dict, list)) for x in value) or all(
        isinstance(x, list) and all(not isinstance(y, (dict, list)) for y in x) for x in value
    )


def _node(key: str, value: Any, depth: int, open_depth: int) -> str:
    k = f"<b>{html.escape(key)}</b>"
    if isinstance(value, dict):
        if not value:
            return f"<div>{k}: {{}}</div>"
        inner = "".join(_node(str(kk), vv, depth + 1, open_depth) for kk, vv in value.items())
        opened = " open" if depth < open_depth else ""
        return (
            f"<details{opened}><summary>{k} <span style='color:#888'>({len(value)})</span></summary>"
            f"<div style='margin-left:16px'>{inner}</div></details>"
        )
    if isinstance(value, list):
        if not value:
            return f"<div>{k}: []</div>"
        if _is_flat(value):
            shown = ", ".join(
                "[" + ", ".join(_leaf(y) for y in x) + "]" if isinstance(x, list) else _leaf(x)
                for x in value[:MAX_ITEMS]
            )
            more = (
                f" <i style='color:#888'>… {len(value) - MAX_ITEMS} more</i>"
                if len(value) > MAX_ITEMS
                else ""
            )
            return f"<div>{k}: [{shown}]{more}</div>"
        inner = "".join(_node(f"[{i}]", x, depth + 1, open_depth) for i, x in enumerate(value[:MAX_ITEMS]))
        if len(value) > MAX_ITEMS:
            inner += f"<div><i style='color:#888'>… {len(value) - MAX_ITEMS} more</i></div>"
        opened = " open" if depth < open_depth else ""
        return (
            f"<details{opened}><summary>{k} <span style='color:#888'>[{len(value)}]</span></summary>"
            f"<div style='margin-left:16px'>{inner}</div></details>"
        )
    return f"<div>{k}: {_leaf(value)}</div>"


def tree_html(document: dict[str, Any], open_depth: int = 1) -> str:
    """The document as nested ``<details>``; blocks down to ``open_depth`` start unfolded."""
    body = "".join(_node(str(k), v, 0, open_depth) for k, v in document.items())
    return f"<div class='mh-tree' style='font-family:monospace;font-size:12px;line-height:1.5'>{body}</div>"
