"""Tables of the mobilizer: mobilisations, offers, commitments, its inbox and outbox.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mobilizations",
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("playbook", sa.String(length=80), nullable=False),
        sa.Column("incident_type", sa.String(length=40), nullable=False),
        sa.Column("priority", sa.String(length=20), nullable=False),
        sa.Column("is_exercise", sa.Boolean(), nullable=False),
        sa.Column("headline", sa.Text(), nullable=True),
        sa.Column(
            "center",
            geoalchemy2.types.Geography(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeogFromText",
                name="geography",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("region_code", sa.String(length=8), nullable=True),
        sa.Column("needed", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("radius_m", sa.Integer(), nullable=False),
        sa.Column("wave", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_wave_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("understaffed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("incident_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("incident_id", name=op.f("pk_mobilizations")),
    )
    op.create_index(
        "ix_mobilizations_next_wave",
        "mobilizations",
        ["next_wave_at"],
        unique=False,
        postgresql_where=sa.text("status = 'active' AND next_wave_at IS NOT NULL"),
    )
    op.create_table(
        "mobilizer_inbox",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column(
            "processed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_mobilizer_inbox")),
    )
    op.create_table(
        "mobilizer_outbox",
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mobilizer_outbox")),
    )
    op.create_index(
        "ix_mobilizer_outbox_pending",
        "mobilizer_outbox",
        ["id"],
        unique=False,
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.create_table(
        "offers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("volunteer_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.Column("wave", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("eta_s", sa.Integer(), nullable=False),
        sa.Column("distance_m", sa.Integer(), nullable=False),
        sa.Column("p_accept", sa.Float(), nullable=False),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_reason", sa.String(length=40), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("contact_phone", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["mobilizations.incident_id"],
            name=op.f("fk_offers_incident_id_mobilizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offers")),
        sa.UniqueConstraint("incident_id", "volunteer_id", name="uq_offers_incident_volunteer"),
    )
    op.create_index(
        "ix_offers_pending_expiry",
        "offers",
        ["expires_at"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_offers_volunteer_offered", "offers", ["volunteer_id", "offered_at"], unique=False
    )
    op.create_table(
        "commitments",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("volunteer_id", sa.Uuid(), nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("offer_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.Column("eta_s", sa.Integer(), nullable=False),
        sa.Column(
            "committed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["mobilizations.incident_id"],
            name=op.f("fk_commitments_incident_id_mobilizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["offers.id"],
            name=op.f("fk_commitments_offer_id_offers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commitments")),
    )
    op.create_index("ix_commitments_incident", "commitments", ["incident_id"], unique=False)
    op.create_index(
        "uq_commitments_one_open_per_volunteer",
        "commitments",
        ["volunteer_id"],
        unique=True,
        postgresql_where=sa.text("released_at IS NULL"),
    )
    op.create_table(
        "explanations",
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("volunteer_id", sa.Uuid(), nullable=False),
        sa.Column("wave", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=True),
        sa.Column("eta_s", sa.Integer(), nullable=True),
        sa.Column("distance_m", sa.Integer(), nullable=True),
        sa.Column("p_accept", sa.Float(), nullable=True),
        sa.Column("reasons", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("text", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["mobilizations.incident_id"],
            name=op.f("fk_explanations_incident_id_mobilizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("incident_id", "volunteer_id", name=op.f("pk_explanations")),
    )
    op.execute(
        "CREATE TRIGGER mobilizer_outbox_ready AFTER INSERT ON mobilizer_outbox "
        "FOR EACH STATEMENT EXECUTE FUNCTION jedel_outbox_ready()"
    )


def downgrade() -> None:
    op.drop_table("explanations")
    op.drop_index(
        "uq_commitments_one_open_per_volunteer",
        table_name="commitments",
        postgresql_where=sa.text("released_at IS NULL"),
    )
    op.drop_index("ix_commitments_incident", table_name="commitments")
    op.drop_table("commitments")
    op.drop_index("ix_offers_volunteer_offered", table_name="offers")
    op.drop_index(
        "ix_offers_pending_expiry",
        table_name="offers",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.drop_table("offers")
    op.drop_index(
        "ix_mobilizer_outbox_pending",
        table_name="mobilizer_outbox",
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.drop_table("mobilizer_outbox")
    op.drop_table("mobilizer_inbox")
    op.drop_index(
        "ix_mobilizations_next_wave",
        table_name="mobilizations",
        postgresql_where=sa.text("status = 'active' AND next_wave_at IS NOT NULL"),
    )
    op.drop_table("mobilizations")
