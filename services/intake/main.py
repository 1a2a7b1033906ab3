"""The intake service: alerts in, incidents out.

`IntakeService` owns the broker, the database pool and two background loops (the outbox relay and
the expiry sweep); `create_app` wraps it in a FastStream application for `jedel run intake`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

from faststream import FastStream

from services.intake.cap import load_rules
from services.intake.ingest import expire_due
from services.intake.regions import RegionIndex
from services.intake.repository import IncidentRepository
from services.intake.settings import IntakeSettings
from services.intake.subscribers import IntakeContext, build_router
from services.intake.tables import OUTBOX
from shared.consumer import Consumer
from shared.db import build_engine, build_sessionmaker
from shared.dead_letters import DeadLetters
from shared.events.base import utc_now
from shared.kafka import build_broker, ensure_topics, raw_publisher
from shared.outbox import OutboxRelay, asyncpg_dsn
from shared.reference import load_regions

log = logging.getLogger(__name__)


class IntakeService:
    def __init__(
        self, settings: IntakeSettings, *, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self.settings = settings
        self.clock = clock
        load_rules()  # a broken mapping file stops the service at start, not at the first alert
        self.engine = build_engine(settings.database, application_name="jedel-intake")
        self.sessionmaker = build_sessionmaker(self.engine)
        self.broker = build_broker(settings.kafka, client_id="jedel-intake")
        consumer = Consumer(
            DeadLetters(self.broker, clock=clock),
            max_attempts=settings.intake.max_attempts,
            retry_backoff_s=settings.intake.retry_backoff_s,
        )
        self.context = IntakeContext(
            settings=settings,
            sessionmaker=self.sessionmaker,
            regions=RegionIndex(load_regions()),
            consumer=consumer,
            clock=clock,
        )
        self.broker.include_router(build_router(self.context))
        self.relay = OutboxRelay(
            OUTBOX,
            sessionmaker=self.sessionmaker,
            publish=raw_publisher(self.broker),
            listen_dsn=asyncpg_dsn(settings.database.url),
        )
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def prepare(self) -> None:
        await ensure_topics(self.settings.kafka)

    async def start_background(self) -> None:
        self._stop.clear()
        self._tasks = [
            asyncio.create_task(self.relay.run(self._stop), name="intake-outbox-relay"),
            asyncio.create_task(self._sweep_expired(), name="intake-expiry-sweep"),
        ]

    async def stop_background(self) -> None:
        self._stop.set()
        for task in self._tasks:
            # wait_for cancels a task that outlives the timeout; either way it is stopped.
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(task, timeout=10)
        self._tasks = []

    async def start(self) -> None:
        await self.prepare()
        await self.broker.start()
        await self.start_background()

    async def stop(self) -> None:
        await self.broker.stop()  # stop consuming first; the relay drains what was committed
        await self.stop_background()
        await self.engine.dispose()

    async def expire_now(self) -> int:
        async with self.sessionmaker() as session, session.begin():
            outcome = await expire_due(IncidentRepository(session), now=self.clock())
            await OUTBOX.add_all(session, outcome.events)
        return len(outcome.incident_ids)

    async def _sweep_expired(self) -> None:
        interval = self.settings.intake.expiry_sweep_interval_s
        while not self._stop.is_set():
            try:
                expired = await self.expire_now()
                if expired:
                    log.info("expired %d incidents", expired)
            except Exception:
                log.exception("expiry sweep failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), interval)


def create_app(settings: IntakeSettings | None = None) -> FastStream:
    service = IntakeService(settings or IntakeSettings())
    app = FastStream(service.broker)
    app.on_startup(service.prepare)
    app.after_startup(service.start_background)
    app.on_shutdown(service.stop_background)
    app.after_shutdown(service.engine.dispose)
    return app
