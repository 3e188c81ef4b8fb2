"""Users, groups and bearer tokens (hub/access/users.py) on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from hub.access import Principal
from hub.access.identities import Identities
from hub.access.users import TOKEN_PREFIX, Users, hash_token
from hub.db.database import Database
from hub.db.models import TokenRow
from hub.exceptions import (
    AccessDeniedError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    ValidationError,
)

ADMIN = Principal("root", frozenset({"admin"}))


@pytest.fixture()
def catalog(catalog_url: str) -> Iterator[Database]:
    c = Database(catalog_url)
    yield c
    c.close()


@pytest.fixture()
def users(catalog: Database) -> Users:
    return Users(catalog)


def as_user(catalog: Database, name: str, groups: tuple[str, ...] = ()) -> Principal:
    """The principal of whoever bears ``name`` now (as an embedded hub acting as them is)."""
    return Identities(catalog).resolve(Principal(name, frozenset(groups)))


def test_users_and_groups(users: Users, catalog: Database) -> None:
    alice = users.create_user(ADMIN, "alice", ["lab", "curators", "lab"])
    assert alice.groups == ("curators", "lab")
    created = dt.datetime.fromisoformat(alice.created_at)
    assert created.utcoffset() == dt.timedelta(0)
    users.create_user(ADMIN, "bob")
    with pytest.raises(ConflictError):
        users.create_user(ADMIN, "alice")
    with pytest.raises(ValidationError):
        users.create_user(ADMIN, "no spaces")
    with pytest.raises(AccessDeniedError):
        users.create_user(Principal("alice"), "eve")
    assert [u.name for u in users.users(ADMIN)] == ["alice", "bob"]
    assert users.user(as_user(catalog, "bob"), "bob").groups == ()
    with pytest.raises(AccessDeniedError):
        users.user(as_user(catalog, "bob"), "alice")
    users.set_groups(ADMIN, "bob", ["lab"])
    assert users.groups(ADMIN) == {"curators": ["alice"], "lab": ["alice", "bob"]}
    assert users.ensure_user("bob", ["ext"]).groups == ("ext", "lab")
    assert users.ensure_user("carol").groups == ()
    users.delete_user(ADMIN, "carol")
    with pytest.raises(NotFoundError):
        users.delete_user(ADMIN, "carol")
    with pytest.raises(NotFoundError):
        users.set_groups(ADMIN, "carol", [])


def test_tokens_authenticate_and_revoke(users: Users, catalog: Database) -> None:
    users.create_user(ADMIN, "alice", ["lab"])
    alice = as_user(catalog, "alice", ("lab",))
    token, info = users.create_token(alice, label="laptop")
    assert token.startswith(TOKEN_PREFIX) and info.user == "alice" and info.last_used_at is None
    with catalog.session() as s:
        stored = s.scalars(sa.select(TokenRow.token_sha256)).all()
    assert stored == [hash_token(token)] and token not in str(stored), "only the hash is kept"

    assert users.authenticate(token) == alice
    (listed,) = users.tokens(alice)
    assert listed.label == "laptop" and listed.last_used_at is not None
    used = dt.datetime.fromisoformat(listed.last_used_at)
    assert used.utcoffset() == dt.timedelta(0) and abs(dt.datetime.now(dt.UTC) - used) < dt.timedelta(
        minutes=5
    )
    assert users.authenticate(None) == Principal(None)
    with pytest.raises(AuthenticationError, match="unknown"):
        users.authenticate(token + "x")
    with pytest.raises(AuthenticationError):
        users.create_token(Principal(None))
    with pytest.raises(AccessDeniedError):
        users.create_token(alice, user="root")
    with pytest.raises(NotFoundError):
        users.create_token(ADMIN, user="nobody")
    with pytest.raises(NotFoundError):
        users.revoke_token(as_user(catalog, "bob"), info.id)
    users.revoke_token(alice, info.id)
    with pytest.raises(AuthenticationError):
        users.authenticate(token)


def test_token_order_and_expiry(users: Users, catalog: Database) -> None:
    users.create_user(ADMIN, "ann")
    ann = as_user(catalog, "ann")
    made = [users.create_token(ann, label=f"t{i}") for i in range(4)]
    assert [t.label for t in users.tokens(ann)] == ["t0", "t1", "t2", "t3"]
    short, info = users.create_token(ADMIN, user="ann", label="short", expires_in=dt.timedelta(seconds=-1))
    assert dt.datetime.fromisoformat(info.expires_at or "") < dt.datetime.now(dt.UTC)
    with pytest.raises(AuthenticationError, match="expired"):
        users.authenticate(short)
    assert users.authenticate(made[0][0]).user == "ann"
    users.delete_user(ADMIN, "ann")
    with pytest.raises(AuthenticationError):
        users.authenticate(made[1][0])


def test_many_threads_authenticate_at_once(users: Users) -> None:
    """The service authenticates every request: concurrent first uses all succeed."""
    users.create_user(ADMIN, "busy", ["lab"])
    tokens = [users.create_token(ADMIN, user="busy")[0] for _ in range(4)]
    barrier = threading.Barrier(12)

    def work(i: int) -> str | None:
        barrier.wait()
        return users.authenticate(tokens[i % len(tokens)]).user

    with ThreadPoolExecutor(12) as pool:
        assert list(pool.map(work, range(12))) == ["busy"] * 12
    assert all(t.last_used_at for t in users.tokens(ADMIN, "busy"))


def test_bootstraps_at_once_lose_no_group(users: Users) -> None:
    """Several service processes start together and each ensures the admin with its groups."""
    n = 8
    barrier = threading.Barrier(n)

    def boot(i: int) -> None:
        barrier.wait()
        users.ensure_user("boss", [f"g{i}", "admin"])

    with ThreadPoolExecutor(n) as pool:
        list(pool.map(boot, range(n)))
    assert users.user(ADMIN, "boss").groups == tuple(sorted(["admin", *(f"g{i}" for i in range(n))]))

    def create(i: int) -> str:
        barrier.wait()
        try:
            users.create_user(ADMIN, "twin")
            return "made"
        except ConflictError:
            return "conflict"

    with ThreadPoolExecutor(n) as pool:
        assert sorted(pool.map(create, range(n))) == ["conflict"] * (n - 1) + ["made"]


def test_anonymous_is_a_reserved_user_name(users: Users) -> None:
    """Callers without a token are called "anonymous": a user of that name could read their tasks."""
    with pytest.raises(ValidationError, match="reserved"):
        users.create_user(ADMIN, "anonymous")
    with pytest.raises(ValidationError, match="reserved"):
        users.ensure_user("anonymous")


def test_a_name_used_before_its_user_is_created_keeps_its_id(users: Users, catalog: Database) -> None:
    """An ACL entry or an embedded hub may name a user before an admin creates them: the
    name gets an id then (not listed, no tokens), and the user created later keeps it."""
    erin = Identities(catalog).identify("erin")
    assert Identities(catalog).identify("erin") == erin
    assert "erin" not in [u.name for u in users.users(ADMIN)]
    with pytest.raises(NotFoundError):
        users.user(ADMIN, "erin")
    with pytest.raises(NotFoundError):
        users.create_token(ADMIN, "erin")
    users.create_user(ADMIN, "erin", ["lab"])
    assert as_user(catalog, "erin").id == erin
    assert [u.name for u in users.users(ADMIN)] == ["erin"]
    with pytest.raises(ConflictError):
        users.create_user(ADMIN, "erin")


def test_a_deleted_user_created_again_is_someone_new(users: Users, catalog: Database) -> None:
    users.create_user(ADMIN, "dave", ["lab"])
    old = as_user(catalog, "dave", ("lab",))
    token, _ = users.create_token(ADMIN, "dave")
    assert users.authenticate(token) == old
    users.delete_user(ADMIN, "dave")
    with pytest.raises(AuthenticationError):
        users.authenticate(token)
    assert users.principal(old.owner_id) == Principal("dave", frozenset(), old.id), "no groups any more"
    assert Identities(catalog).names([old.owner_id, "anonymous"]) == {
        old.owner_id: "dave (deleted)",
        "anonymous": "anonymous",
    }
    with pytest.raises(NotFoundError):
        users.delete_user(ADMIN, "dave")
    users.create_user(ADMIN, "dave", ["lab"])
    new = as_user(catalog, "dave", ("lab",))
    assert new.id != old.id and new != old and new.tokens() != old.tokens()
    assert users.tokens(new) == []
    assert [u.name for u in users.users(ADMIN)] == ["dave"]
    assert Identities(catalog).names([old.owner_id, new.owner_id]) == {
        old.owner_id: "dave (deleted)",
        new.owner_id: "dave",
    }


def test_deleting_with_a_transfer_needs_another_user(users: Users, catalog: Database) -> None:
    users.create_user(ADMIN, "fay")
    Identities(catalog).identify("ghost")  # a name in use, not a user
    with pytest.raises(ValidationError, match="another user"):
        users.delete_user(ADMIN, "fay", transfer_to="fay")
    for heir in ("nobody", "ghost"):
        with pytest.raises(NotFoundError, match=f"no user '{heir}'"):
            users.delete_user(ADMIN, "fay", transfer_to=heir)
    with pytest.raises(AccessDeniedError):
        users.delete_user(as_user(catalog, "fay"), "fay")
    assert [u.name for u in users.users(ADMIN)] == ["fay"], "nothing was deleted"
