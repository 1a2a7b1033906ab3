"""LZ4 for the large values written in bulk: outbox payloads, incident areas, alerts as sent.

PostgreSQL compresses a value over ~2 KB before it stores it, with pglz unless told otherwise.
An alert storm writes thousands of such values a second: each `IncidentOpened` carries its area
(~5 KB of coordinates) in the intake's outbox, the incident and each CAP `<area>` keep their
geography. pglz spent more of the database's time on them than the inserts themselves: at
1,000 alerts/s the outbox insert took 68 µs a row with pglz and 25 µs with LZ4, the incidents
63 and 43 µs (and the relay reads the payloads back faster as well). Values already stored
keep their compression until rewritten.

Revision ID: 0020
Revises: 0019
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LARGE_VALUES = (
    ("intake_outbox", "payload"),
    ("mobilizer_outbox", "payload"),
    ("notifier_outbox", "payload"),
    ("tracker_outbox", "payload"),
    ("incidents", "area"),
    ("incident_areas", "geometry"),
    ("alerts", "raw"),
)


def upgrade() -> None:
    for table, column in LARGE_VALUES:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION lz4")


def downgrade() -> None:
    for table, column in LARGE_VALUES:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION default")
