"""Tables of the notifier service: notification attempts and the notifier's outbox.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notification_attempts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("source_event_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("offer_id", sa.Uuid(), nullable=False),
        sa.Column("volunteer_id", sa.Uuid(), nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("provider_id", sa.String(length=200), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_attempts")),
        sa.UniqueConstraint(
            "source_event_id", "channel", name="uq_notification_attempts_source_channel"
        ),
    )
    op.create_index("ix_notification_attempts_offer", "notification_attempts", ["offer_id"])
    op.create_index(
        "ix_notification_attempts_volunteer_created",
        "notification_attempts",
        ["volunteer_id", "created_at"],
    )
    op.create_table(
        "notifier_outbox",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=True),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column(
            "headers",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifier_outbox")),
    )
    op.create_index(
        "ix_notifier_outbox_pending",
        "notifier_outbox",
        ["id"],
        postgresql_where=sa.text("published_at IS NULL"),
    )
    # Wakes the relay on commit (jedel_outbox_ready() comes from 0002).
    op.execute(
        "CREATE TRIGGER notifier_outbox_ready AFTER INSERT ON notifier_outbox "
        "FOR EACH STATEMENT EXECUTE FUNCTION jedel_outbox_ready()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS notifier_outbox_ready ON notifier_outbox")
    op.drop_index(
        "ix_notifier_outbox_pending",
        table_name="notifier_outbox",
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.drop_table("notifier_outbox")
    op.drop_index("ix_notification_attempts_volunteer_created", table_name="notification_attempts")
    op.drop_index("ix_notification_attempts_offer", table_name="notification_attempts")
    op.drop_table("notification_attempts")
