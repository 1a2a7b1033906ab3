"""Services started in the test process, against the tests' PostGIS and broker (one way to do it)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api.main import create_app
from services.api.settings import ApiSettings
from services.intake.main import IntakeService
from services.intake.settings import IntakeOptions, IntakeSettings
from shared.settings import DatabaseSettings, KafkaSettings
from tests.factories import FakeClock, new_run

INTAKE_TABLES = ("incident_areas", "alerts", "incidents", "intake_outbox")


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
