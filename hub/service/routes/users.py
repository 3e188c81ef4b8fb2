"""Users, groups and tokens.

Admins manage users and groups; everyone manages their own tokens (the token itself is
shown once, in the response that creates it).
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from hub.access import Action, Kind, Resource, allowed
from hub.service.deps import Caller, CallerHub

router = APIRouter(tags=["users"])


class NewUser(BaseModel):
    """A user to create: a name and its groups."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., min_length=1, max_length=200)
    groups: list[str] = Field(default_factory=list)


class GroupsUpdate(BaseModel):
    """A user's new groups (they replace the old ones)."""

    model_config = ConfigDict(extra="forbid")

    groups: list[str]


class NewToken(BaseModel):
    """A token to create: whose, a label, and when it expires (never by default)."""

    model_config = ConfigDict(extra="forbid")

    user: str | None = Field(None, description="Whose token (admins only; default: you)")
    label: str = Field("", max_length=200)
    expires_in_days: float | None = Field(None, gt=0, le=36500)


@router.get("/whoami", summary="Who the service thinks you are")
def whoami(principal: Caller) -> dict[str, Any]:
    """The caller's user name (null when anonymous) and groups, and whether they administer the hub or curate."""
    return {
        "user": principal.user,
        "groups": sorted(principal.groups),
        "admin": allowed(principal, Action.ADMINISTER, Resource(Kind.HUB)),
        "curator": allowed(principal, Action.CURATE, Resource(Kind.SUBMISSION)),
    }


@router.get("/users", summary="Every user (admins)")
def list_users(hub: CallerHub) -> list[dict[str, Any]]:
    """Every user of the hub and their groups (admins)."""
    return [u.to_dict() for u in hub.users.users(hub.principal)]


@router.post("/users", status_code=201, summary="Create a user (admins)")
def create_user(body: NewUser, hub: CallerHub) -> dict[str, Any]:
    """Create a user with its groups (admins); the answer is the new user."""
    return hub.users.create_user(hub.principal, body.name, body.groups).to_dict()


@router.get("/users/{name}", summary="A user (admins, or the user)")
def get_user(name: str, hub: CallerHub) -> dict[str, Any]:
    """A user and their groups (admins, or the user themself)."""
    return hub.users.user(hub.principal, name).to_dict()


@router.put("/users/{name}/groups", summary="Set a user's groups (admins)")
def set_groups(name: str, body: GroupsUpdate, hub: CallerHub) -> dict[str, Any]:
    """Replace a user's groups (admins); the answer is the user."""
    return hub.users.set_groups(hub.principal, name, body.groups).to_dict()


@router.delete("/users/{name}", status_code=204, summary="Delete a user and their tokens (admins)")
def delete_user(name: str, hub: CallerHub, transfer_to: str | None = None) -> None:
    """Delete a user and revoke their tokens at once (admins).

    With ``transfer_to`` (a user's name), their datasets, servables, submissions, name
    claims and the ACL entries naming them pass to that user; without, they stay with the
    deleted user, whom no one can become (a user created later under the same name is
    someone new and sees none of it).  404 for an unknown user or ``transfer_to``.
    """
    hub.users.delete_user(hub.principal, name, transfer_to=transfer_to)


@router.get("/groups", summary="Groups and their members (admins)")
def list_groups(hub: CallerHub) -> dict[str, list[str]]:
    """Every group and its members (admins)."""
    return hub.users.groups(hub.principal)


@router.get("/tokens", summary="Your tokens (admins: ?user=NAME)")
def list_tokens(hub: CallerHub, user: str | None = None) -> list[dict[str, Any]]:
    """The caller's tokens, or (admins) those of ``user``: ids, labels and dates, never the tokens themselves."""
    return [t.to_dict() for t in hub.users.tokens(hub.principal, user)]


@router.post("/tokens", status_code=201, summary="Make a token; the response is the only time it is shown")
def create_token(body: NewToken, hub: CallerHub) -> dict[str, Any]:
    """Create a token for the caller (admins: for any ``user``); the answer holds the token, shown this once.

    The hub keeps only its hash.
    """
    expires = _dt.timedelta(days=body.expires_in_days) if body.expires_in_days else None
    token, info = hub.users.create_token(hub.principal, body.user, body.label, expires)
    return {"token": token, **info.to_dict()}


@router.delete("/tokens/{token_id}", status_code=204, summary="Revoke a token (yours, or any for admins)")
def revoke_token(token_id: str, hub: CallerHub) -> None:
    """Revoke a token by its id (its user, or an admin)."""
    hub.users.revoke_token(hub.principal, token_id)
