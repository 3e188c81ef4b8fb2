"""Dataset documents name no server path: ``data.location`` and ``data.origin`` become logical.

``data.location`` was the blob store's folder and ``data.origin`` the submitted path (for an
upload to the hub service, ``<hub>/uploads/<uuid>/<name>``); every search hit showed them.
Each version's document now says ``matterhub://<source_id>/`` (its files, read through the
hub) and ``upload:<name>``, the URL without credentials or query, or ``local:<name>``
(:func:`hub.connect.origin.logical_data`).  The search index holds copies of the documents:
it is rebuilt from the catalog on the next open (the index's schema version changed with
this release).  A downgrade keeps the logical values (the paths are gone; older releases
read them as they are).

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-09
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from hub.connect.origin import logical_data

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DATASETS = sa.table(
    "datasets",
    sa.column("source_id", sa.String()),
    sa.column("document", sa.JSON().with_variant(JSONB(), "postgresql")),
)


def upgrade() -> None:
    if op.get_context().as_sql:  # offline (``upgrade --sql``): no rows to rewrite
        return
    bind = op.get_bind()
    for source_id, document in bind.execute(sa.select(DATASETS.c.source_id, DATASETS.c.document)).all():
        data = (document or {}).get("data")
        if not isinstance(data, dict):
            continue
        logical = logical_data(source_id, data)
        if logical != data:
            bind.execute(
                DATASETS.update()
                .where(DATASETS.c.source_id == source_id)
                .values(document={**document, "data": logical})
            )


def downgrade() -> None:
    """Nothing to undo: the logical values are valid documents for every release."""
