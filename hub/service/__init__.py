"""The hub service: the embedded hub's code behind a REST API (FastAPI on uvicorn).

``create_app(hub)`` builds the application over an open :class:`~hub.hubs.embedded.EmbeddedHub`;
``matterhub serve`` runs it.  Every request acts as the principal its bearer token
stands for (anonymous without one), through :meth:`Hub.acting_as`, so the access
rules are the embedded hub's own, enforced below every endpoint.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:  # lazy: ``matterhub --help`` imports hub.service.cli without FastAPI
    if name == "create_app":
        from hub.service.app import create_app

        return create_app
    raise AttributeError(f"module 'hub.service' has no attribute {name!r}")
