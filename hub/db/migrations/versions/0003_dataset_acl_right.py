"""Datasets' ACL takes the servables' shape: each entry names its right (``see``).

``dataset_acl`` gains a ``right`` column (every existing entry is a ``see`` entry) and
its primary key becomes (``source_id``, ``right``, ``principal``), as
``servable_acl``'s is (``servable_id``, ``version``, ``right``, ``principal``): one ACL
shape for the access policy's SQL adapter.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "dataset_acl"
INDEX = "ix_dataset_acl_principal"
#: PostgreSQL's name for the table's primary key (the default name, as 0001 made it).
PK = "dataset_acl_pkey"


def upgrade() -> None:
    if not op.get_context().as_sql:  # offline (``upgrade --sql``) there is no database to look at
        columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns(TABLE)}
        if "right" in columns:  # an adopted pre-migration catalog made by create_all has it already
            return
    if op.get_context().dialect.name == "sqlite":
        _copy_into(["source_id", "right", "principal"], sa.literal("see"))
        return
    op.add_column(TABLE, sa.Column("right", sa.String(length=8), nullable=False, server_default="see"))
    op.alter_column(TABLE, "right", server_default=None)
    op.drop_constraint(PK, TABLE, type_="primary")
    op.create_primary_key(PK, TABLE, ["source_id", "right", "principal"])


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        _copy_into(["source_id", "principal"], None)
        return
    op.drop_constraint(PK, TABLE, type_="primary")
    op.drop_column(TABLE, "right")
    op.create_primary_key(PK, TABLE, ["source_id", "principal"])


def _copy_into(key: list[str], right: sa.ColumnElement[str] | None) -> None:
    """SQLite cannot change a primary key: copy the table into one of the new shape (``key``
    its primary key; ``right`` the value of the new ``right`` column, None to drop it)."""
    new = f"_{TABLE}_new"
    columns = [
        sa.Column("source_id", sa.String(length=100), nullable=False),
        *([sa.Column("right", sa.String(length=8), nullable=False)] if right is not None else []),
        sa.Column("principal", sa.String(length=200), nullable=False),
    ]
    target = op.create_table(
        new,
        *columns,
        sa.ForeignKeyConstraint(["source_id"], ["datasets.source_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint(*key),
    )
    old = sa.table(TABLE, sa.column("source_id"), sa.column("principal"))
    chosen = [old.c.source_id, *([right] if right is not None else []), old.c.principal]
    op.execute(target.insert().from_select([c.name for c in columns], sa.select(*chosen)))
    op.drop_index(INDEX, table_name=TABLE)
    op.drop_table(TABLE)
    op.rename_table(new, TABLE)
    op.create_index(INDEX, TABLE, ["principal"])
