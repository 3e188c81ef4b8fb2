"""MatterHub: a Jupyter-native data and model hub for materials science."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["Hub", "__version__", "record"]


def __getattr__(name: str) -> Any:  # lazy, so ``import hub`` stays cheap for extractor workers
    if name == "Hub":
        from hub.api import Hub

        return Hub
    if name == "record":
        from hub.notebooks.record import record

        return record
    raise AttributeError(f"module 'hub' has no attribute {name!r}")
