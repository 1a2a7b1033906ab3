"""Notification attempts in PostgreSQL; runs in the caller's transaction and never commits."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier.channels import DeliveryResult, OutgoingNotification
from services.notifier.tables import PENDING, NotificationAttemptRow


class AttemptRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, notification: OutgoingNotification) -> int | None:
        """Start an attempt and return its number; None when the outcome is already recorded."""
        statement = insert(NotificationAttemptRow).values(
            id=notification.notification_id,
            source_event_id=notification.source_event_id,
            kind=notification.kind.value,
            offer_id=notification.offer_id,
            volunteer_id=notification.volunteer_id,
            incident_id=notification.incident_id,
            channel=notification.channel,
            status=PENDING,
            attempt=1,
        )
        claimed = statement.on_conflict_do_update(
            index_elements=[NotificationAttemptRow.source_event_id, NotificationAttemptRow.channel],
            set_={"attempt": NotificationAttemptRow.attempt + 1, "updated_at": func.now()},
            where=NotificationAttemptRow.status == PENDING,
        ).returning(NotificationAttemptRow.attempt)
        attempt: int | None = (await self.session.execute(claimed)).scalar_one_or_none()
        return attempt

    async def note_failure(self, notification_id: UUID, *, detail: str) -> None:
        await self.session.execute(
            update(NotificationAttemptRow)
            .where(
                NotificationAttemptRow.id == notification_id,
                NotificationAttemptRow.status == PENDING,
            )
            .values(detail=detail[:1000], updated_at=func.now())
        )

    async def settle(self, notification_id: UUID, result: DeliveryResult) -> bool:
        """Record the outcome; False when another worker recorded one first."""
        settled = await self.session.execute(
            update(NotificationAttemptRow)
            .where(
                NotificationAttemptRow.id == notification_id,
                NotificationAttemptRow.status == PENDING,
            )
            .values(
                status=result.status.value,
                detail=result.detail[:1000] if result.detail else None,
                provider_id=result.provider_id,
                updated_at=func.now(),
            )
            .returning(NotificationAttemptRow.id)
        )
        return settled.first() is not None
