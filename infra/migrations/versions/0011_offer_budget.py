"""Mobilisations keep their offer budget, the offers sent so far and when the group is expected to
be complete; explanations can say that someone was too far away to arrive in time.

`offer_budget` starts as the playbook's (`offer_budget_per_place` × places) and is what a
dispatcher raises; `offers_sent` counts every offer the incident sent. `explanations.latest_eta_s`
is the cut-off an ETA was measured against (`too_late` outcome).

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("mobilizations", sa.Column("offer_budget", sa.Integer(), nullable=True))
    op.add_column(
        "mobilizations",
        sa.Column("offers_sent", sa.Integer(), server_default="0", nullable=False),
    )
    op.execute(
        "UPDATE mobilizations m SET offers_sent = "
        "(SELECT count(*) FROM offers o WHERE o.incident_id = m.incident_id)"
    )
    op.add_column(
        "mobilizations",
        sa.Column("expected_complete_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.add_column("explanations", sa.Column("latest_eta_s", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("explanations", "latest_eta_s")
    op.drop_column("mobilizations", "expected_complete_at")
    op.drop_column("mobilizations", "offers_sent")
    op.drop_column("mobilizations", "offer_budget")
