"""Field tracking: deployments, raw track points (kept 30 days), thinned tracks, the tracker's
outbox, and when a group member reached the scene (`commitments.arrived_at`).

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geography
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "deployments",
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("volunteer_id", sa.Uuid(), nullable=False),
        sa.Column("offer_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column(
            "meeting_point",
            Geography("POINT", srid=4326, spatial_index=False),
            nullable=False,
        ),
        sa.Column("accepted_at", WHEN, nullable=False),
        sa.Column("arrived_at", WHEN, nullable=True),
        sa.Column("left_at", WHEN, nullable=True),
        sa.Column("released_at", WHEN, nullable=True),
        sa.Column("last_fix_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("incident_id", "volunteer_id", name=op.f("pk_deployments")),
    )
    op.create_index(
        "ix_deployments_open_by_volunteer",
        "deployments",
        ["volunteer_id"],
        postgresql_where=sa.text("released_at IS NULL"),
    )
    op.create_table(
        "track_points",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("volunteer_id", sa.Uuid(), nullable=False),
        sa.Column("recorded_at", WHEN, nullable=False),
        sa.Column("location", Geography("POINT", srid=4326, spatial_index=False), nullable=False),
        sa.Column("accuracy_m", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_track_points")),
        sa.UniqueConstraint(
            "volunteer_id", "incident_id", "recorded_at", name="uq_track_points_fix"
        ),
    )
    op.create_index("ix_track_points_recorded_at", "track_points", ["recorded_at"])
    op.create_table(
        "deployment_tracks",
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("volunteer_id", sa.Uuid(), nullable=False),
        sa.Column("track", Geography("LINESTRING", srid=4326, spatial_index=False), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("first_at", WHEN, nullable=False),
        sa.Column("last_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("incident_id", "volunteer_id", name=op.f("pk_deployment_tracks")),
    )
    op.create_table(
        "tracker_outbox",
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
        sa.Column("created_at", WHEN, server_default=sa.text("now()"), nullable=False),
        sa.Column("published_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracker_outbox")),
    )
    op.create_index(
        "ix_tracker_outbox_pending",
        "tracker_outbox",
        ["id"],
        postgresql_where=sa.text("published_at IS NULL"),
    )
    # Wakes the relay on commit (jedel_outbox_ready() comes from 0002).
    op.execute(
        "CREATE TRIGGER tracker_outbox_ready AFTER INSERT ON tracker_outbox "
        "FOR EACH STATEMENT EXECUTE FUNCTION jedel_outbox_ready()"
    )
    op.add_column("commitments", sa.Column("arrived_at", WHEN, nullable=True))


def downgrade() -> None:
    op.drop_column("commitments", "arrived_at")
    op.execute("DROP TRIGGER IF EXISTS tracker_outbox_ready ON tracker_outbox")
    op.drop_index("ix_tracker_outbox_pending", table_name="tracker_outbox")
    op.drop_table("tracker_outbox")
    op.drop_table("deployment_tracks")
    op.drop_index("ix_track_points_recorded_at", table_name="track_points")
    op.drop_table("track_points")
    op.drop_index("ix_deployments_open_by_volunteer", table_name="deployments")
    op.drop_table("deployments")
