"""Send a notification through its channel, and record and report the outcome; retry it from a
table when its channel is unavailable, without holding up the messages behind it.

The order is claim → send → settle. Each database step is its own short transaction, and the send
happens between them, outside any transaction:

1. claim: insert the (source event, channel) row as `pending`, attempt 1, or add one to `attempt`
   if it is still pending; commit. A row that is already settled means a redelivered event: skip;
   so does one waiting in `notification_retries` (the retry loop owns it).
2. send, holding no transaction and no connection.
3. settle: record the outcome, drop any retry row, and put `NotificationReported` in the outbox in
   one transaction; the relay publishes it after commit.

When the channel is unavailable (`ChannelUnavailable`: gateway 5xx/408/429, timeout, Redis away),
the consumer does not retry in place: the row stays `pending`, a row in `notification_retries`
(holding the whole notification) says when to try again (`retry.py`: exponential backoff with
jitter, capped), and the message is committed, so the offers behind it on the partition go out at
once. The retry loop (`retry_due`, every `retry_poll_s`) first reports `failed` what waited past
its `not_after` (an offer's `expires_at`) instead of sending it late, then, per channel, takes the
most overdue rows (`FOR UPDATE SKIP LOCKED`, a bounded batch), claims their next attempt and leases
them (`due_at` pushed out, so a worker that dies mid-send is taken over), sends with the same
notification id and settles exactly as above. Past `max_send_attempts` it is reported `failed`.
An answer, timeout or stand-down of the offer reports its waiting notifications `failed` too.

A circuit breaker per channel (`breaker.py`) counts failures in a row; while it is open no send is
attempted: a new notification goes straight to the retry table without an attempt counted, and the
loop leaves the channel's rows alone. After the cool-down one try goes through; it closes the
breaker or opens it again.

Why not send inside the transaction: a gateway that takes its full timeout would hold a pooled
connection (and a row lock) that long for every message in flight, and a slow gateway would drain
the pool for the whole service. It would not even prevent a duplicate: a crash after the gateway's
answer rolls the row back, and the redelivered event is sent again, blind.

Why not send first and record afterwards: the same crash leaves no trace at all.

With the claim committed first, a crash between send and settle leaves a `pending` row. The
redelivered event (or the retry loop, once the lease runs out) claims attempt n+1 and sends again
with the same notification id: the SMS `reference` the gateway deduplicates on, and the same
in-app entry, which the inbox stores once. So a volunteer gets one SMS as long as the gateway
honours `reference`; without that, only a crash inside that window can cause a second one. A
crash loop stops too: past `max_attempts` claims the notification is reported `failed` without
another send.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.notifier.breaker import BreakerState, CircuitBreaker, Permit
from services.notifier.channels import (
    Channel,
    ChannelUnavailable,
    DeliveryResult,
    OutgoingNotification,
)
from services.notifier.repository import AttemptRepository
from services.notifier.retry import GiveUp, RetrySchedule, after_unavailable, before_send
from services.notifier.settings import NotifierOptions
from services.notifier.tables import OUTBOX
from shared.events import topics
from shared.events.mobilization import DeliveryStatus, NotificationReported
from shared.outbox import OutgoingEvent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryOptions:
    schedule: RetrySchedule
    batch_size: int = 100  # retries taken per channel per pass
    concurrency: int = 8  # of those, sent at once
    lease_s: float = 60.0  # a retry being sent is not taken again before this


@dataclass(frozen=True)
class Delivery:
    sessionmaker: async_sessionmaker[AsyncSession]
    channels: Mapping[str, Channel]
    max_attempts: int
    clock: Callable[[], datetime]
    breakers: Mapping[str, CircuitBreaker]
    retry: RetryOptions
    jitter: Callable[[], float] = field(default=random.random)

    @classmethod
    def configured(
        cls,
        options: NotifierOptions,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        channels: Mapping[str, Channel],
        clock: Callable[[], datetime],
    ) -> Delivery:
        return cls(
            sessionmaker=sessionmaker,
            channels=channels,
            max_attempts=options.max_send_attempts,
            clock=clock,
            breakers={
                name: CircuitBreaker(
                    failure_threshold=options.breaker_failures,
                    cool_down_s=options.breaker_cool_down_s,
                )
                for name in channels
            },
            retry=RetryOptions(
                schedule=RetrySchedule(
                    base_s=options.send_retry_base_s, cap_s=options.send_retry_cap_s
                ),
                batch_size=options.retry_batch,
                concurrency=options.retry_concurrency,
                lease_s=options.retry_lease_s,
            ),
        )

    async def deliver_all(self, notifications: Sequence[OutgoingNotification]) -> None:
        """Every notification at once (one per channel: the in-app inbox does not wait for the
        SMS gateway's answer), each getting its try whatever becomes of the others; then the
        first error.

        An unavailable channel is not an error here (the notification waits in the retry table);
        what remains is the database or the outbox being away, and the message is then retried:
        what was settled is skipped on the next pass.
        """
        outcomes = await asyncio.gather(
            *(self.deliver(notification) for notification in notifications),
            return_exceptions=True,
        )
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome

    async def deliver(self, notification: OutgoingNotification) -> DeliveryResult | None:
        """Send and record; None when it was recorded before (a redelivered event) or it now
        waits in the retry table (its channel is unavailable, or its circuit is open)."""
        breaker = self.breakers[notification.channel]
        permit = breaker.acquire()
        if permit is None:
            async with self.sessionmaker() as session, session.begin():
                await AttemptRepository(session).schedule(
                    notification,
                    due_at=self.clock(),
                    detail=f"not tried: the {notification.channel} circuit is open",
                    replace=False,
                )
            log.info(
                "%s %s to volunteer %s: circuit open, waits in the retry table",
                notification.kind.value,
                notification.channel,
                notification.volunteer_id,
                extra={"incident_id": str(notification.incident_id)},
            )
            return None
        try:
            async with self.sessionmaker() as session:
                # The claim is one statement, atomic by itself: no BEGIN and COMMIT round trips.
                await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
                attempt = await AttemptRepository(session).claim(notification)
        except BaseException:
            breaker.release(permit)
            raise
        if attempt is None:
            breaker.release(permit)
            return None
        return await self._attempt(notification, attempt, permit)

    async def retry_due(self) -> int:
        """One pass of the retry loop: report what closed while waiting, then send what is due,
        per channel as its breaker allows; returns how many notifications it handled."""
        now = self.clock()
        async with self.sessionmaker() as session, session.begin():
            closed = await AttemptRepository(session).close_expired(
                now=now, limit=self.retry.batch_size
            )
            await OUTBOX.add_all(
                session, [self._report(item, result, attempt) for item, result, attempt in closed]
            )
        for item, result, attempt in closed:
            self._log(item, result, attempt)
        handled = len(closed)
        errors: list[BaseException] = []
        gate = asyncio.Semaphore(self.retry.concurrency)

        async def retry(notification: OutgoingNotification, attempt: int) -> None:
            async with gate:
                await self._retry(notification, attempt)

        for channel, breaker in self.breakers.items():
            state = breaker.state
            if state is BreakerState.OPEN:
                continue
            now = self.clock()
            async with self.sessionmaker() as session, session.begin():
                claimed = await AttemptRepository(session).claim_due(
                    channel=channel,
                    now=now,
                    limit=1 if state is BreakerState.HALF_OPEN else self.retry.batch_size,
                    lease_until=now + timedelta(seconds=self.retry.lease_s),
                )
            handled += len(claimed)
            outcomes = await asyncio.gather(
                *(retry(notification, attempt) for notification, attempt in claimed),
                return_exceptions=True,
            )
            errors.extend(outcome for outcome in outcomes if isinstance(outcome, BaseException))
        if errors:
            raise errors[0]
        return handled

    async def close_offer(self, offer_id: UUID, *, detail: str) -> int:
        """The offer closed (answered, withdrawn): what still waits to tell of it is not sent."""
        async with self.sessionmaker() as session, session.begin():
            closed = await AttemptRepository(session).close_offer(offer_id, detail=detail)
            await OUTBOX.add_all(
                session, [self._report(item, result, attempt) for item, result, attempt in closed]
            )
        for item, result, attempt in closed:
            self._log(item, result, attempt)
        return len(closed)

    async def _retry(self, notification: OutgoingNotification, attempt: int) -> None:
        permit = self.breakers[notification.channel].acquire()
        if permit is None:  # the circuit opened since the retry was taken: not an attempt
            async with self.sessionmaker() as session, session.begin():
                await AttemptRepository(session).put_back(
                    notification.notification_id, due_at=self.clock()
                )
            return
        await self._attempt(notification, attempt, permit)

    async def _attempt(
        self, notification: OutgoingNotification, attempt: int, permit: Permit
    ) -> DeliveryResult | None:
        """Attempt `attempt` (claimed and committed): send, then settle or schedule a retry."""
        breaker = self.breakers[notification.channel]
        refusal = before_send(
            attempt=attempt,
            max_attempts=self.max_attempts,
            now=self.clock(),
            not_after=notification.not_after,
        )
        if refusal is not None:
            breaker.release(permit)
            result = DeliveryResult(DeliveryStatus.FAILED, detail=refusal)
        else:
            try:
                result = await self.channels[notification.channel].send(notification)
            except ChannelUnavailable as error:
                breaker.record_failure()
                await self._unavailable(notification, attempt, error)
                return None
            except BaseException:
                breaker.release(permit)
                raise
            breaker.record_success()
        await self._settle(notification, result)
        return result

    async def _unavailable(
        self, notification: OutgoingNotification, attempt: int, error: ChannelUnavailable
    ) -> None:
        decision = after_unavailable(
            attempt=attempt,
            max_attempts=self.max_attempts,
            now=self.clock(),
            not_after=notification.not_after,
            error=str(error),
            schedule=self.retry.schedule,
            jitter=self.jitter(),
        )
        if isinstance(decision, GiveUp):
            await self._settle(
                notification, DeliveryResult(DeliveryStatus.FAILED, detail=decision.detail)
            )
            return
        async with self.sessionmaker() as session, session.begin():
            await AttemptRepository(session).schedule(
                notification,
                due_at=decision.due_at,
                detail=f"attempt {attempt}: {error}",
                replace=True,
            )
        log.info(
            "%s %s to volunteer %s: unavailable (attempt %d), retrying at %s",
            notification.kind.value,
            notification.channel,
            notification.volunteer_id,
            attempt,
            decision.due_at.isoformat(),
            extra={"incident_id": str(notification.incident_id)},
        )

    async def _settle(self, notification: OutgoingNotification, result: DeliveryResult) -> None:
        async with self.sessionmaker() as session, session.begin():
            attempt = await AttemptRepository(session).settle(notification.notification_id, result)
            if attempt is not None:
                await OUTBOX.add_all(session, [self._report(notification, result, attempt)])
        if attempt is not None:
            self._log(notification, result, attempt)

    def _log(
        self, notification: OutgoingNotification, result: DeliveryResult, attempt: int
    ) -> None:
        log.info(
            "%s %s to volunteer %s: %s (attempt %d)",
            notification.kind.value,
            notification.channel,
            notification.volunteer_id,
            result.status.value,
            attempt,
            extra={"incident_id": str(notification.incident_id)},
        )

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
