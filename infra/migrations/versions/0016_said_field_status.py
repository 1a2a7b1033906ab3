"""What a deployed volunteer last said of themselves in the app (on the way, on scene, leaving).

Revision ID: 0016
Revises: 0015
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("deployments", sa.Column("reported_status", sa.String(length=20), nullable=True))
    op.add_column(
        "deployments", sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("deployments", "reported_at")
    op.drop_column("deployments", "reported_status")
