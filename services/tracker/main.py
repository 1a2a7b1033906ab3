"""The tracker: volunteers' position reports (`locations.v1`) into live positions in Redis.

Matching reads them (`shared.positions`) to rank by ETA from where people are, not where they live.
Reports are read in batches (`shared.batch_consumer`): each is checked, then each volunteer's newest
fix of the batch is kept in one round trip to Redis. A fix older than the one kept changes nothing,
so replays and reordering are harmless; a report that breaks the contract goes to
`events.dead_letter.v1`. Fixes older than `keep_hours` are forgotten.
Tracks and arrival/left-area events (`tracking.v1`) come with the field work.

The tracker also feeds the live maps: every incident and mobilisation event becomes a `LiveChange`
on a Redis channel (`shared.live`) that the API's processes fan out to browsers.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Annotated

from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaMessage
from pydantic import Field, TypeAdapter, ValidationError

from services.tracker import deployments
from services.tracker.settings import TrackerSettings
from services.tracker.tables import OUTBOX
from shared import status
from shared.batch_consumer import BatchConsumer
from shared.consumer import Consumer, Position
from shared.dead_letters import DeadLetters
from shared.events import topics
from shared.events.base import utc_now
from shared.events.locations import FieldStatusReported, VolunteerLocated
from shared.events.mobilization import OfferAccepted, OfferStoodDown
from shared.kafka import subscriber_options
from shared.live import CHANNEL, TOPICS, change_of
from shared.positions import Fix, LivePositions
from shared.redis_client import connect_redis
from shared.rejections import Rejected, describe
from shared.service import BrokerService, Loop, every

log = logging.getLogger(__name__)


_POSITION_REPORTS: TypeAdapter[VolunteerLocated | FieldStatusReported] = TypeAdapter(
    Annotated[VolunteerLocated | FieldStatusReported, Field(discriminator="kind")]
)


def decode_location(data: bytes) -> VolunteerLocated | FieldStatusReported:
    """A fix, or a deployed volunteer's word on where they are (`locations.v1`)."""
    try:
        return _POSITION_REPORTS.validate_json(data)
    except ValidationError as error:
        raise Rejected("invalid_event", describe(error)) from None


_GROUP_CHANGES: TypeAdapter[OfferAccepted | OfferStoodDown] = TypeAdapter(
    Annotated[OfferAccepted | OfferStoodDown, Field(discriminator="kind")]
)


def decode_group_change(data: bytes) -> OfferAccepted | OfferStoodDown | None:
    """An accept, or a member stood down; None for the other events of `mobilization.v1`."""
    try:
        kind = json.loads(data).get("kind")
    except (ValueError, AttributeError):
        raise Rejected("invalid_event", "not a JSON object") from None
    if kind not in ("OfferAccepted", "OfferStoodDown"):
        return None
    try:
        event = _GROUP_CHANGES.validate_json(data)
    except ValidationError as error:
        raise Rejected("invalid_event", describe(error)) from None
    if isinstance(event, OfferStoodDown) and not event.was_member:
        return None
    return event


# How far ahead of the tracker's clock a phone's may run before its fixes are refused.
CLOCK_SKEW = timedelta(minutes=5)


class TrackerService(BrokerService):
    def __init__(
        self, settings: TrackerSettings, *, clock: Callable[[], datetime] = utc_now
    ) -> None:
        super().__init__(settings, name="tracker", outbox=OUTBOX)
        self.settings: TrackerSettings = settings
        self.clock = clock
        self.redis = connect_redis(settings.redis)
        self.positions = LivePositions(self.redis)
        dead_letters = DeadLetters(self.broker, clock=clock, topic=topics.EVENTS_DEAD_LETTER)
        # One `Consumer` per subscriber: the field work and the live relay both read
        # `mobilization.v1`, and a consumer shared between them took a record one had settled
        # as settled for the other too (an accept opened no deployment; a broken event was
        # never dead-lettered).
        field_work, live_relay = (
            Consumer(
                dead_letters,
                max_attempts=settings.tracker.max_attempts,
                retry_backoff_s=settings.tracker.retry_backoff_s,
            )
            for _ in range(2)
        )
        fixes = BatchConsumer(
            self.check,
            self.keep,
            dead_letters,
            max_attempts=settings.tracker.max_attempts,
            retry_backoff_s=settings.tracker.retry_backoff_s,
        )

        @self.broker.subscriber(
            topics.LOCATIONS,
            group_id=settings.tracker.group_id,
            ack_policy=AckPolicy.MANUAL,
            batch=True,
            max_records=settings.tracker.batch_size,
            batch_timeout_ms=settings.tracker.batch_poll_ms,
            **subscriber_options(settings.kafka),
        )
        async def on_location(message: KafkaMessage) -> None:
            """Position fixes from volunteers' phones, keyed by volunteer id."""
            await fixes.handle(message)

        @self.broker.subscriber(
            topics.MOBILIZATION,
            group_id=f"{settings.tracker.group_id}-field",
            ack_policy=AckPolicy.MANUAL,
            **subscriber_options(settings.kafka),
        )
        async def on_group_change(message: KafkaMessage) -> None:
            """Accepts open deployments; members stood down end theirs."""
            await field_work.handle(message, self.follow_group)

        live_options = subscriber_options(settings.kafka)
        live_options["auto_offset_reset"] = "latest"

        @self.broker.subscriber(
            *TOPICS,
            group_id=settings.tracker.live_group_id,
            ack_policy=AckPolicy.MANUAL,
            **live_options,
        )
        async def on_change(message: KafkaMessage) -> None:
            """Incident and mobilisation events, told to the live maps."""
            await live_relay.handle(message, self.tell_live)

    def check(self, data: bytes, position: Position) -> Fix | FieldStatusReported:
        """The fix a report gives (or the volunteer's word), or `Rejected` (pure but for the
        clock)."""
        report = decode_location(data)
        if isinstance(report, FieldStatusReported):
            return report  # stamped by the API when it heard it: no phone's clock in it
        now = self.clock()
        if report.recorded_at > now + CLOCK_SKEW:
            # A phone whose clock runs ahead would pin its fix: no later real one could replace it.
            raise Rejected(
                "fix_from_the_future",
                f"recorded_at {report.recorded_at.isoformat()} is later than now "
                f"({now.isoformat()}) by more than {CLOCK_SKEW}",
            )
        return Fix(
            report.volunteer_id,
            report.longitude,
            report.latitude,
            report.recorded_at,
            report.accuracy_m,
        )

    async def keep(self, reports: Sequence[Fix | FieldStatusReported]) -> None:
        """The newest fixes in Redis; deployed volunteers' as track points and field events,
        then what volunteers said of themselves."""
        fixes = [report for report in reports if isinstance(report, Fix)]
        said = [report for report in reports if isinstance(report, FieldStatusReported)]
        if fixes:
            await self.positions.record_many(fixes)
        async with self.sessionmaker() as session, session.begin():
            events = await deployments.follow(session, fixes)
            events += await deployments.hear(session, said)
            await OUTBOX.add_all(session, events)

    async def follow_group(self, data: bytes, position: Position) -> bool:
        """Open or end a deployment; True when the event was one of those."""
        event = decode_group_change(data)
        if event is None:
            return False
        async with self.sessionmaker() as session, session.begin():
            if isinstance(event, OfferAccepted):
                await deployments.deploy(session, event)
            else:
                await deployments.release(session, event)
        return True

    async def tell_live(self, data: bytes, position: Position) -> bool:
        """Publish the change an event makes; True when there was one to tell.

        Bytes that are no event are skipped, not dead-lettered: the relay only mirrors topics
        whose consumers (this service's field subscriber, the mobilizer, the registry) already
        refuse them with a dead letter each, and one more copy would tell an operator nothing."""
        try:
            change = change_of(position.topic, data)
        except Rejected as rejection:
            log.info("live feed: %s@%d skipped (%s)", position.topic, position.offset, rejection)
            return False
        if change is None:
            return False
        await self.redis.publish(CHANNEL, change.model_dump_json())
        return True

    async def forget_old(self) -> int:
        cutoff = self.clock() - timedelta(hours=self.settings.tracker.keep_hours)
        return await self.positions.forget_before(cutoff)

    def readiness_checks(self) -> dict[str, status.Check]:
        return {**super().readiness_checks(), "redis": status.redis_check(self.redis)}

    async def thin_old(self) -> int:
        """Raw track points past their keeping period become thinned tracks; how many went."""
        cutoff = self.clock() - timedelta(days=self.settings.tracker.track_keep_days)
        async with self.sessionmaker() as session, session.begin():
            return await deployments.thin_before(session, cutoff)

    def loops(self) -> dict[str, Loop]:
        options = self.settings.tracker
        return {
            **super().loops(),
            "forget": lambda stop: every(options.forget_every_s, stop, self.forget_old),
            "thin": lambda stop: every(options.thin_every_s, stop, self.thin_old),
        }

    async def close(self) -> None:
        await super().close()
        await self.redis.aclose()


def create_app(settings: TrackerSettings | None = None) -> FastStream:
    return TrackerService(settings or TrackerSettings()).app()
