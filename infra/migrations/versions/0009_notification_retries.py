"""Notifications wait in a table for their channel, instead of holding up their partition.

A notification whose channel was unavailable (the SMS gateway down, Redis away) used to be retried
in place: the consumer fetched the same message again and again, and every offer behind it on the
partition waited, some until they expired unsent. Now the attempt stays `pending` and a row here
says when to try it again; the message is committed and the next offers go out at once. A loop in
the notifier sends what is due (oldest first, `FOR UPDATE SKIP LOCKED`), with backoff, and settles
it as a first send does. The row goes when the attempt is settled.

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notification_retries",
        sa.Column("notification_id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notification", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notification_attempts.id"],
            name=op.f("fk_notification_retries_notification_id_notification_attempts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("notification_id", name=op.f("pk_notification_retries")),
    )
    op.create_index(
        "ix_notification_retries_channel_due", "notification_retries", ["channel", "due_at"]
    )
    op.create_index("ix_notification_retries_not_after", "notification_retries", ["not_after"])


def downgrade() -> None:
    op.drop_index("ix_notification_retries_not_after", table_name="notification_retries")
    op.drop_index("ix_notification_retries_channel_due", table_name="notification_retries")
    op.drop_table("notification_retries")
