"""Tables the tracker owns: who is deployed where, their raw track points, and thinned tracks.

A *deployment* is a volunteer's place in an incident's group, from the accept until they are
released; only while deployed are a volunteer's fixes kept as track points (the newest fix of
everyone else lives in Redis only, and for hours). Raw points are kept `track_keep_days` (30), then
each deployment's points become one simplified line (`deployment_tracks`) and are deleted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from geoalchemy2 import Geography
from sqlalchemy import BigInteger, DateTime, Float, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base
from shared.outbox import Outbox, outbox_table

OUTBOX = Outbox(outbox_table("tracker"))


class DeploymentRow(Base):
    __tablename__ = "deployments"

    incident_id: Mapped[UUID] = mapped_column(primary_key=True)
    volunteer_id: Mapped[UUID] = mapped_column(primary_key=True)
    offer_id: Mapped[UUID] = mapped_column()
    role: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20))  # FieldStatus
    meeting_point: Mapped[Any] = mapped_column(Geography("POINT", srid=4326, spatial_index=False))
    accepted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    arrived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    left_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The newest fix (or word) that decided the status: an older one, replayed or late, decides
    # nothing.
    last_fix_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # What the volunteer last said of themselves in the app (FieldStatus), and when.
    reported_status: Mapped[str | None] = mapped_column(String(20))
    reported_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index(
            "ix_deployments_open_by_volunteer",
            "volunteer_id",
            postgresql_where="released_at IS NULL",
        ),
    )


class TrackPointRow(Base):
    __tablename__ = "track_points"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    incident_id: Mapped[UUID] = mapped_column()
    volunteer_id: Mapped[UUID] = mapped_column()
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    location: Mapped[Any] = mapped_column(Geography("POINT", srid=4326, spatial_index=False))
    accuracy_m: Mapped[float | None] = mapped_column(Float)

    __table_args__ = (
        UniqueConstraint("volunteer_id", "incident_id", "recorded_at", name="uq_track_points_fix"),
        Index("ix_track_points_recorded_at", "recorded_at"),
        # One incident's tracks, each member's in order (the dispatcher's map; migration 0019).
        Index("ix_track_points_incident", "incident_id", "volunteer_id", "recorded_at"),
    )


class DeploymentTrackRow(Base):
    """A deployment's track once its raw points were thinned."""

    __tablename__ = "deployment_tracks"

    incident_id: Mapped[UUID] = mapped_column(primary_key=True)
    volunteer_id: Mapped[UUID] = mapped_column(primary_key=True)
    track: Mapped[Any] = mapped_column(Geography("LINESTRING", srid=4326, spatial_index=False))
    points: Mapped[int] = mapped_column(Integer)  # raw points it was made of
    first_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
