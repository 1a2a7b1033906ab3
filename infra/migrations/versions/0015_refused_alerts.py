"""The dispatchers' queue of refused alerts: every dead letter of the intake, with its reason, the
original message, who sent it and where it was about (when known), and what a dispatcher did.

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "refused_alerts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("source_topic", sa.String(length=100), nullable=False),
        sa.Column("source_partition", sa.Integer(), nullable=False),
        sa.Column("source_offset", sa.BigInteger(), nullable=False),
        sa.Column("sender", sa.String(length=200), nullable=True),
        sa.Column("region_codes", postgresql.ARRAY(sa.String(length=8)), nullable=False),
        sa.Column("message", sa.LargeBinary(), nullable=False),
        sa.Column("refused_at", WHEN, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("handled_by", sa.Uuid(), nullable=True),
        sa.Column("handled_at", WHEN, nullable=True),
        sa.Column("correction", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refused_alerts")),
    )
    op.create_index(
        "uq_refused_alerts_source",
        "refused_alerts",
        ["source_topic", "source_partition", "source_offset"],
        unique=True,
    )
    op.create_index("ix_refused_alerts_status", "refused_alerts", ["status", "refused_at"])


def downgrade() -> None:
    op.drop_table("refused_alerts")
