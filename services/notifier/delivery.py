"""Send a notification through its channel once, and record and report the outcome.

The order is claim → send → settle. Each database step is its own short transaction, and the send
happens between them, outside any transaction:

1. claim: insert the (source event, channel) row as `pending`, attempt 1, or add one to `attempt`
   if it is still pending; commit. A row that is already settled means a redelivered event: skip.
2. send, holding no transaction and no connection.
3. settle: record the outcome and put `NotificationReported` in the outbox in one transaction; the
   relay publishes it after commit.

Why not send inside the transaction: a gateway that takes its full timeout would hold a pooled
connection (and a row lock) that long for every message in flight, and a slow gateway would drain
the pool for the whole service. It would not even prevent a duplicate: a crash after the gateway's
answer rolls the row back, and the redelivered event is sent again, blind.

Why not send first and record afterwards: the same crash leaves no trace at all.

With the claim committed first, a crash between send and settle leaves a `pending` row. The
redelivered event claims attempt n+1 and sends again with the same notification id: the SMS
`reference` the gateway deduplicates on, and the same in-app entry, which the inbox stores once.
So a volunteer gets one SMS as long as the gateway honours `reference`; without that, only a crash
inside that window can cause a second one. A crash loop stops too: past `max_attempts` claims the
notification is reported `failed` without another send.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.notifier.channels import (
    Channel,
    ChannelUnavailable,
    DeliveryResult,
    OutgoingNotification,
)
from services.notifier.repository import AttemptRepository
from services.notifier.tables import OUTBOX
from shared.events import topics
from shared.events.mobilization import DeliveryStatus, NotificationReported
from shared.outbox import OutgoingEvent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    sessionmaker: async_sessionmaker[AsyncSession]
    channels: Mapping[str, Channel]
    max_attempts: int
    clock: Callable[[], datetime]

    async def deliver_all(self, notifications: Sequence[OutgoingNotification]) -> None:
        """Every notification gets its try, even when one before it fails; then the first error.

        So an SMS gateway outage never holds back the in-app message; the message is retried and
        what was settled is skipped on the next pass.
        """
        errors: list[Exception] = []
        for notification in notifications:
            try:
                await self.deliver(notification)
            except Exception as error:
                errors.append(error)
        if errors:
            raise errors[0]

    async def deliver(self, notification: OutgoingNotification) -> DeliveryResult | None:
        """Send and record; None when it was recorded before (a redelivered event)."""
        async with self.sessionmaker() as session, session.begin():
            attempt = await AttemptRepository(session).claim(notification)
        if attempt is None:
            return None
        result = await self._send(notification, attempt=attempt)
        async with self.sessionmaker() as session, session.begin():
            if await AttemptRepository(session).settle(notification.notification_id, result):
                await OUTBOX.add_all(session, [self._report(notification, result, attempt)])
        log.info(
            "%s %s to volunteer %s: %s (attempt %d)",
            notification.kind.value,
            notification.channel,
            notification.volunteer_id,
            result.status.value,
            attempt,
            extra={"incident_id": str(notification.incident_id)},
        )
        return result

    async def _send(self, notification: OutgoingNotification, *, attempt: int) -> DeliveryResult:
        if self.clock() >= notification.not_after:
            return DeliveryResult(DeliveryStatus.FAILED, detail="expired before it could be sent")
        if attempt > self.max_attempts:
            return DeliveryResult(
                DeliveryStatus.FAILED, detail=f"given up after {attempt - 1} attempts"
            )
        try:
            return await self.channels[notification.channel].send(notification)
        except ChannelUnavailable as error:
            if attempt >= self.max_attempts:
                return DeliveryResult(
                    DeliveryStatus.FAILED, detail=f"given up after {attempt} attempts: {error}"
                )
            async with self.sessionmaker() as session, session.begin():
                await AttemptRepository(session).note_failure(
                    notification.notification_id, detail=f"attempt {attempt}: {error}"
                )
            raise

    def _report(
        self, notification: OutgoingNotification, result: DeliveryResult, attempt: int
    ) -> OutgoingEvent:
        return OutgoingEvent(
            topic=topics.NOTIFICATIONS,
            key=str(notification.volunteer_id),
            event=NotificationReported(
                occurred_at=self.clock(),
                notification_id=notification.notification_id,
                source_event_id=notification.source_event_id,
                incident_id=notification.incident_id,
                offer_id=notification.offer_id,
                volunteer_id=notification.volunteer_id,
                channel=notification.channel,
                status=result.status,
                attempt=attempt,
                detail=result.detail,
            ),
        )
