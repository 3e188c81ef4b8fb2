"""The hub service: the embedded hub's code behind a REST API (FastAPI on uvicorn).

``create_app(hub)`` builds the application over an open :class:`~hub.client.Hub`;
``matterhub serve`` runs it.  Every request acts as the principal its bearer token
stands for (anonymous without one), through :meth:`Hub.acting_as`, so the access
rules are the embedded hub's own, enforced below every endpoint.
"""

from hub.service.app import create_app

__all__ = ["create_app"]
