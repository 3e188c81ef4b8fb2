"""The contract: the embedded hub and the remote client implement ``HubAPI`` with the same
parameters (names, kinds, defaults), the same annotations and the same return types.

The behaviour half of the parity is ``test_hub_parity.py`` (one suite run through both).
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hub.access.users import Users
from hub.api import Hub, HubAPI, UsersAPI, implementations
from hub.exceptions import HubError
from hub.hubs.embedded import EmbeddedHub
from hub.hubs.remote import RemoteHub, RemoteUsers

IMPLEMENTATIONS = {"embedded": EmbeddedHub, "remote": RemoteHub}
#: Where the two may return narrower types than the protocol: the hub's own type from
#: ``with``, ``home`` (a folder's Path, a service's URL) and ``users`` (each hub's
#: UsersAPI implementation, compared below).
NARROWER_RESULT = {"__enter__", "home", "users"}


def _members(protocol: type) -> list[str]:
    """The public surface a protocol declares (its methods and properties)."""
    return sorted(
        name
        for name, value in vars(protocol).items()
        if (not name.startswith("_") or name in ("__enter__", "__exit__"))
        and (callable(value) or isinstance(value, property))
    )


def _shape(fn: Callable[..., Any]) -> tuple[Any, ...]:
    sig = inspect.signature(fn)
    params = tuple(
        (p.name, p.kind, p.default, p.annotation) for p in sig.parameters.values() if p.name != "self"
    )
    return params, sig.return_annotation


def _overloads(fn: Callable[..., Any]) -> list[tuple[Any, ...]]:
    return [_shape(o) for o in typing.get_overloads(fn)]


def test_the_protocol_declares_the_public_surface() -> None:
    surface = _members(HubAPI)
    # the names of the design's public surface (ARCHITECTURE.md) are all in it
    for name in [
        "submit", "datasets", "dataset", "record", "download", "search", "scroll", "catalog",
        "describe", "publish_servable", "servables", "servable", "run", "task", "users", "close",
    ]:  # fmt: skip
        assert name in surface
    assert len(surface) >= 40


@pytest.mark.parametrize("kind", sorted(IMPLEMENTATIONS))
@pytest.mark.parametrize("name", _members(HubAPI))
def test_same_signature_as_the_protocol(kind: str, name: str) -> None:
    impl = IMPLEMENTATIONS[kind]
    declared = getattr(HubAPI, name)
    assert hasattr(impl, name), f"{kind} hub lacks {name}"
    given = getattr(impl, name)
    if isinstance(declared, property):
        assert isinstance(given, property), f"{kind}.{name} must be a property"
        declared, given = declared.fget, given.fget
    params, result = _shape(given)
    want_params, want_result = _shape(declared)
    assert params == want_params, f"{kind}.{name}'s parameters differ from HubAPI.{name}'s"
    if name not in NARROWER_RESULT:
        assert result == want_result, f"{kind}.{name} returns {result}, HubAPI.{name} {want_result}"
    assert _overloads(given) == _overloads(declared), f"{kind}.{name}'s overloads differ"


@pytest.mark.parametrize("name", _members(UsersAPI))
def test_users_have_the_same_signatures(name: str) -> None:
    declared = _shape(getattr(UsersAPI, name))
    assert _shape(getattr(Users, name)) == declared
    assert _shape(getattr(RemoteUsers, name)) == declared


def test_no_untyped_results() -> None:
    """Where a type exists the API says it: no method of the surface returns ``Any`` but
    ``run`` (a servable's output is whatever the servable returns)."""
    for name in _members(HubAPI):
        value = getattr(HubAPI, name)
        fn = value.fget if isinstance(value, property) else value
        if name in ("run", "__exit__"):
            continue
        assert inspect.signature(fn).return_annotation not in ("Any", inspect.Signature.empty), name


def test_both_hubs_are_hub_apis(service: Any) -> None:
    remote = service.open("remote", "alice")
    assert isinstance(service.hub, HubAPI) and isinstance(remote, HubAPI)
    assert isinstance(remote.users, UsersAPI) and isinstance(service.hub.users, UsersAPI)


def test_hub_opens_the_implementation_its_scheme_names(tmp_path: Path) -> None:
    found = implementations()
    assert found[""] is EmbeddedHub and found["file"] is EmbeddedHub
    assert found["http"] is RemoteHub and found["https"] is RemoteHub
    with Hub(tmp_path / "a", progress=False) as a:
        assert isinstance(a, EmbeddedHub) and a.home == tmp_path / "a"
    with Hub(f"file://{tmp_path / 'b'}", user="alice", progress=False) as b:
        assert isinstance(b, EmbeddedHub) and b.principal.user == "alice"


def test_hub_refuses_what_does_not_apply(tmp_path: Path) -> None:
    with pytest.raises(HubError, match="no hub opens 'ftp://host/x'"):
        Hub("ftp://host/x")
    # refused before any request is made (nothing listens on port 9)
    with pytest.raises(HubError, match=r"user, catalog: not for this hub"):
        Hub("http://127.0.0.1:9", user="alice", catalog="sqlite:///x.db")
    with pytest.raises(HubError, match="timeout: not for this hub"):
        Hub(tmp_path, timeout=5)
    assert not any(tmp_path.iterdir())  # nothing was created
