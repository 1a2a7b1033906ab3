"""Incidents say whether their area still needs a dispatcher to confirm it, and how far the
sender is trusted.

An alert that names its area only in words (`<areaDesc>Қостанай облысы</areaDesc>`) is resolved by
name; when the name is ambiguous or unknown the incident still opens, at the sender's region, with
`area_to_confirm` set. `sender_trust` is `registered`, `signed` (XML signature verified) or
`unverified` (a sender not in the registry, accepted because the configuration allows it).
Incidents wholly outside Kazakhstan get the status `outside_service_area` (the column already fits
it).

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "incidents",
        sa.Column("area_to_confirm", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column(
        "incidents",
        sa.Column(
            "sender_trust", sa.String(length=20), server_default="registered", nullable=False
        ),
    )


def downgrade() -> None:
    op.drop_column("incidents", "sender_trust")
    op.drop_column("incidents", "area_to_confirm")
