"""Services started in the test process, against the tests' PostGIS and broker (one way to do it)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api.main import create_app
from services.api.settings import ApiSettings
from services.intake.main import IntakeService
from services.intake.settings import IntakeOptions, IntakeSettings
from services.tracker.main import TrackerService
from services.tracker.settings import TrackerOptions, TrackerSettings
from shared.metrics import subscriber_consumers
from shared.settings import DatabaseSettings, KafkaSettings, RedisSettings
from tests.broker import free_port
from tests.factories import FakeClock, new_run

INTAKE_TABLES = ("incident_areas", "alerts", "incidents", "intake_outbox")


def from_the_end(kafka: KafkaSettings) -> KafkaSettings:
    """Settings for a new consumer group that starts at the end of its topics: the session's
    broker keeps every earlier module's records (storms of thousands), which a group starting at
    the beginning would first have to work through. Pair with `await positioned(broker)`."""
    return kafka.model_copy(update={"auto_offset_reset": "latest"})


def _holds_everything(consumers: list[Any]) -> bool:
    """Whether a subscriber's consumers hold every partition of every topic they subscribe to
    between them (a group's first assignment on a new broker may cover only the topics whose
    metadata it had, and the rebalance that adds the rest starts those at the end again)."""
    held = {(p.topic, p.partition) for consumer in consumers for p in consumer.assignment()}
    if not held:
        return False
    for consumer in consumers:
        for topic in consumer.subscription():
            partitions = consumer.partitions_for_topic(topic)
            if not partitions or any((topic, p) not in held for p in partitions):
                return False
    return True


async def positioned(broker: Any, *, timeout_s: float = 30.0) -> None:
    """Until every subscriber of a started service holds its partitions and knows where it reads
    from: a record published after this is one it will read (one published before, with
    `from_the_end`, it might not)."""
    deadline = time.monotonic() + timeout_s
    while True:
        groups = subscriber_consumers(broker)
        if groups and all(_holds_everything(consumers) for consumers in groups):
            for consumers in groups:
                for consumer in consumers:
                    for partition in consumer.assignment():
                        await consumer.position(partition)
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"subscribers hold no partitions after {timeout_s:.0f}s")
        await asyncio.sleep(0.05)


@asynccontextmanager
async def running_intake(
    database_settings: DatabaseSettings,
    kafka_settings: KafkaSettings,
    engine: AsyncEngine,
    *,
    clock: FakeClock | None = None,
    intake: dict[str, Any] | None = None,
    **settings: Any,
) -> AsyncIterator[IntakeService]:
    """The intake on empty tables with a consumer group of its own; `intake` goes to
    `IntakeOptions` (e.g. `max_future_skew_s`), `settings` to `IntakeSettings` (e.g.
    `metrics_port`)."""
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {', '.join(INTAKE_TABLES)} CASCADE"))
    service = IntakeService(
        IntakeSettings(
            database=database_settings,
            kafka=kafka_settings,
            intake=IntakeOptions(
                group_id=f"jedel-intake-{new_run()}", retry_backoff_s=0.05, **(intake or {})
            ),
            **settings,
        ),
        clock=clock or FakeClock(),
    )
    await service.start()
    try:
        yield service
    finally:
        await service.stop()


@asynccontextmanager
async def api_client(settings: ApiSettings) -> AsyncIterator[httpx.AsyncClient]:
    """The API app, started (its lifespan) and reached in-process over ASGI."""
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as http,
    ):
        yield http


@asynccontextmanager
async def served_api(app: FastAPI) -> AsyncIterator[str]:
    """The API app on a real port (for a browser, or a stream ASGI would buffer): its address."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 20
    while not server.started:
        if serving.done() or time.monotonic() > deadline:
            raise AssertionError("the API did not start serving within 20 s")
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        await serving


@asynccontextmanager
async def running_tracker(
    database_settings: DatabaseSettings,
    kafka_settings: KafkaSettings,
    redis_settings: RedisSettings,
    **tracker: Any,
) -> AsyncIterator[TrackerService]:
    """The tracker with consumer groups of its own, every one starting at the end of its topics
    and positioned there before this yields (the session's broker holds every earlier module's
    records, which a group reading from the beginning would first work through — deployments
    opened minutes late); `tracker` goes to `TrackerOptions`."""
    run = new_run()
    service = TrackerService(
        TrackerSettings(
            database=database_settings,
            kafka=from_the_end(kafka_settings),
            redis=redis_settings,
            tracker=TrackerOptions(
                group_id=f"jedel-tracker-{run}",
                live_group_id=f"jedel-tracker-live-{run}",
                **tracker,
            ),
        )
    )
    await service.start()
    try:
        await positioned(service.broker)
        yield service
    finally:
        await service.stop()
