"""Each volunteer's past deployments, latest first, off an index.

A wave reads every candidate's last deployment (how long ago, how long it was: rest after a long
one). Without this index that was a scan of the whole `commitments` table per candidate: with a
year of deployments (25,000 rows) a first wave's candidate query took ~440 ms instead of ~8.

Revision ID: 0018
Revises: 0017
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_commitments_volunteer_released",
        "commitments",
        ["volunteer_id", sa.text("released_at DESC")],
        postgresql_where=sa.text("released_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_commitments_volunteer_released", table_name="commitments")
