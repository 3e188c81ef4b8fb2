"""Asynchronous tasks keep the blob of their inputs, so a restart can run them again.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if not op.get_context().as_sql:  # offline (``upgrade --sql``) there is no database to look at
        columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("servable_tasks")}
        if "inputs_sha" in columns:  # an adopted pre-migration catalog may have it already
            return
    with op.batch_alter_table("servable_tasks") as batch:
        batch.add_column(sa.Column("inputs_sha", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("servable_tasks") as batch:
        batch.drop_column("inputs_sha")
