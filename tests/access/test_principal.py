"""Principals and ACL entries (hub/access/principal.py)."""

from __future__ import annotations

import pytest

from hub.access import ANONYMOUS, Principal, normalize_principal, normalize_visible_to
from hub.exceptions import ValidationError


def test_names_longer_than_the_columns_are_refused_before_sql() -> None:
    with pytest.raises(ValidationError, match="at most 200"):
        normalize_visible_to(["group:" + "g" * 200])
    with pytest.raises(ValidationError, match="at most 200"):
        Principal("u" * 201)
    assert Principal("u" * 200).user == "u" * 200


def test_entries_are_normalized() -> None:
    assert normalize_visible_to(None) == ["public"]
    assert normalize_visible_to("bob") == ["user:bob"]
    assert normalize_visible_to(["group:lab", " bob ", "user:bob", "public"]) == [
        "group:lab",
        "public",
        "user:bob",
    ]
    assert normalize_principal("group:lab") == "group:lab"
    with pytest.raises(ValidationError, match="not understood"):
        normalize_principal("team:lab")
    with pytest.raises(ValidationError, match="must not be empty"):
        normalize_principal("  ")
    with pytest.raises(ValidationError, match="at least one"):
        normalize_visible_to([])


def test_tokens_roles_and_names() -> None:
    alice = Principal("alice", frozenset({"lab", "curators"}))
    assert alice.tokens() == ["public", "user:alice", "group:curators", "group:lab"]
    assert alice.is_curator and not alice.is_admin and alice.name == "alice"
    admin = Principal("root", frozenset({"admin"}))
    assert admin.is_admin and admin.is_curator
    anonymous = Principal(None)
    assert anonymous.tokens() == ["public"] and anonymous.name == ANONYMOUS
    assert Principal.local().is_admin


def test_a_principal_is_matched_by_its_id() -> None:
    """Stored ACL entries name users by id: a principal's ``user:`` token is its id, and one
    made without an id (not read from a catalog) goes by its name."""
    dave = Principal("dave", frozenset({"lab"}), "0f" * 16)
    assert dave.tokens() == ["public", f"user:{'0f' * 16}", "group:lab"]
    assert dave.owner_id == "0f" * 16 and dave.name == "dave"
    assert dave != Principal("dave", frozenset({"lab"}), "1e" * 16), "a new user of the same name"
    assert Principal("bob").id == "bob" and Principal("bob").tokens() == ["public", "user:bob"]
    assert Principal(None, id="x").id is None and Principal(None).owner_id == ANONYMOUS
