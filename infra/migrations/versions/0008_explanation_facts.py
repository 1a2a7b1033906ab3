"""Explanations keep their facts and are rendered when read, not written in three languages.

A wave explains itself for some 150 people. Rendering every explanation in kk, ru and en as it was
recorded cost about as much as the rest of the wave's bookkeeping, and froze the wording: a
corrected translation never reached what was already written. Each row now keeps what the
sentences are made of — the outcome, the role, the ETA, the place in the ranking and the radius,
and every finding with its details — and the API and `jedel explain` render it in the reader's
language. Rows written before keep their rendered `text`, which readers use when it is there.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "explanations",
        sa.Column(
            "findings",
            postgresql.JSONB(),
            nullable=False,
            server_default=sa.text("'[]'::jsonb"),
        ),
    )
    op.add_column("explanations", sa.Column("rank", sa.Integer(), nullable=True))
    op.add_column("explanations", sa.Column("asked_count", sa.Integer(), nullable=True))
    op.add_column("explanations", sa.Column("radius_m", sa.Integer(), nullable=True))
    op.alter_column("explanations", "text", nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM explanations WHERE text IS NULL")
    op.alter_column("explanations", "text", nullable=False)
    op.drop_column("explanations", "radius_m")
    op.drop_column("explanations", "asked_count")
    op.drop_column("explanations", "rank")
    op.drop_column("explanations", "findings")
