"""Tables the registry owns: the append-only activity log and a small projection of incidents.

`activity_log` keeps one row per event, once per `event_id`, and the database refuses every UPDATE,
DELETE and TRUNCATE on it (a statement trigger, migration 0004). Nothing is ever corrected in
place: an operator corrects an entry by appending a compensating one (`corrections.void_entry`
records `EntryVoided` with the voided event's id; reports leave voided entries out). A fact that
was wrong is voided and the right one appended with a new event id.

Each entry is stamped with the incident's region (the ISO code the area touches most) and whether
it is an exercise, as far as the registry knew when it recorded it. Mobilisation events can arrive
before the incident they are about (another topic, another partition); their stamp then stays
NULL, and reports fall back to `registry_incidents` at read time: the log is never touched again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base


class ActivityLogRow(Base):
    """One event as the registry recorded it; `payload` is the JSON exactly as it arrived."""

    __tablename__ = "activity_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    event_id: Mapped[UUID] = mapped_column(Uuid, unique=True)
    kind: Mapped[str] = mapped_column(String(100))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    incident_id: Mapped[UUID] = mapped_column(Uuid)
    offer_id: Mapped[UUID | None] = mapped_column(Uuid)
    volunteer_id: Mapped[UUID | None] = mapped_column(Uuid)
    role: Mapped[str | None] = mapped_column(String(40))
    region_code: Mapped[str | None] = mapped_column(String(8))
    # NULL: the incident was not known yet when the entry was recorded (see the module docstring).
    is_exercise: Mapped[bool | None] = mapped_column(Boolean)
    # Where the event was read; NULL for entries an operator appended (compensating entries).
    topic: Mapped[str | None] = mapped_column(String(200))
    partition: Mapped[int | None] = mapped_column(Integer)
    offset: Mapped[int | None] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)

    __table_args__ = (
        Index("ix_activity_log_incident", "incident_id", "occurred_at"),
        Index("ix_activity_log_volunteer", "volunteer_id", "occurred_at"),
        Index("ix_activity_log_kind", "kind", "occurred_at"),
        Index("ix_activity_log_region", "region_code", "occurred_at"),
        # When each offer ended, for the report's deployments (migration 0019).
        Index(
            "ix_activity_log_offer",
            "offer_id",
            "occurred_at",
            postgresql_where=text("offer_id IS NOT NULL"),
        ),
    )


class RegistryIncidentRow(Base):
    """The incident as `incidents.v1` last described it (newest `version` wins)."""

    __tablename__ = "registry_incidents"

    incident_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    region_code: Mapped[str | None] = mapped_column(String(8))
    region_codes: Mapped[list[str]] = mapped_column(ARRAY(String(8)))
    type: Mapped[str] = mapped_column(String(40))
    is_exercise: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(20))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # When it was first seen cancelled or expired: deployments without a stand-down end there.
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RefusedAlertRow(Base):
    """An alert the intake refused (`alerts.dead_letter.v1`), kept for the dispatchers' queue.

    Once per dead letter (unique on where the refused message was read). `message` is the original
    bytes; dispatchers read it to correct it. It may hold a missing person's name and needs: only
    dispatchers of `region_codes` (every dispatcher while those are unknown) and admins see it.
    A dispatcher resubmits a corrected message (it goes through the intake again, as if sent anew)
    or dismisses it; `handled_by` is their account.
    """

    __tablename__ = "refused_alerts"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)  # the dead letter's event id
    code: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    source_topic: Mapped[str] = mapped_column(String(100))
    source_partition: Mapped[int] = mapped_column(Integer)
    source_offset: Mapped[int] = mapped_column(BigInteger)
    sender: Mapped[str | None] = mapped_column(String(200))
    region_codes: Mapped[list[str]] = mapped_column(postgresql.ARRAY(String(8)))
    message: Mapped[bytes] = mapped_column(LargeBinary)
    refused_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20))
    handled_by: Mapped[UUID | None] = mapped_column(Uuid)
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # What a dispatcher sent in its place (kept: who changed what in an alert is on record).
    correction: Mapped[bytes | None] = mapped_column(LargeBinary)

    __table_args__ = (
        Index(
            "uq_refused_alerts_source",
            "source_topic",
            "source_partition",
            "source_offset",
            unique=True,
        ),
        Index("ix_refused_alerts_status", "status", "refused_at"),
    )
