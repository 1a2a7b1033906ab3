"""The registry's subscribers: every topic it records, in one consumer group, a batch at a time;
and the alerts the intake refused, into the dispatchers' queue."""

from __future__ import annotations

import logging

from faststream import AckPolicy
from faststream.kafka import KafkaMessage, KafkaRouter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.registry import refusals
from services.registry.recorder import Recorder
from services.registry.settings import RegistrySettings
from shared.consumer import Consumer, Position
from shared.events import topics
from shared.kafka import subscriber_options

log = logging.getLogger(__name__)

RECORDED_TOPICS = (topics.INCIDENTS, topics.MOBILIZATION, topics.RESPONSES, topics.NOTIFICATIONS)


def build_router(
    settings: RegistrySettings,
    recorder: Recorder,
    refused: Consumer,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> KafkaRouter:
    router = KafkaRouter()
    options = settings.registry

    # One subscriber over all four topics: an incident and the call-out it caused often share a
    # batch, and the incident is then known before its mobilisation entries are stamped.
    @router.subscriber(
        *RECORDED_TOPICS,
        group_id=options.group_id,
        batch=True,
        max_records=options.max_records,
        batch_timeout_ms=options.batch_timeout_ms,
        ack_policy=AckPolicy.MANUAL,
        **subscriber_options(settings.kafka),
    )
    async def on_events(message: KafkaMessage) -> None:
        """Every incident, mobilisation, response and delivery event, into the activity log."""
        outcome = await recorder.handle(message)
        if outcome is not None:
            log.debug(
                "recorded %d, %d already known, %d dead-lettered",
                outcome.recorded,
                outcome.duplicates,
                outcome.dead_lettered,
            )

    @router.subscriber(
        topics.ALERTS_DEAD_LETTER,
        group_id=f"{options.group_id}-refusals",
        ack_policy=AckPolicy.MANUAL,
        **subscriber_options(settings.kafka),
    )
    async def on_refused_alert(message: KafkaMessage) -> None:
        """Alerts the intake refused, into the dispatchers' queue."""
        headers = dict(getattr(message.raw_message, "headers", None) or ())

        async def keep(data: bytes, position: Position) -> bool:
            return await refusals.keep(sessionmaker, refusals.refusal_of(data, headers))

        await refused.handle(message, keep)

    return router
