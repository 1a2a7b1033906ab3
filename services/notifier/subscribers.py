"""The notifier's subscriber: decode → plan → send and record, for each message of `mobilization.v1`.

Offers and stand-downs are sent. An answer, a timeout or a stand-down also closes the offer: what
still waits in the retry table to tell the volunteer of it is reported `failed`, not sent late.
Every other kind is committed untouched.

Messages are handled side by side, one lane per offer (`shared.consumer.Lanes`, `offer_lane`):
a wave's offers wait for the SMS gateway together, not one round trip after another, while one
offer's events keep their order — its offer is sent before its stand-down.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from faststream import AckPolicy
from faststream.kafka import KafkaMessage, KafkaRouter
from pydantic import ValidationError

from services.notifier.channels import OutgoingNotification
from services.notifier.delivery import Delivery
from services.notifier.plan import plan_offer, plan_stand_down
from services.notifier.settings import NotifierSettings
from services.notifier.sign_in import text_code
from shared.consumer import Consumer, Lanes, Position, header
from shared.events import topics
from shared.events.base import utc_now
from shared.events.mobilization import (
    OfferAccepted,
    OfferDeclined,
    OfferStoodDown,
    OfferTimedOut,
    VolunteerOffered,
)
from shared.kafka import subscriber_options
from shared.rejections import Rejected

Closing = OfferAccepted | OfferDeclined | OfferTimedOut | OfferStoodDown
Handled = VolunteerOffered | Closing
HANDLED: dict[str, type[Handled]] = {
    "VolunteerOffered": VolunteerOffered,
    "OfferStoodDown": OfferStoodDown,
    "OfferAccepted": OfferAccepted,
    "OfferDeclined": OfferDeclined,
    "OfferTimedOut": OfferTimedOut,
}
# Why an offer's notification still waiting for its channel is not sent (its `detail`).
CLOSED_BEFORE_SENT: dict[str, str] = {
    "OfferStoodDown": "stood down before it could be sent",
    "OfferAccepted": "answered (accepted) before it could be sent",
    "OfferDeclined": "answered (declined) before it could be sent",
    "OfferTimedOut": "timed out before it could be sent",
}


# One idle poll's wait (records are handed over as soon as they arrive, whatever this is).
POLL_MS = 100


class Outcome(StrEnum):
    SKIPPED = "skipped"
    NOTIFIED = "notified"
    CLOSED = "closed"


@dataclass(frozen=True)
class NotifierContext:
    settings: NotifierSettings
    consumer: Consumer
    delivery: Delivery
    clock: Callable[[], datetime] = utc_now
    lanes: list[Lanes] = field(default_factory=list)
    """The subscriber's lanes (`build_router` adds them), drained when the service stops."""


def decode(data: bytes, *, event_type: str | None) -> Handled | None:
    """The event, or None for a kind the notifier does not handle; `Rejected` if unreadable.

    The `event_type` header decides without parsing when it names another kind; otherwise the
    payload's `kind` does.
    """
    if event_type is not None and event_type not in HANDLED:
        return None
    try:
        payload = json.loads(data)
    except ValueError as error:
        raise Rejected("malformed_event", f"not JSON: {error}") from error
    if not isinstance(payload, dict):
        raise Rejected("malformed_event", "not a JSON object")
    kind = payload.get("kind", event_type)
    if not isinstance(kind, str):
        raise Rejected("malformed_event", "neither a `kind` field nor an `event_type` header")
    model = HANDLED.get(kind)
    if model is None:
        return None
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
            for problem in error.errors()
        )
        raise Rejected("invalid_event", f"{kind}: {problems}"[:500]) from error


def offer_lane(record: Any) -> Hashable:
    """The lane of a message: the offer it is about (the `offer_id` of the kinds the notifier
    handles), else its key. One that cannot be read goes to its key's lane, to be refused there."""
    key: bytes | None = record.key
    event_type = header(record, "event_type")
    if event_type is not None and event_type not in HANDLED:
        return key
    try:
        payload = json.loads(record.value or b"")
    except ValueError:
        return key
    offer_id = payload.get("offer_id") if isinstance(payload, dict) else None
    return ("offer", offer_id) if isinstance(offer_id, str) else key


def plan(event: Handled, settings: NotifierSettings) -> list[OutgoingNotification]:
    options = settings.notifier
    if isinstance(event, VolunteerOffered):
        return plan_offer(
            event,
            channels=options.enabled_channels,
            public_url=options.public_url,
            link_secret=settings.secret_key,
        )
    if isinstance(event, OfferStoodDown):
        return plan_stand_down(
            event,
            channels=options.enabled_channels,
            max_age=timedelta(seconds=options.stand_down_max_age_s),
        )
    return []


def build_router(ctx: NotifierContext) -> KafkaRouter:
    router = KafkaRouter()
    options = ctx.settings.notifier

    async def process(data: bytes, position: Position) -> Outcome:
        event = decode(data, event_type=position.event_type)
        if event is None:
            return Outcome.SKIPPED
        if not isinstance(event, VolunteerOffered):
            await ctx.delivery.close_offer(event.offer_id, detail=CLOSED_BEFORE_SENT[event.kind])
        notifications = plan(event, ctx.settings)
        await ctx.delivery.deliver_all(notifications)
        return Outcome.NOTIFIED if notifications else Outcome.CLOSED

    offers = Lanes(ctx.consumer, process, concurrency=options.concurrency, lane_of=offer_lane)
    ctx.lanes.append(offers)

    @router.subscriber(
        topics.MOBILIZATION,
        group_id=options.group_id,
        ack_policy=AckPolicy.MANUAL,
        batch=True,
        max_records=options.batch_size,
        batch_timeout_ms=POLL_MS,
        **subscriber_options(ctx.settings.kafka),
    )
    async def on_mobilization(message: KafkaMessage) -> None:
        """Offers and stand-downs go out to volunteers; each outcome is reported on notifications.v1."""
        await offers.take(message)

    @router.subscriber(
        topics.SIGN_IN_CODES,
        group_id=f"{options.group_id}-codes",
        ack_policy=AckPolicy.ACK_FIRST,  # a code is worth one try: the volunteer asks again
        **subscriber_options(ctx.settings.kafka),
    )
    async def on_sign_in_code(message: KafkaMessage) -> None:
        """A volunteer's one-time sign-in code, texted and forgotten."""
        await text_code(message.body, channels=ctx.delivery.channels, clock=ctx.clock)

    return router
