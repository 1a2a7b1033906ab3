"""Simulated volunteers for the demo: they read their offers and answer like people do.

It talks to Jedel only the way real volunteers' phones do: it reads `VolunteerOffered` on
`mobilization.v1` and answers with `RespondToOffer` on `responses.v1`, after a human delay, or
not at all. Never run it against real volunteers' data.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker, KafkaMessage
from pydantic import ValidationError

from services.simulator.settings import SimulatorSettings
from services.simulator.volunteers import Crowd
from shared.broker_access import service_principal
from shared.events import topics
from shared.events.base import utc_now
from shared.events.mobilization import RespondToOffer, VolunteerOffered
from shared.kafka import build_broker, ensure_topics, subscriber_options

log = logging.getLogger(__name__)
PRINCIPAL = service_principal("simulator")


def build(settings: SimulatorSettings) -> KafkaBroker:
    broker = build_broker(settings.kafka, principal=PRINCIPAL)
    crowd = Crowd(settings.simulator)
    pending: set[asyncio.Task[Any]] = set()

    async def answer_later(offer: VolunteerOffered) -> None:
        reply = crowd.reply(offer.volunteer_id)
        if reply.answer is None:
            return
        await asyncio.sleep(reply.after_s)
        command = RespondToOffer(
            incident_id=offer.incident_id,
            offer_id=offer.offer_id,
            volunteer_id=offer.volunteer_id,
            answer=reply.answer,
            channel="simulator",
        )
        await broker.publish(
            command.model_dump_json().encode(),
            topics.RESPONSES,
            key=str(offer.incident_id).encode(),
            headers={"event_type": "RespondToOffer", "event_id": str(command.event_id)},
        )

    @broker.subscriber(
        topics.MOBILIZATION,
        group_id=settings.simulator.group_id,
        ack_policy=AckPolicy.ACK_FIRST,  # a simulated person may miss a message; nothing is owed
        **subscriber_options(settings.kafka),
    )
    async def on_offer(message: KafkaMessage) -> None:
        if message.headers.get("event_type") != "VolunteerOffered":
            return
        try:
            offer = VolunteerOffered.model_validate_json(message.body)
        except ValidationError:
            log.warning("simulator skipped an unreadable offer")
            return
        if offer.expires_at <= utc_now():
            return  # an old offer replayed from the topic: nobody answers yesterday's call
        task = asyncio.create_task(answer_later(offer))
        pending.add(task)
        task.add_done_callback(pending.discard)

    return broker


def create_app(settings: SimulatorSettings | None = None) -> FastStream:
    settings = settings or SimulatorSettings()
    broker = build(settings)
    app = FastStream(broker)

    @app.on_startup
    async def topics_exist() -> None:
        await ensure_topics(settings.kafka, principal=PRINCIPAL)

    return app
