"""intake and volunteers

Revision ID: 0001
Revises:
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "incidents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("priority", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("alert_status", sa.String(length=20), nullable=False),
        sa.Column("is_exercise", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("severity", sa.String(length=20), nullable=True),
        sa.Column("urgency", sa.String(length=20), nullable=True),
        sa.Column("certainty", sa.String(length=20), nullable=True),
        sa.Column("texts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "area",
            geoalchemy2.types.Geography(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeogFromText",
                name="geography",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("area_km2", sa.Float(), nullable=False),
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
        sa.Column("region_codes", sa.ARRAY(sa.String(length=8)), nullable=False),
        sa.Column("subject", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
    )
    op.create_index(
        "ix_incidents_area", "incidents", ["area"], unique=False, postgresql_using="gist"
    )
    op.create_index(
        "ix_incidents_expiring",
        "incidents",
        ["expires_at"],
        unique=False,
        postgresql_where="status = 'open' AND expires_at IS NOT NULL",
    )
    op.create_index(
        "ix_incidents_status_opened", "incidents", ["status", "opened_at"], unique=False
    )
    op.create_table(
        "intake_outbox",
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_outbox")),
    )
    op.create_index(
        "ix_intake_outbox_pending",
        "intake_outbox",
        ["id"],
        unique=False,
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.create_table(
        "regions",
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("name_kk", sa.Text(), nullable=False),
        sa.Column("name_ru", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("geonames_admin1", sa.String(length=16), nullable=False),
        sa.Column(
            "boundary",
            geoalchemy2.types.Geography(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeogFromText",
                name="geography",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("area_km2", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_regions")),
    )
    op.create_index(
        "ix_regions_boundary", "regions", ["boundary"], unique=False, postgresql_using="gist"
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("sender", sa.Text(), nullable=False),
        sa.Column("identifier", sa.Text(), nullable=False),
        sa.Column("sent", sa.DateTime(timezone=True), nullable=False),
        sa.Column("msg_type", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("references", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=True),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_alerts_incident_id_incidents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("sender", "identifier", "sent", name="uq_alerts_key"),
    )
    op.create_index("ix_alerts_incident", "alerts", ["incident_id"], unique=False)
    op.create_index("ix_alerts_source_identifier", "alerts", ["source", "identifier"], unique=False)
    op.create_table(
        "mobile_groups",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("region_code", sa.String(length=8), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("is_pilot", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_mobile_groups_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mobile_groups")),
    )
    op.create_index("ix_mobile_groups_region", "mobile_groups", ["region_code"], unique=False)
    op.create_table(
        "settlements",
        sa.Column("geonameid", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_ru", sa.Text(), nullable=False),
        sa.Column(
            "location",
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
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("region_code", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_settlements_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("geonameid", name=op.f("pk_settlements")),
    )
    op.create_index(
        "ix_settlements_location",
        "settlements",
        ["location"],
        unique=False,
        postgresql_using="gist",
    )
    op.create_table(
        "volunteers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("full_name", sa.Text(), nullable=False),
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("languages", sa.ARRAY(sa.String(length=2)), nullable=False),
        sa.Column("organisation", sa.Text(), nullable=True),
        sa.Column("region_code", sa.String(length=8), nullable=False),
        sa.Column(
            "home",
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
        sa.Column("transport_mode", sa.String(length=10), nullable=False),
        sa.Column("availability", sa.String(length=10), nullable=False),
        sa.Column("quiet_hours_start", sa.Time(), nullable=True),
        sa.Column("quiet_hours_end", sa.Time(), nullable=True),
        sa.Column(
            "registered_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "availability IN ('available', 'off_duty', 'inactive')",
            name=op.f("ck_volunteers_availability"),
        ),
        sa.CheckConstraint(
            "phone ~ '^\\+[1-9][0-9]{6,14}$'", name=op.f("ck_volunteers_phone_e164")
        ),
        sa.CheckConstraint(
            "transport_mode IN ('foot', 'bicycle', 'car', 'offroad')",
            name=op.f("ck_volunteers_transport_mode"),
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_volunteers_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteers")),
        sa.UniqueConstraint("phone", name=op.f("uq_volunteers_phone")),
    )
    op.create_index(
        "ix_volunteers_home", "volunteers", ["home"], unique=False, postgresql_using="gist"
    )
    op.create_index("ix_volunteers_region", "volunteers", ["region_code"], unique=False)
    op.create_table(
        "certifications",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("volunteer_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=30), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("issuer", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "expires_on > issued_on", name=op.f("ck_certifications_expires_after_issue")
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name=op.f("fk_certifications_volunteer_id_volunteers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certifications")),
    )
    op.create_index(
        "ix_certifications_type_expiry", "certifications", ["type", "expires_on"], unique=False
    )
    op.create_index(
        "ix_certifications_volunteer", "certifications", ["volunteer_id", "type"], unique=False
    )
    op.create_table(
        "incident_areas",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("alert_id", sa.Uuid(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("geocodes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "geometry",
            geoalchemy2.types.Geography(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeogFromText",
                name="geography",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.id"],
            name=op.f("fk_incident_areas_alert_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_areas_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_areas")),
    )
    op.create_table(
        "mobile_group_members",
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("volunteer_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.Column("on_call", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["mobile_groups.id"],
            name=op.f("fk_mobile_group_members_group_id_mobile_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name=op.f("fk_mobile_group_members_volunteer_id_volunteers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "volunteer_id", name=op.f("pk_mobile_group_members")),
    )
    op.create_index(
        "ix_mobile_group_members_volunteer", "mobile_group_members", ["volunteer_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_mobile_group_members_volunteer", table_name="mobile_group_members")
    op.drop_table("mobile_group_members")
    op.drop_table("incident_areas")
    op.drop_index("ix_certifications_volunteer", table_name="certifications")
    op.drop_index("ix_certifications_type_expiry", table_name="certifications")
    op.drop_table("certifications")
    op.drop_index("ix_volunteers_region", table_name="volunteers")
    op.drop_index("ix_volunteers_home", table_name="volunteers", postgresql_using="gist")
    op.drop_table("volunteers")
    op.drop_index("ix_settlements_location", table_name="settlements", postgresql_using="gist")
    op.drop_table("settlements")
    op.drop_index("ix_mobile_groups_region", table_name="mobile_groups")
    op.drop_table("mobile_groups")
    op.drop_index("ix_alerts_source_identifier", table_name="alerts")
    op.drop_index("ix_alerts_incident", table_name="alerts")
    op.drop_table("alerts")
    op.drop_index("ix_regions_boundary", table_name="regions", postgresql_using="gist")
    op.drop_table("regions")
    op.drop_index(
        "ix_intake_outbox_pending",
        table_name="intake_outbox",
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.drop_table("intake_outbox")
    op.drop_index("ix_incidents_status_opened", table_name="incidents")
    op.drop_index(
        "ix_incidents_expiring",
        table_name="incidents",
        postgresql_where="status = 'open' AND expires_at IS NOT NULL",
    )
    op.drop_index("ix_incidents_area", table_name="incidents", postgresql_using="gist")
    op.drop_table("incidents")
