"""The registry's subscriber: every topic it records, in one consumer group, a batch at a time."""

from __future__ import annotations

import logging

from faststream import AckPolicy
from faststream.kafka import KafkaMessage, KafkaRouter

from services.registry.recorder import Recorder
from services.registry.settings import RegistrySettings
from shared.events import topics
from shared.kafka import subscriber_options

log = logging.getLogger(__name__)

RECORDED_TOPICS = (topics.INCIDENTS, topics.MOBILIZATION, topics.RESPONSES, topics.NOTIFICATIONS)


def build_router(settings: RegistrySettings, recorder: Recorder) -> KafkaRouter:
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

    return router
