"""Users get immutable ids that ownership, ACL entries and tokens name; names get owners.

- ``users`` is keyed by a new ``id`` (32 random hex digits, never reused); ``name`` stays,
  unique among live users (``deleted_at`` NULL: deleting a user keeps the row, marked);
  ``registered`` is true for every existing user (an admin created them).
- Every name the catalog used for a user who is not in ``users`` (an owner column, a
  ``user:NAME`` ACL entry: an embedded hub's users) gets an identity too, not registered.
- Owner columns (``datasets``, ``submissions``, ``servables``, ``servable_tasks``) and
  ``user:NAME`` ACL entries (``dataset_acl``, ``servable_acl``) are rewritten to the ids;
  ``tokens.user`` names the user's id.  ``anonymous`` (what anonymous callers' tasks are
  recorded under) stays as it is.
- ``name_claims`` records who each name belongs to: a dataset name to the owner of its
  first version (a name only submissions used, to its first submitter), a servable's
  ``owner/name`` to the owner of its first version.

The statements are plain SQL (ids come from the database's random numbers), so
``matterhub db upgrade --sql`` prints the whole migration.

Downgrade goes back to names: deleted users' and unregistered identities' rows go,
ACL entries naming a deleted user go, and what a deleted user owned goes back to their
name (which a new user of that name then owns: what this revision prevents).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-09
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)
#: What anonymous callers' work is recorded under (hub.access.principal.ANONYMOUS).
ANONYMOUS = "anonymous"
#: Tables with an owner column, and ACL tables.
OWNED = ("datasets", "submissions", "servables", "servable_tasks")
ACLS = ("dataset_acl", "servable_acl")
#: PostgreSQL's names for the constraints 0001 made (its defaults).
USERS_PK = "users_pkey"
TOKENS_FK = "tokens_user_fkey"
LIVE_NAME = "uq_users_live_name"
LIVE = sa.text("deleted_at IS NULL")

users = sa.table(
    "users",
    sa.column("id", sa.String),
    sa.column("name", sa.String),
    sa.column("groups", JSON),
    sa.column("created_at", TIMESTAMP),
    sa.column("registered", sa.Boolean),
    sa.column("deleted_at", TIMESTAMP),
)


def _dialect() -> str:
    return str(op.get_context().dialect.name)


def _new_id() -> sa.ColumnElement[str]:
    """A new random id per row: 32 hex digits, as :func:`hub.access.identities.new_id` makes."""
    if _dialect() == "sqlite":
        return sa.literal_column("lower(hex(randomblob(16)))", sa.String)
    return sa.literal_column("md5(random()::text || clock_timestamp()::text)", sa.String)


def _no_groups() -> sa.ColumnElement[object]:
    return sa.literal_column("'[]'" if _dialect() == "sqlite" else "'[]'::jsonb", JSON)


def _id_of(name: sa.ColumnElement[str]) -> sa.ScalarSelect[str]:
    """The id of the live identity named ``name``."""
    return sa.select(users.c.id).where(users.c.name == name, users.c.deleted_at.is_(None)).scalar_subquery()


def _name_of(uid: sa.ColumnElement[str]) -> sa.ScalarSelect[str]:
    return sa.select(users.c.name).where(users.c.id == uid).scalar_subquery()


def _acl(table: str) -> sa.TableClause:
    return sa.table(table, sa.column("principal", sa.String))


def _user_of(entry: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
    """The name (or id) in a ``user:...`` ACL entry."""
    return sa.func.substr(entry, 6)


def upgrade() -> None:
    if not op.get_context().as_sql:  # offline (``upgrade --sql``) there is no database to look at
        columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("users")}
        if "id" in columns:  # an adopted catalog made by create_all has this revision's shape
            return
    if _dialect() == "sqlite":
        _sqlite_users_by_id()
    else:
        _users_by_id()
    _identities_for_names_used()
    _owners_and_acls_to_ids()
    _claim_names()


def _sqlite_users_by_id() -> None:
    """SQLite cannot change a primary key: copy users and tokens into tables of the new shape.

    The tokens are copied before the old tables are dropped (dropping ``users`` first
    would delete them through their foreign key); renaming the new ``users`` makes the new
    tokens' foreign key name it.
    """
    op.create_table(
        "_users_new",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("groups", JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("registered", sa.Boolean(), nullable=False),
        sa.Column("deleted_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    new_users = sa.table("_users_new", *(sa.column(c.name) for c in users.c))
    old = sa.table("users", sa.column("name"), sa.column("groups"), sa.column("created_at"))
    op.execute(
        new_users.insert().from_select(
            ["id", "name", "groups", "created_at", "registered", "deleted_at"],
            sa.select(_new_id(), old.c.name, old.c.groups, old.c.created_at, sa.true(), sa.null()),
        )
    )
    _create_tokens("_tokens_new", "_users_new")
    token_columns = ["id", "user", "label", "token_sha256", "created_at", "expires_at", "last_used_at"]
    tokens = sa.table("tokens", *(sa.column(c) for c in token_columns))
    new_tokens = sa.table("_tokens_new", *(sa.column(c) for c in token_columns))
    op.execute(
        new_tokens.insert().from_select(
            token_columns,
            sa.select(*(new_users.c.id if c == "user" else tokens.c[c] for c in token_columns)).join_from(
                tokens, new_users, new_users.c.name == tokens.c.user
            ),
        )
    )
    op.drop_index("ix_tokens_user", table_name="tokens")
    op.drop_table("tokens")
    op.drop_table("users")
    op.rename_table("_users_new", "users")
    op.rename_table("_tokens_new", "tokens")
    op.create_index("ix_tokens_user", "tokens", ["user"])
    op.create_index(LIVE_NAME, "users", ["name"], unique=True, sqlite_where=LIVE)


def _create_tokens(table: str, users_table: str, user_length: int = 40, key: str = "id") -> None:
    op.create_table(
        table,
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("user", sa.String(length=user_length), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=True),
        sa.Column("last_used_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(["user"], [f"{users_table}.{key}"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_sha256"),
    )


def _users_by_id() -> None:
    """PostgreSQL: add the columns, give ids, and move the key and the tokens' foreign key to ``id``."""
    op.add_column("users", sa.Column("id", sa.String(length=40), nullable=True))
    op.add_column("users", sa.Column("registered", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.add_column("users", sa.Column("deleted_at", TIMESTAMP, nullable=True))
    op.alter_column("users", "registered", server_default=None)
    op.execute(users.update().values(id=_new_id()))
    op.drop_constraint(TOKENS_FK, "tokens", type_="foreignkey")
    tokens = sa.table("tokens", sa.column("user", sa.String))
    op.execute(tokens.update().values(user=_id_of(tokens.c.user)))
    op.alter_column("tokens", "user", type_=sa.String(length=40), existing_nullable=False)
    op.drop_constraint(USERS_PK, "users", type_="primary")
    op.alter_column("users", "id", nullable=False)
    op.create_primary_key(USERS_PK, "users", ["id"])
    op.create_index(LIVE_NAME, "users", ["name"], unique=True, postgresql_where=LIVE)
    op.create_foreign_key(TOKENS_FK, "tokens", "users", ["user"], ["id"], ondelete="CASCADE")


def _identities_for_names_used() -> None:
    """An unregistered identity for every name an owner column or an ACL entry uses that no user has."""
    used: list[sa.Select[Any]] = []
    for table in OWNED:
        t = sa.table(table, sa.column("owner", sa.String))
        used.append(sa.select(t.c.owner.label("name")))
    for table in ACLS:
        acl = _acl(table)
        used.append(sa.select(_user_of(acl.c.principal).label("name")).where(acl.c.principal.like("user:%")))
    names = sa.union(*used).subquery("used")
    op.execute(
        users.insert().from_select(
            ["id", "name", "groups", "created_at", "registered"],
            sa.select(_new_id(), names.c.name, _no_groups(), sa.func.current_timestamp(), sa.false()).where(
                names.c.name != ANONYMOUS, names.c.name.not_in(sa.select(users.c.name))
            ),
        )
    )


def _owners_and_acls_to_ids() -> None:
    for table in OWNED:
        t = sa.table(table, sa.column("owner", sa.String))
        op.execute(
            t.update()
            .where(t.c.owner != ANONYMOUS, t.c.owner.in_(sa.select(users.c.name)))
            .values(owner=_id_of(t.c.owner))
        )
    for table in ACLS:
        acl = _acl(table)
        name = _user_of(acl.c.principal)
        op.execute(
            acl.update()
            .where(acl.c.principal.like("user:%"), name.in_(sa.select(users.c.name)))
            .values(principal=sa.literal("user:", sa.String) + _id_of(name))
        )


def _claim_names() -> None:
    claims = op.create_table(
        "name_claims",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("owner_group", sa.String(length=200), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("kind", "name"),
    )
    op.create_index("ix_name_claims_owner", "name_claims", ["owner"])
    columns = ["kind", "name", "owner", "created_at"]
    row = ("source_name", "version", "owner", "created_at")
    d, d2 = (sa.table("datasets", *(sa.column(c) for c in row)).alias(a) for a in ("d", "d2"))
    first_version = sa.select(sa.func.min(d2.c.version)).where(d2.c.source_name == d.c.source_name)
    op.execute(
        claims.insert().from_select(
            columns,
            sa.select(sa.literal("dataset"), d.c.source_name, d.c.owner, d.c.created_at).where(
                d.c.version == first_version.scalar_subquery()
            ),
        )
    )
    cols = ("id", "source_name", "owner", "created_at")
    s, s2 = (sa.table("submissions", *(sa.column(c) for c in cols)).alias(a) for a in ("s", "s2"))
    first_submission = (
        sa.select(s2.c.id)
        .where(s2.c.source_name == s.c.source_name)
        .order_by(s2.c.created_at, s2.c.id)
        .limit(1)
        .scalar_subquery()
    )
    published = sa.select(d2.c.source_name)
    op.execute(
        claims.insert().from_select(
            columns,
            sa.select(sa.literal("dataset"), s.c.source_name, s.c.owner, s.c.created_at).where(
                s.c.id == first_submission, s.c.source_name.not_in(published)
            ),
        )
    )
    cols = ("id", "version", "owner", "created_at")
    v, v2 = (sa.table("servables", *(sa.column(c) for c in cols)).alias(a) for a in ("v", "v2"))
    first = sa.select(sa.func.min(v2.c.version)).where(v2.c.id == v.c.id).scalar_subquery()
    op.execute(
        claims.insert().from_select(
            columns,
            sa.select(sa.literal("servable"), v.c.id, v.c.owner, v.c.created_at).where(v.c.version == first),
        )
    )


def downgrade() -> None:
    op.drop_index("ix_name_claims_owner", table_name="name_claims")
    op.drop_table("name_claims")
    deleted = sa.select(users.c.id).where(users.c.deleted_at.is_not(None))
    for table in ACLS:
        acl = _acl(table)
        uid = _user_of(acl.c.principal)
        op.execute(acl.delete().where(acl.c.principal.like("user:%"), uid.in_(deleted)))
        op.execute(
            acl.update()
            .where(acl.c.principal.like("user:%"), uid.in_(sa.select(users.c.id)))
            .values(principal=sa.literal("user:", sa.String) + _name_of(uid))
        )
    for table in OWNED:
        t = sa.table(table, sa.column("owner", sa.String))
        op.execute(t.update().where(t.c.owner.in_(sa.select(users.c.id))).values(owner=_name_of(t.c.owner)))
    kept = sa.and_(users.c.registered.is_(sa.true()), users.c.deleted_at.is_(None))
    if _dialect() == "sqlite":
        _sqlite_users_by_name(kept)
        return
    op.drop_constraint(TOKENS_FK, "tokens", type_="foreignkey")
    tokens = sa.table("tokens", sa.column("user", sa.String))
    op.execute(tokens.update().values(user=_name_of(tokens.c.user)))
    op.execute(users.delete().where(sa.not_(kept)))
    op.drop_index(LIVE_NAME, table_name="users")
    op.drop_constraint(USERS_PK, "users", type_="primary")
    op.create_primary_key(USERS_PK, "users", ["name"])
    op.drop_column("users", "deleted_at")
    op.drop_column("users", "registered")
    op.drop_column("users", "id")
    op.alter_column("tokens", "user", type_=sa.String(length=200), existing_nullable=False)
    op.create_foreign_key(TOKENS_FK, "tokens", "users", ["user"], ["name"], ondelete="CASCADE")


def _sqlite_users_by_name(kept: sa.ColumnElement[bool]) -> None:
    op.create_table(
        "_users_old",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("groups", JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    old_users = sa.table("_users_old", sa.column("name"), sa.column("groups"), sa.column("created_at"))
    op.execute(
        old_users.insert().from_select(
            ["name", "groups", "created_at"],
            sa.select(users.c.name, users.c.groups, users.c.created_at).where(kept),
        )
    )
    _create_tokens("_tokens_old", "_users_old", user_length=200, key="name")
    token_columns = ["id", "user", "label", "token_sha256", "created_at", "expires_at", "last_used_at"]
    tokens = sa.table("tokens", *(sa.column(c) for c in token_columns))
    old_tokens = sa.table("_tokens_old", *(sa.column(c) for c in token_columns))
    op.execute(
        old_tokens.insert().from_select(
            token_columns,
            sa.select(*(users.c.name if c == "user" else tokens.c[c] for c in token_columns))
            .join_from(tokens, users, users.c.id == tokens.c.user)
            .where(kept),
        )
    )
    op.drop_index("ix_tokens_user", table_name="tokens")
    op.drop_table("tokens")
    op.drop_index(LIVE_NAME, table_name="users")
    op.drop_table("users")
    op.rename_table("_users_old", "users")
    op.rename_table("_tokens_old", "tokens")
    op.create_index("ix_tokens_user", "tokens", ["user"])
