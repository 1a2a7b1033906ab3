"""Tables the intake owns: alerts as received and the incidents they became."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from geoalchemy2 import Geography
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base
from shared.outbox import Outbox, outbox_table

OUTBOX = Outbox(outbox_table("intake"))


class IncidentRow(Base):
    __tablename__ = "incidents"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(40))
    priority: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    alert_status: Mapped[str] = mapped_column(String(20))
    is_exercise: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str | None] = mapped_column(String(20))
    urgency: Mapped[str | None] = mapped_column(String(20))
    certainty: Mapped[str | None] = mapped_column(String(20))
    texts: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    area: Mapped[Any] = mapped_column(Geography("MULTIPOLYGON", srid=4326, spatial_index=False))
    area_km2: Mapped[float] = mapped_column(Float)
    center: Mapped[Any] = mapped_column(Geography("POINT", srid=4326, spatial_index=False))
    region_codes: Mapped[list[str]] = mapped_column(ARRAY(String(8)))
    subject: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)
    area_to_confirm: Mapped[bool] = mapped_column(Boolean, default=False)
    sender_trust: Mapped[str] = mapped_column(String(20), default="registered")

    __table_args__ = (
        Index("ix_incidents_area", "area", postgresql_using="gist"),
        Index("ix_incidents_status_opened", "status", "opened_at"),
        Index("ix_incidents_opened", text("opened_at DESC"), text("id DESC")),  # migration 0019
        Index(
            "ix_incidents_expiring",
            "expires_at",
            postgresql_where="status = 'open' AND expires_at IS NOT NULL",
        ),
    )


class IncidentAreaRow(Base):
    """Each CAP `<area>` as sent, so nothing the sender said is lost in the union."""

    __tablename__ = "incident_areas"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    incident_id: Mapped[UUID] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    alert_id: Mapped[UUID] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    description: Mapped[str] = mapped_column(Text)
    geocodes: Mapped[list[list[str]]] = mapped_column(JSONB)
    geometry: Mapped[Any] = mapped_column(Geography("MULTIPOLYGON", srid=4326, spatial_index=False))

    __table_args__ = (Index("ix_incident_areas_incident", "incident_id", "id"),)  # migration 0019


class AlertRow(Base):
    """Every accepted message, verbatim, with where it came from; (sender, identifier, sent) once."""

    __tablename__ = "alerts"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    sender: Mapped[str] = mapped_column(Text)
    identifier: Mapped[str] = mapped_column(Text)
    sent: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    msg_type: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    references: Mapped[list[list[str]]] = mapped_column(JSONB)
    incident_id: Mapped[UUID | None] = mapped_column(ForeignKey("incidents.id"))
    topic: Mapped[str] = mapped_column(String(200))
    partition: Mapped[int] = mapped_column(Integer)
    offset: Mapped[int] = mapped_column(BigInteger)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )

    __table_args__ = (
        UniqueConstraint("sender", "identifier", "sent", name="uq_alerts_key"),
        Index("ix_alerts_incident", "incident_id"),
        Index("ix_alerts_source_identifier", "source", "identifier"),
    )


class SenderSuspensionRow(Base):
    """A registered sender an administrator suspended: nothing it sends is taken until resumed.

    Written by the API (admins), read by the intake every few seconds. Keyed by the sender's
    registry id as `senders.sender_key` compares it."""

    __tablename__ = "sender_suspensions"

    sender_key: Mapped[str] = mapped_column(Text, primary_key=True)
    sender_id: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    suspended_by: Mapped[UUID] = mapped_column()
    suspended_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
