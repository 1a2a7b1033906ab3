"""What every Kafka-consuming service shares: a database pool, a broker, the outbox relay and
other background loops, started and stopped in the right order, and its FastStream application.

Stop order matters: consuming stops first (records a subscriber's `Lanes` hold are finished and
committed, for a while), then the loops (the relay sends what was committed), then the pools close.

With `metrics_port` set, the service answers `/metrics` and `/readyz` there from the moment it
starts preparing: ready once the broker answers, every subscriber holds partitions and the
database answers (`readiness_checks`; a service adds what else it waits for).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from faststream import FastStream

from shared import metrics, status
from shared.broker_access import service_principal
from shared.consumer import Lanes
from shared.db import build_engine, build_sessionmaker
from shared.kafka import build_broker, ensure_topics, raw_publisher
from shared.outbox import Outbox, OutboxRelay, asyncpg_dsn
from shared.settings import Settings

log = logging.getLogger(__name__)

Loop = Callable[[asyncio.Event], Coroutine[Any, Any, None]]
# How long a stopping service lets the records its subscribers' lanes hold finish.
LANES_DRAIN_S = 5.0


class BrokerService:
    def __init__(self, settings: Settings, *, name: str, outbox: Outbox | None = None) -> None:
        self.settings = settings
        self.name = name
        self.broker_principal = service_principal(name)
        self.engine = build_engine(settings.database, application_name=f"jedel-{name}")
        self.sessionmaker = build_sessionmaker(self.engine)
        self.broker = build_broker(settings.kafka, principal=self.broker_principal)
        self.relay = (
            OutboxRelay(
                outbox,
                sessionmaker=self.sessionmaker,
                publish=raw_publisher(self.broker),
                listen_dsn=asyncpg_dsn(settings.database.url),
            )
            if outbox is not None
            else None
        )
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.lanes: list[Lanes] = []
        """The subscribers' lanes (their routers add them): drained when the service stops."""
        self.status: status.StatusServer | None = None

    def loops(self) -> dict[str, Loop]:
        """The background loops to run beside the subscribers; subclasses add their own."""
        return {"outbox-relay": self.relay.run} if self.relay is not None else {}

    def readiness_checks(self) -> dict[str, status.Check]:
        """What `/readyz` waits for; subclasses add theirs (Redis, for one)."""
        timeout_s = self.settings.readiness_timeout_s
        return {
            "broker": status.broker_check(self.broker, timeout_s=timeout_s * 0.8),
            "partitions": status.partitions_check(self.broker),
            "database": status.database_check(self.engine),
        }

    async def start_status(self) -> None:
        if self.status is None:
            self.status = await status.start_status_server(
                self.settings,
                checks=self.readiness_checks(),
                before_scrape=lambda: metrics.measure_lag(self.name, self.broker),
            )

    async def prepare(self) -> None:
        await self.start_status()  # not ready yet, but able to say so
        await ensure_topics(self.settings.kafka, principal=self.broker_principal)

    async def start_background(self) -> None:
        for lanes in self.lanes:
            lanes.reopen()
        self._stop.clear()
        self._tasks = [
            asyncio.create_task(loop(self._stop), name=f"{self.name}-{label}")
            for label, loop in self.loops().items()
        ]

    async def stop_background(self) -> None:
        # Records in hand are finished and committed (for a while) before the broker stops;
        # what is left comes again to whoever reads the partitions next.
        for lanes in self.lanes:
            await lanes.drain(timeout_s=LANES_DRAIN_S)
        self._stop.set()
        for task in self._tasks:
            # wait_for cancels a task that outlives the timeout; either way it is stopped.
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(task, timeout=10)
        self._tasks = []

    async def close(self) -> None:
        if self.status is not None:
            await self.status.stop()
            self.status = None
        await self.engine.dispose()

    async def start(self) -> None:
        await self.prepare()
        await self.broker.start()
        await self.start_background()

    async def stop(self) -> None:
        await self.broker.stop()
        await self.stop_background()
        await self.close()

    def app(self) -> FastStream:
        application = FastStream(self.broker)
        application.on_startup(self.prepare)
        application.after_startup(self.start_background)
        application.on_shutdown(self.stop_background)
        application.after_shutdown(self.close)
        return application


async def every(
    interval_s: float, stop: asyncio.Event, work: Callable[[], Awaitable[object]]
) -> None:
    """Run `work` every `interval_s` until `stop`; a failure is logged and tried again next time."""
    while not stop.is_set():
        try:
            await work()
        except Exception:
            log.exception("periodic work failed; trying again in %.1fs", interval_s)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval_s)
