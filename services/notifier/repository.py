"""Notification attempts and retries in PostgreSQL; runs in the caller's transaction, never commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from pydantic import TypeAdapter
from sqlalchemy import ColumnElement, Table, bindparam, delete, exists, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier.channels import DeliveryResult, NotificationKind, OutgoingNotification
from services.notifier.retry import EXPIRED
from services.notifier.tables import PENDING, NotificationAttemptRow, NotificationRetryRow
from shared.events.mobilization import DeliveryStatus

_NOTIFICATION = TypeAdapter(OutgoingNotification)

Attempt = NotificationAttemptRow
Retry = NotificationRetryRow
_ATTEMPTS = cast(Table, NotificationAttemptRow.__table__)
_RETRIES = cast(Table, NotificationRetryRow.__table__)

# The two statements every notification runs (claim, settle), built once on the tables (Core):
# built per call through the ORM, they cost more CPU than sending the notification.
_CLAIM = (
    insert(_ATTEMPTS)
    .values(
        id=bindparam("p_id"),
        source_event_id=bindparam("p_source_event_id"),
        kind=bindparam("p_kind"),
        offer_id=bindparam("p_offer_id"),
        volunteer_id=bindparam("p_volunteer_id"),
        incident_id=bindparam("p_incident_id"),
        channel=bindparam("p_channel"),
        status=PENDING,
        attempt=1,
    )
    .on_conflict_do_update(
        index_elements=[_ATTEMPTS.c.source_event_id, _ATTEMPTS.c.channel],
        set_={"attempt": _ATTEMPTS.c.attempt + 1, "updated_at": func.now()},
        where=(_ATTEMPTS.c.status == PENDING)
        & ~exists().where(_RETRIES.c.notification_id == bindparam("p_id")),
    )
    .returning(_ATTEMPTS.c.attempt)
)
# The outcome recorded and any retry waiting for it forgotten, in one statement (one round trip).
_SETTLE = (
    update(_ATTEMPTS)
    .add_cte(
        delete(_RETRIES).where(_RETRIES.c.notification_id == bindparam("p_id")).cte("forgotten")
    )
    .where(_ATTEMPTS.c.id == bindparam("p_id"), _ATTEMPTS.c.status == PENDING)
    .values(
        status=bindparam("p_status"),
        detail=bindparam("p_detail"),
        provider_id=bindparam("p_provider_id"),
        updated_at=func.now(),
    )
    .returning(_ATTEMPTS.c.attempt)
)


def dump_notification(notification: OutgoingNotification) -> dict[str, Any]:
    dumped: dict[str, Any] = _NOTIFICATION.dump_python(notification, mode="json")
    return dumped


def load_notification(stored: dict[str, Any]) -> OutgoingNotification:
    return _NOTIFICATION.validate_python(stored)


class AttemptRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, notification: OutgoingNotification) -> int | None:
        """Start an attempt and return its number; None when the outcome is already recorded, or
        when the notification waits in the retry table (the retry loop sends it, not the caller)."""
        values = {f"p_{name}": value for name, value in self._attempt_values(notification).items()}
        attempt: int | None = (await self.session.execute(_CLAIM, values)).scalar_one_or_none()
        return attempt

    async def schedule(
        self,
        notification: OutgoingNotification,
        *,
        due_at: datetime,
        detail: str,
        replace: bool,
    ) -> bool:
        """Put the notification in the retry table, due at `due_at`; False if it is settled.

        Its attempt row is created `pending` with no attempt made when it has none (a channel whose
        circuit is open is not tried at all). With `replace`, a row already waiting is rescheduled;
        without, it is left as it is (a redelivered event must not move a retry the loop owns).
        """
        await self.session.execute(
            insert(Attempt)
            .values(**self._attempt_values(notification), status=PENDING, attempt=0)
            .on_conflict_do_nothing()
        )
        status = await self.session.scalar(
            select(Attempt.status)
            .where(Attempt.id == notification.notification_id)
            .with_for_update()
        )
        if status != PENDING:
            return False
        detail = detail[:1000]
        waiting = insert(Retry).values(
            notification_id=notification.notification_id,
            channel=notification.channel,
            due_at=due_at,
            not_after=notification.not_after,
            notification=dump_notification(notification),
            last_error=detail,
        )
        await self.session.execute(
            waiting.on_conflict_do_update(
                index_elements=[Retry.notification_id],
                set_={"due_at": waiting.excluded.due_at, "last_error": waiting.excluded.last_error},
            )
            if replace
            else waiting.on_conflict_do_nothing()
        )
        await self.note_failure(notification.notification_id, detail=detail)
        return True

    async def claim_due(
        self, *, channel: str, now: datetime, limit: int, lease_until: datetime
    ) -> list[tuple[OutgoingNotification, int]]:
        """Take up to `limit` retries of `channel` that are due (the most overdue first), start
        their next attempt and lease them until `lease_until`; rows other workers hold are skipped.

        Rows whose notification has closed are left to `close`.
        """
        due = (
            await self.session.execute(
                select(Retry.notification_id, Retry.notification)
                .where(Retry.channel == channel, Retry.due_at <= now, Retry.not_after > now)
                .order_by(Retry.due_at, Retry.created_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
        if not due:
            return []
        ids = [notification_id for notification_id, _ in due]
        await self.session.execute(
            update(Retry).where(Retry.notification_id.in_(ids)).values(due_at=lease_until)
        )
        begun = await self.session.execute(
            update(Attempt)
            .where(Attempt.id.in_(ids), Attempt.status == PENDING)
            .values(attempt=Attempt.attempt + 1, updated_at=func.now())
            .returning(Attempt.id, Attempt.attempt)
        )
        started: dict[UUID, int] = dict(begun.all())
        if orphans := [
            notification_id for notification_id in ids if notification_id not in started
        ]:
            await self.session.execute(delete(Retry).where(Retry.notification_id.in_(orphans)))
        return [
            (load_notification(stored), started[notification_id])
            for notification_id, stored in due
            if notification_id in started
        ]

    async def put_back(self, notification_id: UUID, *, due_at: datetime) -> None:
        """Undo `claim_due` for one notification that was not sent after all (its circuit opened)."""
        await self.session.execute(
            update(Retry).where(Retry.notification_id == notification_id).values(due_at=due_at)
        )
        await self.session.execute(
            update(Attempt)
            .where(Attempt.id == notification_id, Attempt.status == PENDING, Attempt.attempt > 0)
            .values(attempt=Attempt.attempt - 1, updated_at=func.now())
        )

    async def close_expired(
        self, *, now: datetime, limit: int
    ) -> list[tuple[OutgoingNotification, DeliveryResult, int]]:
        """Report `failed` the waiting notifications whose offer (or stand-down) has closed."""
        return await self._close(Retry.not_after <= now, limit=limit, detail=EXPIRED)

    async def close_offer(
        self, offer_id: UUID, *, detail: str
    ) -> list[tuple[OutgoingNotification, DeliveryResult, int]]:
        """Report `failed` the waiting notifications of an offer that was answered or withdrawn."""
        of_offer = select(Attempt.id).where(
            Attempt.offer_id == offer_id, Attempt.kind == NotificationKind.OFFER.value
        )
        return await self._close(
            Retry.notification_id.in_(of_offer), limit=None, detail=detail, skip_locked=False
        )

    async def note_failure(self, notification_id: UUID, *, detail: str) -> None:
        await self.session.execute(
            update(Attempt)
            .where(Attempt.id == notification_id, Attempt.status == PENDING)
            .values(detail=detail[:1000], updated_at=func.now())
        )

    async def settle(self, notification_id: UUID, result: DeliveryResult) -> int | None:
        """Record the outcome and return the attempt number it came from; None when another
        worker recorded one first. A retry waiting for the notification goes with it."""
        settled = await self.session.execute(
            _SETTLE,
            {
                "p_id": notification_id,
                "p_status": result.status.value,
                "p_detail": result.detail[:1000] if result.detail else None,
                "p_provider_id": result.provider_id,
            },
        )
        attempt: int | None = settled.scalar_one_or_none()
        return attempt

    async def _close(
        self,
        where: ColumnElement[bool],
        *,
        limit: int | None,
        detail: str,
        skip_locked: bool = True,
    ) -> list[tuple[OutgoingNotification, DeliveryResult, int]]:
        waiting: Sequence[tuple[UUID, dict[str, Any]]] = (
            await self.session.execute(
                select(Retry.notification_id, Retry.notification)
                .where(where)
                .order_by(Retry.not_after)
                .limit(limit)
                .with_for_update(skip_locked=skip_locked)
            )
        ).all()
        closed = []
        result = DeliveryResult(DeliveryStatus.FAILED, detail=detail)
        for notification_id, stored in waiting:
            attempt = await self.settle(notification_id, result)
            if attempt is not None:
                closed.append((load_notification(stored), result, attempt))
        return closed

    @staticmethod
    def _attempt_values(notification: OutgoingNotification) -> dict[str, Any]:
        return {
            "id": notification.notification_id,
            "source_event_id": notification.source_event_id,
            "kind": notification.kind.value,
            "offer_id": notification.offer_id,
            "volunteer_id": notification.volunteer_id,
            "incident_id": notification.incident_id,
            "channel": notification.channel,
        }
