"""FastAPI dependencies: who is calling, and the hub as they see it."""

from __future__ import annotations

from typing import Annotated

import anyio.to_thread
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hub.access import Principal
from hub.exceptions import AuthenticationError
from hub.hubs.embedded import EmbeddedHub

_bearer = HTTPBearer(auto_error=False, description="A MatterHub token (`matterhub token create`).")


def root_hub(request: Request) -> EmbeddedHub:
    """The hub the service was started over (acts as its admin: internal use only)."""
    hub: EmbeddedHub = request.app.state.hub
    return hub


async def caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None,
) -> Principal:
    """The principal of the request's bearer token; anonymous without a token.

    A token seen in the last seconds is answered from memory; otherwise the catalog is
    asked in a thread.  The principal is kept on ``request.state`` for the rest of the
    request.

    Raises
    ------
    AuthenticationError
        An ``Authorization`` header that is not a bearer token, or an unknown, expired
        or revoked token.
    """
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    token = credentials.credentials if credentials is not None else None
    if token is None:
        header = request.headers.get("authorization", "")
        if header and not header.lower().startswith("bearer "):
            raise AuthenticationError("use an 'Authorization: Bearer <token>' header")
    users = root_hub(request).users
    principal = users.cached(token) if token else Principal(None)
    if principal is None:
        principal = await anyio.to_thread.run_sync(users.authenticate, token)
    request.state.principal = principal
    return principal


async def caller_hub(request: Request, principal: Annotated[Principal, Depends(caller)]) -> EmbeddedHub:
    """The hub as the caller sees it (every read and write goes through the access rules)."""
    return root_hub(request).acting_as(principal)


CallerHub = Annotated[EmbeddedHub, Depends(caller_hub)]
Caller = Annotated[Principal, Depends(caller)]
