"""Tables the notifier owns: one row per notification through one channel, the notifications waiting
to be tried again, and its outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final
from uuid import UUID

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
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


class NotificationRetryRow(Base):
    """A pending notification whose channel was unavailable, due to be tried again at `due_at`.

    It holds the whole notification (the same id, text and phone: the gateway deduplicates on the
    id), so a retry needs nothing else. The row goes when the attempt is settled; while a retry is
    being sent, `due_at` is pushed out by a lease, so a worker that dies mid-send is taken over.
    """

    __tablename__ = "notification_retries"

    notification_id: Mapped[UUID] = mapped_column(
        ForeignKey("notification_attempts.id", ondelete="CASCADE"), primary_key=True
    )
    channel: Mapped[str] = mapped_column(String(20))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    not_after: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    notification: Mapped[dict[str, Any]] = mapped_column(JSONB)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        Index("ix_notification_retries_channel_due", "channel", "due_at"),
        Index("ix_notification_retries_not_after", "not_after"),
    )
