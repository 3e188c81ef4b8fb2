"""FastAPI dependencies: who is calling, and the hub as they see it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hub.access import Principal
from hub.client import Hub
from hub.exceptions import AuthenticationError

_bearer = HTTPBearer(auto_error=False, description="A MatterHub token (`matterhub token create`).")


def root_hub(request: Request) -> Hub:
    """The hub the service was started over (acts as its admin: internal use only)."""
    hub: Hub = request.app.state.hub
    return hub


def caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None,
) -> Principal:
    """The principal of the request's bearer token; anonymous without a token."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    token = credentials.credentials if credentials is not None else None
    if token is None:
        header = request.headers.get("authorization", "")
        if header and not header.lower().startswith("bearer "):
            raise AuthenticationError("use an 'Authorization: Bearer <token>' header")
    principal = root_hub(request).users.authenticate(token)
    request.state.principal = principal
    return principal


def caller_hub(request: Request, principal: Annotated[Principal, Depends(caller)]) -> Hub:
    """The hub as the caller sees it (every read and write goes through the access rules)."""
    return root_hub(request).acting_as(principal)


CallerHub = Annotated[Hub, Depends(caller_hub)]
Caller = Annotated[Principal, Depends(caller)]
