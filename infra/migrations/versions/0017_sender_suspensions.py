"""Senders an administrator suspended (the intake refuses what they send until resumed).

Revision ID: 0017
Revises: 0016
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sender_suspensions",
        sa.Column("sender_key", sa.Text(), nullable=False),
        sa.Column("sender_id", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("suspended_by", sa.Uuid(), nullable=False),
        sa.Column("suspended_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sender_key", name=op.f("pk_sender_suspensions")),
    )


def downgrade() -> None:
    op.drop_table("sender_suspensions")
