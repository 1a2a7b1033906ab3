"""Tables the notifier owns: one row per notification through one channel, and its outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Final
from uuid import UUID

from sqlalchemy import DateTime, Index, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base
from shared.outbox import Outbox, outbox_table

OUTBOX = Outbox(outbox_table("notifier"))

# A row is `pending` from the first attempt until its outcome is known; then one of the
# `DeliveryStatus` values, for good.
PENDING: Final = "pending"


class NotificationAttemptRow(Base):
    """A notification's delivery through one channel: (source event, channel) happens once.

    `attempt` counts the tries; `detail` holds the last failure or the channel's final word.
    """

    __tablename__ = "notification_attempts"

    id: Mapped[UUID] = mapped_column(primary_key=True)  # the notification id
    source_event_id: Mapped[UUID]
    kind: Mapped[str] = mapped_column(String(20))
    offer_id: Mapped[UUID]
    volunteer_id: Mapped[UUID]
    incident_id: Mapped[UUID]
    channel: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    attempt: Mapped[int] = mapped_column(Integer)
    detail: Mapped[str | None] = mapped_column(Text)
    provider_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        UniqueConstraint(
            "source_event_id", "channel", name="uq_notification_attempts_source_channel"
        ),
        Index("ix_notification_attempts_offer", "offer_id"),
        Index("ix_notification_attempts_volunteer_created", "volunteer_id", "created_at"),
    )
