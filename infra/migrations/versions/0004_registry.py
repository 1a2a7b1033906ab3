"""Tables of the registry service: the append-only activity log and its incident projection.

The database itself keeps `activity_log` append-only: a statement trigger refuses every UPDATE,
DELETE and TRUNCATE, whoever asks. An operator corrects an entry by appending a compensating one
(`services/registry/corrections.py`); only a superuser who drops or disables the trigger on purpose
could rewrite history, and that shows in the server log.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "activity_log",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("offer_id", sa.Uuid(), nullable=True),
        sa.Column("volunteer_id", sa.Uuid(), nullable=True),
        sa.Column("role", sa.String(length=40), nullable=True),
        sa.Column("region_code", sa.String(length=8), nullable=True),
        sa.Column("is_exercise", sa.Boolean(), nullable=True),
        sa.Column("topic", sa.String(length=200), nullable=True),
        sa.Column("partition", sa.Integer(), nullable=True),
        sa.Column("offset", sa.BigInteger(), nullable=True),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_log")),
        sa.UniqueConstraint("event_id", name=op.f("uq_activity_log_event_id")),
    )
    op.create_index(
        "ix_activity_log_incident", "activity_log", ["incident_id", "occurred_at"], unique=False
    )
    op.create_index(
        "ix_activity_log_volunteer", "activity_log", ["volunteer_id", "occurred_at"], unique=False
    )
    op.create_index("ix_activity_log_kind", "activity_log", ["kind", "occurred_at"], unique=False)
    op.create_index(
        "ix_activity_log_region", "activity_log", ["region_code", "occurred_at"], unique=False
    )
    op.execute(
        """
        CREATE FUNCTION jedel_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% is append-only: % is refused', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'Correct an entry by appending a compensating one (EntryVoided).';
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER activity_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
        "ON activity_log FOR EACH STATEMENT EXECUTE FUNCTION jedel_append_only()"
    )

    op.create_table(
        "registry_incidents",
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("region_code", sa.String(length=8), nullable=True),
        sa.Column("region_codes", sa.ARRAY(sa.String(length=8)), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("is_exercise", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("incident_id", name=op.f("pk_registry_incidents")),
    )


def downgrade() -> None:
    op.drop_table("registry_incidents")
    op.execute("DROP TRIGGER IF EXISTS activity_log_append_only ON activity_log")
    op.execute("DROP FUNCTION IF EXISTS jedel_append_only()")
    op.drop_index("ix_activity_log_region", table_name="activity_log")
    op.drop_index("ix_activity_log_kind", table_name="activity_log")
    op.drop_index("ix_activity_log_volunteer", table_name="activity_log")
    op.drop_index("ix_activity_log_incident", table_name="activity_log")
    op.drop_table("activity_log")
