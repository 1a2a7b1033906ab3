"""The live feed end to end: an event on the broker, the tracker, Redis, the API's fan-out, and the
server-sent event streams of browsers signed in as different people."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import partial

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api.auth.principals import AccountRole
from services.api.main import create_app
from services.api.seed import seed_reference
from services.api.settings import ApiOptions, ApiSettings
from shared.broker_access import ADMIN
from shared.events import topics
from shared.events.alerts import DeadLetter
from shared.events.base import utc_now
from shared.events.mobilization import OfferAccepted
from shared.events.volunteers import Role
from shared.kafka import build_broker
from shared.live import CHANNEL, Audience, LiveChange
from shared.settings import DatabaseSettings, KafkaSettings, RedisSettings
from tests.accounts import headers_for
from tests.factories import insert_mobilization
from tests.kafka_tail import Tail, eventually
from tests.running import running_tracker, served_api

pytestmark = pytest.mark.integration


@dataclass
class Stream:
    """One browser's `/api/v1/live`, read in the background: the (event, data) it was sent."""

    events: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    ended: bool = False

    def kinds_of(self, incident: uuid.UUID) -> list[str]:
        return [
            data["kind"]
            for name, data in self.events
            if name == "change" and data["incident_id"] == str(incident)
        ]


async def _read(http: httpx.AsyncClient, headers: dict[str, str], into: Stream) -> None:
    async with http.stream("GET", "/api/v1/live", headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        name, data = "message", ""
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                name = line.removeprefix("event:").strip()
            elif line.startswith("data:"):
                data = line.removeprefix("data:").strip()
            elif not line and data:
                into.events.append((name, json.loads(data)))
                name, data = "message", ""
    into.ended = True


@pytest.fixture
async def served(
    database_settings: DatabaseSettings,
    kafka_settings: KafkaSettings,
    redis_settings: RedisSettings,
) -> AsyncIterator[tuple[str, FastAPI]]:
    settings = ApiSettings(
        environment="test",
        database=database_settings,
        kafka=kafka_settings,
        redis=redis_settings,
        api=ApiOptions(live_keepalive_s=0.5),
    )
    app = create_app(settings)
    async with served_api(app) as url:
        yield url, app


async def test_a_group_event_reaches_its_regions_dispatchers_and_an_incident_reaches_everyone(
    served: tuple[str, FastAPI],
    engine: AsyncEngine,
    database_settings: DatabaseSettings,
    kafka_settings: KafkaSettings,
    redis_settings: RedisSettings,
) -> None:
    url, app = served
    await seed_reference(engine)
    incident = await insert_mobilization(engine, region="KZ-39")
    here = await headers_for(engine, AccountRole.DISPATCHER, regions=["KZ-39"])
    elsewhere = await headers_for(engine, AccountRole.DISPATCHER, regions=["KZ-75"])
    streams = {"here": Stream(), "elsewhere": Stream(), "anonymous": Stream()}
    accepted = OfferAccepted(
        incident_id=incident,
        offer_id=uuid.uuid4(),
        volunteer_id=uuid.uuid4(),
        role=Role.MEDIC,
        eta_s=600,
    )
    broken = b'{"kind": "OfferAccepted", "incident_id": "not an id"}'
    tail = await Tail.open(kafka_settings, (topics.EVENTS_DEAD_LETTER,))
    broker = build_broker(kafka_settings, principal=ADMIN)
    await broker.connect()
    redis = Redis.from_url(redis_settings.url)
    async with (
        running_tracker(database_settings, kafka_settings, redis_settings),
        httpx.AsyncClient(base_url=url, timeout=30) as http,
    ):
        readers = [
            asyncio.create_task(_read(http, headers, streams[who]))
            for who, headers in (("here", here), ("elsewhere", elsewhere), ("anonymous", {}))
        ]
        try:
            await eventually(lambda: len(app.state.live.listeners) == 3)
            await app.state.live.subscribed.wait()
            key = str(incident).encode()
            await broker.publish(broken, topics.MOBILIZATION, key=key)
            await broker.publish(accepted.model_dump_json().encode(), topics.MOBILIZATION, key=key)

            await eventually(lambda: streams["here"].kinds_of(incident) == ["OfferAccepted"])
            # A change everyone hears, after it: once the others have it, they had their chance.
            opened = LiveChange(
                event_id=uuid.uuid4(),
                kind="IncidentOpened",
                incident_id=uuid.uuid4(),
                occurred_at=utc_now(),
                audience=Audience.PUBLIC,
                region_codes=("KZ-39",),
            )
            await redis.publish(CHANNEL, opened.model_dump_json())
            for stream in streams.values():
                await eventually(partial(stream.kinds_of, opened.incident_id))
            [letter] = await tail.wait_for(
                timeout_s=30,
                predicate=lambda r: (
                    r.value == broken
                    and r.headers.get("dead_letter.source_topic") == topics.MOBILIZATION
                ),
            )
        finally:
            for reader in readers:
                reader.cancel()
            await asyncio.gather(*readers, return_exceptions=True)
            await broker.stop()
            await tail.close()
            await redis.aclose()

    assert streams["elsewhere"].kinds_of(incident) == [], "another region's group is not theirs"
    assert streams["anonymous"].kinds_of(incident) == []
    for stream in streams.values():
        said = json.dumps(stream.events)
        assert str(accepted.volunteer_id) not in said and str(accepted.offer_id) not in said
    assert DeadLetter.from_headers(letter.headers).code == "invalid_event"


async def test_a_stream_ends_when_its_session_is_signed_out(
    served: tuple[str, FastAPI], engine: AsyncEngine
) -> None:
    url, app = served
    headers = await headers_for(engine, AccountRole.DISPATCHER, regions=["KZ-39"])
    stream = Stream()
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        reader = asyncio.create_task(_read(http, headers, stream))
        await eventually(lambda: len(app.state.live.listeners) == 1)
        assert (await http.post("/api/v1/auth/sign-out", headers=headers)).status_code == 204
        await asyncio.wait_for(reader, timeout=10)

    assert stream.ended
    assert stream.events[-1][0] == "signed-out"
    assert not app.state.live.listeners, "nothing is kept for a stream that ended"
