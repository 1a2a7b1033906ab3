"""Accounts and their sessions, consent records and the log of who viewed personal data.

- `accounts`: one per person who signs in. Staff (dispatcher, coordinator, analyst, admin) have a
  username and an argon2 password hash; a volunteer's account is tied to their `volunteers` row and
  signs in with a one-time code sent to the phone on that row (no password). Dispatchers and
  coordinators are scoped to regions (`regions`, ISO 3166-2 codes).
- `account_sessions`: a sign-in. Access tokens are short-lived and name their session; a session
  revoked (sign-out, an admin, a disabled account) stops its tokens at once. The refresh secret is
  kept only as a hash.
- `consents`: append-only; the latest row per volunteer and kind is the one in force.
- `personal_data_views`: who read whose personal data, when and through which endpoint. It names
  people by id only, so erasing a volunteer's personal data keeps it meaningful.

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = "('volunteer', 'dispatcher', 'coordinator', 'analyst', 'admin')"


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("username", sa.String(64), nullable=True),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column(
            "volunteer_id",
            sa.Uuid(),
            sa.ForeignKey("volunteers.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column(
            "regions",
            postgresql.ARRAY(sa.String(8)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(f"role IN {ROLES}", name="accounts_role"),
        sa.CheckConstraint(
            "(role = 'volunteer') = (volunteer_id IS NOT NULL)", name="accounts_volunteer_is_one"
        ),
        sa.CheckConstraint(
            "role = 'volunteer' OR (username IS NOT NULL AND password_hash IS NOT NULL)",
            name="accounts_staff_sign_in",
        ),
    )
    op.create_index("accounts_username", "accounts", ["username"], unique=True)
    op.create_index("accounts_volunteer", "accounts", ["volunteer_id"], unique=True)
    op.create_table(
        "account_sessions",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "account_id",
            sa.Uuid(),
            sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("refresh_hash", sa.String(64), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("user_agent", sa.Text(), nullable=True),
    )
    op.create_index("account_sessions_account", "account_sessions", ["account_id"])
    op.create_table(
        "consents",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column(
            "volunteer_id",
            sa.Uuid(),
            sa.ForeignKey("volunteers.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("given", sa.Boolean(), nullable=False),
        sa.Column(
            "recorded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    )
    op.create_index("consents_latest", "consents", ["volunteer_id", "kind", "recorded_at"])
    op.create_table(
        "personal_data_views",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("route", sa.Text(), nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=True),
        sa.Column("volunteer_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column(
            "viewed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    )
    op.create_index("personal_data_views_at", "personal_data_views", ["viewed_at"])


def downgrade() -> None:
    op.drop_table("personal_data_views")
    op.drop_table("consents")
    op.drop_table("account_sessions")
    op.drop_table("accounts")
