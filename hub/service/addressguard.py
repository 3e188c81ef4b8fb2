"""Every request's reads of outside URLs pass the service's address guard.

    app.add_middleware(AddressGuardMiddleware, settings=settings)

A dataset published by reference is read at its source whenever a request reads one
of its files (the file endpoint, ``verify``, a pipeline step reading a dataset file).
The service refuses loopback and private addresses for these reads as it does for
submissions (:meth:`hub.service.settings.ServiceSettings.check_address`, unless
``--allow-private-urls``): this middleware sets :data:`hub.connect.urlguard.ADDRESS_GUARD`
around each request, so the fsspec clients those reads make check every address they
connect to.  The embedded hub sets no guard: its local owner may read their own machine.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from hub.connect.urlguard import ADDRESS_GUARD
from hub.service.settings import ServiceSettings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class AddressGuardMiddleware:
    """Sets the service's address guard for the whole of each HTTP request (streamed bodies too)."""

    def __init__(self, app: ASGIApp, settings: ServiceSettings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request with :data:`~hub.connect.urlguard.ADDRESS_GUARD` set to the settings' check."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = ADDRESS_GUARD.set(self.settings.check_address)
        try:
            await self.app(scope, receive, send)
        finally:
            ADDRESS_GUARD.reset(token)
