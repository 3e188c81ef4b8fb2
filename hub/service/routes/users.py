"""Users, groups and tokens.  Admins manage users and groups; everyone manages their own
tokens (the token itself is shown once, in the response that creates it)."""

from __future__ import annotations

import datetime as _dt
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from hub.access import Action, Kind, Resource, allowed
from hub.service.deps import Caller, CallerHub

router = APIRouter(tags=["users"])


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., min_length=1, max_length=200)
    groups: list[str] = Field(default_factory=list)


class GroupsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    groups: list[str]


class NewToken(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: str | None = Field(None, description="Whose token (admins only; default: you)")
    label: str = Field("", max_length=200)
    expires_in_days: float | None = Field(None, gt=0, le=36500)


@router.get("/whoami", summary="Who the service thinks you are")
def whoami(principal: Caller) -> dict[str, Any]:
    return {
        "user": principal.user,
        "groups": sorted(principal.groups),
        "admin": allowed(principal, Action.ADMINISTER, Resource(Kind.HUB)),
        "curator": allowed(principal, Action.CURATE, Resource(Kind.SUBMISSION)),
    }


@router.get("/users", summary="Every user (admins)")
def list_users(hub: CallerHub) -> list[dict[str, Any]]:
    return [u.to_dict() for u in hub.users.users(hub.principal)]


@router.post("/users", status_code=201, summary="Create a user (admins)")
def create_user(body: NewUser, hub: CallerHub) -> dict[str, Any]:
    return hub.users.create_user(hub.principal, body.name, body.groups).to_dict()


@router.get("/users/{name}", summary="A user (admins, or the user)")
def get_user(name: str, hub: CallerHub) -> dict[str, Any]:
    return hub.users.user(hub.principal, name).to_dict()


@router.put("/users/{name}/groups", summary="Set a user's groups (admins)")
def set_groups(name: str, body: GroupsUpdate, hub: CallerHub) -> dict[str, Any]:
    return hub.users.set_groups(hub.principal, name, body.groups).to_dict()


@router.delete("/users/{name}", status_code=204, summary="Delete a user and their tokens (admins)")
def delete_user(name: str, hub: CallerHub) -> None:
    hub.users.delete_user(hub.principal, name)


@router.get("/groups", summary="Groups and their members (admins)")
def list_groups(hub: CallerHub) -> dict[str, list[str]]:
    return hub.users.groups(hub.principal)


@router.get("/tokens", summary="Your tokens (admins: ?user=NAME)")
def list_tokens(hub: CallerHub, user: str | None = None) -> list[dict[str, Any]]:
    return [t.to_dict() for t in hub.users.tokens(hub.principal, user)]


@router.post("/tokens", status_code=201, summary="Make a token; the response is the only time it is shown")
def create_token(body: NewToken, hub: CallerHub) -> dict[str, Any]:
    expires = _dt.timedelta(days=body.expires_in_days) if body.expires_in_days else None
    token, info = hub.users.create_token(hub.principal, body.user, body.label, expires)
    return {"token": token, **info.to_dict()}


@router.delete("/tokens/{token_id}", status_code=204, summary="Revoke a token (yours, or any for admins)")
def revoke_token(token_id: str, hub: CallerHub) -> None:
    hub.users.revoke_token(hub.principal, token_id)
