"""Outbox tables wake their relay themselves: NOTIFY <table>_ready after each insert statement.

Saves the writer a round trip per transaction; the notification is delivered on commit only.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OUTBOXES = ("intake_outbox",)


def upgrade() -> None:
    op.execute(
        """
        CREATE OR REPLACE FUNCTION jedel_outbox_ready() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify(TG_TABLE_NAME || '_ready', '');
            RETURN NULL;
        END $$
        """
    )
    for table in OUTBOXES:
        op.execute(
            f"CREATE TRIGGER {table}_ready AFTER INSERT ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION jedel_outbox_ready()"
        )


def downgrade() -> None:
    for table in OUTBOXES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_ready ON {table}")
    op.execute("DROP FUNCTION IF EXISTS jedel_outbox_ready()")
