"""The catalog as it was when migrations began: datasets, files, records,
submissions, servables, tasks, memoized outputs, users and tokens.

Each table is made by its own function (in foreign-key order, :data:`TABLES`) so
that :mod:`hub.db.migrate` can adopt a catalog made before migrations existed
(by ``create_all``, possibly by an older release that had fewer tables): it adds
the missing tables and stamps this revision.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: JSON documents: JSONB on PostgreSQL (indexable, compact), JSON text elsewhere.
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
#: Points in time, with their zone (text on SQLite).
TIMESTAMP = sa.DateTime(timezone=True)


def create_datasets() -> None:
    op.create_table(
        "datasets",
        sa.Column("source_id", sa.String(length=100), nullable=False),
        sa.Column("source_name", sa.String(length=80), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("document", JSON, nullable=False),
        sa.Column("root_hash", sa.String(length=64), nullable=False),
        sa.Column("total_size", sa.BigInteger(), nullable=False),
        sa.Column("n_files", sa.Integer(), nullable=False),
        sa.Column("n_records", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("source_id"),
        sa.UniqueConstraint("source_name", "version", name="uq_dataset_version"),
    )
    op.create_index("ix_datasets_source_name", "datasets", ["source_name"])
    op.create_index("ix_datasets_status", "datasets", ["status"])


def create_dataset_acl() -> None:
    op.create_table(
        "dataset_acl",
        sa.Column("source_id", sa.String(length=100), nullable=False),
        sa.Column("principal", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["source_id"], ["datasets.source_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("source_id", "principal"),
    )
    op.create_index("ix_dataset_acl_principal", "dataset_acl", ["principal"])


def create_files() -> None:
    op.create_table(
        "files",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source_id", sa.String(length=100), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("length", sa.BigInteger(), nullable=False),
        sa.Column("mime_type", sa.String(length=200), nullable=True),
        sa.Column("data_type", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["source_id"], ["datasets.source_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_id", "path", name="uq_file_path"),
    )
    op.create_index("ix_files_sha256", "files", ["sha256"])
    op.create_index("ix_files_source", "files", ["source_id"])


def create_records() -> None:
    op.create_table(
        "records",
        sa.Column("record_id", sa.String(length=200), nullable=False),
        sa.Column("source_id", sa.String(length=100), nullable=False),
        sa.Column("scroll_id", sa.Integer(), nullable=False),
        sa.Column("document", JSON, nullable=False),
        sa.ForeignKeyConstraint(["source_id"], ["datasets.source_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("record_id"),
    )
    op.create_index("ix_records_source_scroll", "records", ["source_id", "scroll_id"])


def create_submissions() -> None:
    op.create_table(
        "submissions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("source_name", sa.String(length=80), nullable=False),
        sa.Column("source_id", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("steps", JSON, nullable=False),
        sa.Column("errors", JSON, nullable=False),
        sa.Column("options", JSON, nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("host", sa.String(length=200), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_submissions_owner", "submissions", ["owner"])
    op.create_index("ix_submissions_source_name", "submissions", ["source_name"])
    op.create_index("ix_submissions_status", "submissions", ["status"])


def create_servables() -> None:
    op.create_table(
        "servables",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("artifact_sha", sa.String(length=64), nullable=True),
        sa.Column("artifact_size", sa.BigInteger(), nullable=False),
        sa.Column("document", JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", "version"),
    )
    op.create_index("ix_servables_name", "servables", ["name"])
    op.create_index("ix_servables_owner", "servables", ["owner"])
    op.create_index("ix_servables_status", "servables", ["status"])


def create_servable_acl() -> None:
    op.create_table(
        "servable_acl",
        sa.Column("servable_id", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("right", sa.String(length=8), nullable=False),
        sa.Column("principal", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["servable_id", "version"], ["servables.id", "servables.version"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("servable_id", "version", "right", "principal"),
    )
    op.create_index("ix_servable_acl_principal", "servable_acl", ["principal"])


def create_servable_tasks() -> None:
    op.create_table(
        "servable_tasks",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("servable_id", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("batch", sa.Boolean(), nullable=False),
        sa.Column("n_inputs", sa.Integer(), nullable=False),
        sa.Column("result", JSON, nullable=True),
        sa.Column("result_sha", sa.String(length=64), nullable=True),
        sa.Column("error", JSON, nullable=True),
        sa.Column("stdout", sa.Text(), nullable=False),
        sa.Column("stderr", sa.Text(), nullable=False),
        sa.Column("timings", JSON, nullable=False),
        sa.Column("cached", sa.Boolean(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("host", sa.String(length=200), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_servable_tasks_owner", "servable_tasks", ["owner"])
    op.create_index("ix_servable_tasks_servable_id", "servable_tasks", ["servable_id"])
    op.create_index("ix_servable_tasks_status", "servable_tasks", ["status"])


def create_servable_cache() -> None:
    op.create_table(
        "servable_cache",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("servable_id", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("result_sha", sa.String(length=64), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_servable_cache_servable_id", "servable_cache", ["servable_id"])


def create_users() -> None:
    op.create_table(
        "users",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("groups", JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def create_tokens() -> None:
    op.create_table(
        "tokens",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("user", sa.String(length=200), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=True),
        sa.Column("last_used_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(["user"], ["users.name"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_sha256"),
    )
    op.create_index("ix_tokens_user", "tokens", ["user"])


#: Every table of this revision and the function that makes it, parents before children.
TABLES: dict[str, Callable[[], None]] = {
    "datasets": create_datasets,
    "dataset_acl": create_dataset_acl,
    "files": create_files,
    "records": create_records,
    "submissions": create_submissions,
    "servables": create_servables,
    "servable_acl": create_servable_acl,
    "servable_tasks": create_servable_tasks,
    "servable_cache": create_servable_cache,
    "users": create_users,
    "tokens": create_tokens,
}


def upgrade() -> None:
    for create in TABLES.values():
        create()


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name)
