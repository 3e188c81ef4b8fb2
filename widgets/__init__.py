"""The Jupyter front ends of MatterHub (installed as ``hub.widgets``): ipywidgets panels
for faceted search, publishing and servable runs, and the Voila dashboards built from them.

>>> from hub import Hub
>>> from hub.widgets import SearchPanel, PublishPanel, ServablePanel
>>> SearchPanel(Hub())          # doctest: +SKIP

The panels use only the public hub API (:class:`~hub.api.HubAPI`), so they work the same over an
embedded hub and a remote one.  ``python -m hub.widgets.serve --hub DIR`` serves the
dashboards in ``notebooks/dashboards`` with Voila.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hub.widgets.publish import PublishPanel
    from hub.widgets.search import SearchPanel
    from hub.widgets.servables import ServablePanel

__all__ = ["PublishPanel", "SearchPanel", "ServablePanel"]

_HOMES = {
    "SearchPanel": "hub.widgets.search",
    "PublishPanel": "hub.widgets.publish",
    "ServablePanel": "hub.widgets.servables",
}


def __getattr__(name: str) -> Any:
    """Import a panel on first use (``python -m hub.widgets.serve`` needs no ipywidgets)."""
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'hub.widgets' has no attribute {name!r}")
