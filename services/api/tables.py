"""Tables the API owns: reference geography, volunteers, their training and standing groups.

The mobilizer reads volunteers and certifications for matching (read-only); only the API (and the
seed command acting for it) writes them.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from uuid import UUID

from geoalchemy2 import Geography
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base
from shared.events.volunteers import CertificationType


class RegionRow(Base):
    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    name_kk: Mapped[str] = mapped_column(Text)
    name_ru: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    geonames_admin1: Mapped[str] = mapped_column(String(16))
    boundary: Mapped[Any] = mapped_column(Geography("MULTIPOLYGON", srid=4326, spatial_index=False))
    area_km2: Mapped[float] = mapped_column(Float)

    __table_args__ = (Index("ix_regions_boundary", "boundary", postgresql_using="gist"),)


class SettlementRow(Base):
    __tablename__ = "settlements"

    geonameid: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    name_ru: Mapped[str] = mapped_column(Text)
    location: Mapped[Any] = mapped_column(Geography("POINT", srid=4326, spatial_index=False))
    population: Mapped[int] = mapped_column(Integer)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))

    __table_args__ = (Index("ix_settlements_location", "location", postgresql_using="gist"),)


class VolunteerRow(Base):
    __tablename__ = "volunteers"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(Text)
    phone: Mapped[str] = mapped_column(String(16), unique=True)
    birth_date: Mapped[date] = mapped_column(Date)
    languages: Mapped[list[str]] = mapped_column(ARRAY(String(2)))
    organisation: Mapped[str | None] = mapped_column(Text)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    home: Mapped[Any] = mapped_column(Geography("POINT", srid=4326, spatial_index=False))
    transport_mode: Mapped[str] = mapped_column(String(10))
    availability: Mapped[str] = mapped_column(String(10), default="available")
    quiet_hours_start: Mapped[time | None] = mapped_column(Time)
    quiet_hours_end: Mapped[time | None] = mapped_column(Time)
    registered_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )

    __table_args__ = (
        CheckConstraint("phone ~ '^\\+[1-9][0-9]{6,14}$'", name="phone_e164"),
        CheckConstraint(
            "transport_mode IN ('foot', 'bicycle', 'car', 'offroad')", name="transport_mode"
        ),
        CheckConstraint(
            "availability IN ('available', 'off_duty', 'inactive')", name="availability"
        ),
        Index("ix_volunteers_home", "home", postgresql_using="gist"),
        Index("ix_volunteers_region", "region_code"),
    )


class CertificationRow(Base):
    __tablename__ = "certifications"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    volunteer_id: Mapped[UUID] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(30))
    issued_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    issuer: Mapped[str | None] = mapped_column(Text)
    # The holder's home, copied and kept by the database (migration 0006) so that the nearest
    # holders of a type come straight off one index: matching never writes it.
    home: Mapped[Any] = mapped_column(
        Geography("POINT", srid=4326, spatial_index=False), nullable=False
    )

    __table_args__ = (
        CheckConstraint("expires_on > issued_on", name="expires_after_issue"),
        Index("ix_certifications_volunteer", "volunteer_id", "type"),
        Index("ix_certifications_type_expiry", "type", "expires_on"),
        # One spatial index per type (migration 0007): matching asks for the nearest holders of
        # one type at a time, and a tree of that type's holders alone answers in half the time.
        *(
            Index(
                f"ix_certifications_home_{kind.value}",
                "home",
                postgresql_using="gist",
                postgresql_where=text(f"type = '{kind.value}'"),
            )
            for kind in CertificationType
        ),
    )


class MobileGroupRow(Base):
    """A standing regional mobile volunteer group (roadmap items 2.3.1–2.3.2)."""

    __tablename__ = "mobile_groups"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    name: Mapped[str] = mapped_column(Text)
    is_pilot: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (Index("ix_mobile_groups_region", "region_code"),)


class MobileGroupMemberRow(Base):
    __tablename__ = "mobile_group_members"

    group_id: Mapped[UUID] = mapped_column(
        ForeignKey("mobile_groups.id", ondelete="CASCADE"), primary_key=True
    )
    volunteer_id: Mapped[UUID] = mapped_column(
        ForeignKey("volunteers.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(30))
    on_call: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (Index("ix_mobile_group_members_volunteer", "volunteer_id"),)
