"""The mobilizer service: incidents in, waves of offers out, until each group is complete.

`MobilizerService` owns the broker, the database pool and two loops: the outbox relay and the
sweep of durable timers (offer timeouts and due waves live in the database, so a restart loses
none). `create_app` wraps it for `jedel run mobilizer`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

from faststream import FastStream

from services.mobilizer.dispatch import Decisions, Matching, send_wave, time_out
from services.mobilizer.eligibility import FatigueRules
from services.mobilizer.playbooks import load_playbooks
from services.mobilizer.ranking import AcceptanceModel, GeodesicRouter
from services.mobilizer.repository import MobilizationRepository
from services.mobilizer.settings import MobilizerSettings
from services.mobilizer.subscribers import MobilizerContext, build_router
from services.mobilizer.tables import OUTBOX
from shared.consumer import Consumer
from shared.db import build_engine, build_sessionmaker
from shared.dead_letters import DeadLetters
from shared.events import topics
from shared.events.base import utc_now
from shared.kafka import build_broker, ensure_topics, raw_publisher
from shared.outbox import OutboxRelay, asyncpg_dsn

log = logging.getLogger(__name__)


def build_matching(settings: MobilizerSettings) -> Matching:
    options = settings.mobilizer
    return Matching(
        playbooks=load_playbooks(),  # a broken playbook file stops the service at start
        router=GeodesicRouter(detour_factor=options.detour_factor),
        model=AcceptanceModel(),
        rules=FatigueRules(
            max_callouts_per_day=options.max_callouts_per_day,
            max_callouts_per_week=options.max_callouts_per_week,
            rest_hours_after_long_deployment=options.rest_hours_after_long_deployment,
            long_deployment_hours=options.long_deployment_hours,
        ),
        candidates_per_role=options.candidates_per_role,
    )


class MobilizerService:
    def __init__(
        self,
        settings: MobilizerSettings,
        *,
        clock: Callable[[], datetime] = utc_now,
        matching: Matching | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.engine = build_engine(settings.database, application_name="jedel-mobilizer")
        self.sessionmaker = build_sessionmaker(self.engine)
        self.broker = build_broker(settings.kafka, client_id="jedel-mobilizer")
        self.matching = matching or build_matching(settings)
        consumer = Consumer(
            DeadLetters(self.broker, clock=clock, topic=topics.EVENTS_DEAD_LETTER),
            max_attempts=settings.mobilizer.max_attempts,
            retry_backoff_s=settings.mobilizer.retry_backoff_s,
        )
        self.context = MobilizerContext(
            settings=settings,
            sessionmaker=self.sessionmaker,
            matching=self.matching,
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
            asyncio.create_task(self.relay.run(self._stop), name="mobilizer-outbox-relay"),
            asyncio.create_task(self._sweep_loop(), name="mobilizer-timers"),
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
        await self.broker.stop()
        await self.stop_background()
        await self.engine.dispose()

    async def sweep(self) -> int:
        """Time out unanswered offers and send the waves that are due; returns events written."""
        now = self.clock()
        async with self.sessionmaker() as session, session.begin():
            decisions, incidents = await time_out(session, matching=self.matching, now=now)
            await OUTBOX.add_all(session, decisions.events)
        written = len(decisions.events)
        for incident_id in incidents:
            async with self.sessionmaker() as session, session.begin():
                mobilization = await MobilizationRepository(session).get(
                    incident_id, skip_locked=True
                )
                if mobilization is None or mobilization.status != "active":
                    continue
                wave = Decisions()
                await send_wave(
                    session, mobilization, matching=self.matching, now=now, decisions=wave
                )
                await OUTBOX.add_all(session, wave.events)
                written += len(wave.events)
        return written

    async def _sweep_loop(self) -> None:
        interval = self.settings.mobilizer.sweep_interval_s
        while not self._stop.is_set():
            try:
                await self.sweep()
            except Exception:
                log.exception("timer sweep failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), interval)


def create_app(settings: MobilizerSettings | None = None) -> FastStream:
    service = MobilizerService(settings or MobilizerSettings())
    app = FastStream(service.broker)
    app.on_startup(service.prepare)
    app.after_startup(service.start_background)
    app.on_shutdown(service.stop_background)
    app.after_shutdown(service.engine.dispose)
    return app
