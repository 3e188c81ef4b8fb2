"""Files published by reference: a version's file may name its URL at the source instead of a blob.

``files.url`` is NULL for a file copied into the blob store (every file before this
release) and the file's URL for a dataset submitted with ``copy=False``, whose reads go to
that URL and check the recorded sha256 (:mod:`hub.store.remote`).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if not op.get_context().as_sql:  # offline (``upgrade --sql``) there is no database to look at
        columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("files")}
        if "url" in columns:  # a catalog made by this release and marked older has it already
            return
    with op.batch_alter_table("files") as batch:
        batch.add_column(sa.Column("url", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("files") as batch:
        batch.drop_column("url")
