"""Tables the mobilizer owns: one mobilisation per incident, its offers, and who is committed.

Timers are rows: an offer's `expires_at` and a mobilisation's `next_wave_at` are read by a sweep,
so a restart loses no timeout. "One incident at a time per volunteer" is a unique index, not code.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from geoalchemy2 import Geography
from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base
from shared.inbox import Inbox, inbox_table
from shared.outbox import Outbox, outbox_table

OUTBOX = Outbox(outbox_table("mobilizer"))
INBOX = Inbox(inbox_table("mobilizer"))


class MobilizationRow(Base):
    __tablename__ = "mobilizations"

    incident_id: Mapped[UUID] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20))  # active, complete, understaffed, closed
    playbook: Mapped[str] = mapped_column(String(80))
    incident_type: Mapped[str] = mapped_column(String(40))
    priority: Mapped[str] = mapped_column(String(20))
    is_exercise: Mapped[bool] = mapped_column(Boolean)
    headline: Mapped[str | None] = mapped_column(Text)
    center: Mapped[Any] = mapped_column(Geography("POINT", srid=4326, spatial_index=False))
    region_code: Mapped[str | None] = mapped_column(String(8))
    needed: Mapped[dict[str, int]] = mapped_column(JSONB)
    radius_m: Mapped[int] = mapped_column(Integer)
    wave: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deadline_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    next_wave_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    understaffed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    incident_version: Mapped[int] = mapped_column(Integer, default=1)
    offer_budget: Mapped[int | None] = mapped_column(Integer)
    """Offers the incident may send in all; None: the playbook's (rows before migration 0011)."""
    offers_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    expected_complete_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index(
            "ix_mobilizations_next_wave",
            "next_wave_at",
            postgresql_where=text("status = 'active' AND next_wave_at IS NOT NULL"),
        ),
    )


class OfferRow(Base):
    __tablename__ = "offers"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    incident_id: Mapped[UUID] = mapped_column(
        ForeignKey("mobilizations.incident_id", ondelete="CASCADE")
    )
    volunteer_id: Mapped[UUID] = mapped_column()
    role: Mapped[str] = mapped_column(String(30))
    wave: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(
        String(20)
    )  # pending accepted declined timed_out stood_down
    eta_s: Mapped[int] = mapped_column(Integer)
    distance_m: Mapped[int] = mapped_column(Integer)
    p_accept: Mapped[float] = mapped_column(Float)
    offered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    responded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_reason: Mapped[str | None] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(2))
    contact_phone: Mapped[str] = mapped_column(String(16))

    __table_args__ = (
        # Asked once per incident, whatever the role.
        UniqueConstraint("incident_id", "volunteer_id", name="uq_offers_incident_volunteer"),
        Index(
            "ix_offers_pending_expiry",
            "expires_at",
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_offers_volunteer_offered", "volunteer_id", "offered_at"),
    )


class CommitmentRow(Base):
    """A volunteer's place in a group; at most one open commitment per volunteer."""

    __tablename__ = "commitments"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    volunteer_id: Mapped[UUID] = mapped_column()
    incident_id: Mapped[UUID] = mapped_column(
        ForeignKey("mobilizations.incident_id", ondelete="CASCADE")
    )
    offer_id: Mapped[UUID] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(30))
    eta_s: Mapped[int] = mapped_column(Integer)
    committed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When the tracker saw them reach the scene (`VolunteerArrived`): their ETA is closed.
    arrived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index(
            "uq_commitments_one_open_per_volunteer",
            "volunteer_id",
            unique=True,
            postgresql_where=text("released_at IS NULL"),
        ),
        Index("ix_commitments_incident", "incident_id"),
        # Each candidate's last deployment (migration 0018): a scan of the table per candidate
        # without it.
        Index(
            "ix_commitments_volunteer_released",
            "volunteer_id",
            text("released_at DESC"),
            postgresql_where=text("released_at IS NOT NULL"),
        ),
    )


class ExplanationRow(Base):
    """Why a volunteer was or was not asked, as matching saw it at the wave that considered them.

    Written by the mobilizer with each wave as facts (`Explanation.stored`); the API and the CLI
    render them in the reader's language.
    """

    __tablename__ = "explanations"

    incident_id: Mapped[UUID] = mapped_column(
        ForeignKey("mobilizations.incident_id", ondelete="CASCADE"), primary_key=True
    )
    volunteer_id: Mapped[UUID] = mapped_column(primary_key=True)
    wave: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(20))
    role: Mapped[str | None] = mapped_column(String(30))
    eta_s: Mapped[int | None] = mapped_column(Integer)
    distance_m: Mapped[int | None] = mapped_column(Integer)
    p_accept: Mapped[float | None] = mapped_column(Float)
    reasons: Mapped[list[str]] = mapped_column(JSONB)
    findings: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, server_default=text("'[]'::jsonb")
    )
    """Each finding's reason and details (`explain._finding_facts`)."""
    rank: Mapped[int | None] = mapped_column(Integer)
    asked_count: Mapped[int | None] = mapped_column(Integer)
    radius_m: Mapped[int | None] = mapped_column(Integer)
    latest_eta_s: Mapped[int | None] = mapped_column(Integer)
    """The ETA cut-off a `too_late` outcome was measured against."""
    text: Mapped[dict[str, list[str]] | None] = mapped_column(JSONB)
    """The rendered lines per language of rows written before migration 0008; None since."""
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
