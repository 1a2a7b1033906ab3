"""Indexes for look-ups that scanned tables which grow every day.

- `track_points` by incident: the dispatcher's map draws each member's track (re-read every 20 s
  while a group is open) from the raw fixes of one incident; the only index led with volunteer.
- `account_sessions` by refresh secret: every token refresh (each volunteer's app every 15 min)
  scanned every session ever opened.
- `incident_areas` by incident: `GET /incidents/{id}` scanned every area of every alert.
- `incidents` newest first: the incident list without a status filter sorted the whole table.
- `activity_log` by offer: the registry's report looks up, for each accepted offer, when it ended.
- `accounts` by lower-case user name: staff sign-in compares names case-insensitively.

Revision ID: 0019
Revises: 0018
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_track_points_incident", "track_points", ["incident_id", "volunteer_id", "recorded_at"]
    )
    op.create_index("ix_account_sessions_refresh", "account_sessions", ["refresh_hash"])
    op.create_index("ix_incident_areas_incident", "incident_areas", ["incident_id", "id"])
    op.create_index(
        "ix_incidents_opened", "incidents", [sa.text("opened_at DESC"), sa.text("id DESC")]
    )
    op.create_index(
        "ix_activity_log_offer",
        "activity_log",
        ["offer_id", "occurred_at"],
        postgresql_where=sa.text("offer_id IS NOT NULL"),
    )
    op.create_index("ix_accounts_username_lower", "accounts", [sa.text("lower(username)")])


def downgrade() -> None:
    op.drop_index("ix_accounts_username_lower", table_name="accounts")
    op.drop_index("ix_activity_log_offer", table_name="activity_log")
    op.drop_index("ix_incidents_opened", table_name="incidents")
    op.drop_index("ix_incident_areas_incident", table_name="incident_areas")
    op.drop_index("ix_account_sessions_refresh", table_name="account_sessions")
    op.drop_index("ix_track_points_incident", table_name="track_points")
