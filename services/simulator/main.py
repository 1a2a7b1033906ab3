"""Simulated volunteers for the demo: they read their offers and answer like people do.

It stands in for the SMS gateway and the people behind it: it reads `VolunteerOffered` on
`mobilization.v1` (what the notifier would text them) and, after a human delay or never, taps the
answer link of the SMS — `POST {api_url}/r/{token}/accept|decline` over HTTP, exactly as a phone
does. It writes nothing on the broker: the API is the only writer of `responses.v1`. The link is
signed with the deployment's secret, as the notifier signs it. Never run it against real
volunteers' data.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker, KafkaMessage
from pydantic import ValidationError

from services.simulator.settings import SimulatorSettings
from services.simulator.volunteers import Crowd
from shared import answer_links
from shared.broker_access import service_principal
from shared.events import topics
from shared.events.base import utc_now
from shared.events.mobilization import Answer, VolunteerOffered
from shared.kafka import build_broker, ensure_topics, subscriber_options

log = logging.getLogger(__name__)
PRINCIPAL = service_principal("simulator")


def build(settings: SimulatorSettings, http: httpx.AsyncClient) -> KafkaBroker:
    broker = build_broker(settings.kafka, principal=PRINCIPAL)
    crowd = Crowd(settings.simulator)
    pending: set[asyncio.Task[Any]] = set()

    async def answer_later(offer: VolunteerOffered) -> None:
        reply = crowd.reply(offer.volunteer_id)
        if reply.answer is None:
            return
        await asyncio.sleep(reply.after_s)
        token = answer_links.sign(
            settings.secret_key,
            offer_id=offer.offer_id,
            volunteer_id=offer.volunteer_id,
            offer_expires_at=offer.expires_at,
        )
        verb = "accept" if reply.answer is Answer.ACCEPT else "decline"
        try:
            tapped = await http.post(f"/r/{token}/{verb}")
        except httpx.HTTPError as error:
            log.warning("simulated volunteer could not reach the API: %s", type(error).__name__)
            return
        if tapped.status_code >= 500:
            log.warning("the API answered a simulated tap with %s", tapped.status_code)

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
    http = httpx.AsyncClient(
        base_url=settings.simulator.api_url,
        timeout=30,
        limits=httpx.Limits(max_connections=20),
    )
    broker = build(settings, http)
    app = FastStream(broker)

    @app.on_startup
    async def topics_exist() -> None:
        await ensure_topics(settings.kafka, principal=PRINCIPAL)

    @app.after_shutdown
    async def close_http() -> None:
        await http.aclose()

    return app
