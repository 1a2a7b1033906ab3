"""The tables of accounts and access (migration 0012): accounts, their sessions, consents and the
log of who viewed personal data. The API owns them."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import ARRAY, BigInteger, Boolean, DateTime, ForeignKey, Identity, String, Text
from sqlalchemy import Uuid as SqlUuid
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base


class AccountRow(Base):
    __tablename__ = "accounts"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    username: Mapped[str | None] = mapped_column(String(64))
    password_hash: Mapped[str | None] = mapped_column(Text)
    volunteer_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("volunteers.id", ondelete="CASCADE")
    )
    display_name: Mapped[str] = mapped_column(Text)
    regions: Mapped[list[str]] = mapped_column(ARRAY(String(8)), default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AccountSessionRow(Base):
    __tablename__ = "account_sessions"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    account_id: Mapped[UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    refresh_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    user_agent: Mapped[str | None] = mapped_column(Text)


class ConsentRow(Base):
    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    volunteer_id: Mapped[UUID] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    given: Mapped[bool] = mapped_column(Boolean)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PersonalDataViewRow(Base):
    __tablename__ = "personal_data_views"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    account_id: Mapped[UUID] = mapped_column()
    role: Mapped[str] = mapped_column(String(16))
    route: Mapped[str] = mapped_column(Text)
    incident_id: Mapped[UUID | None] = mapped_column()
    volunteer_ids: Mapped[list[UUID]] = mapped_column(ARRAY(SqlUuid()))
    viewed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
