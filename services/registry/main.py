"""The registry service: every step of every call-out, into an append-only activity log.

`RegistryService` owns the broker and the database pool; `create_app` wraps it in a FastStream
application for `jedel run registry`. Reports read the log through `queries`. With
`metrics_port` set it answers `/metrics` and `/readyz` there (`shared.metrics`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from faststream import FastStream

from services.registry.recorder import Recorder, store_in
from services.registry.settings import RegistrySettings
from services.registry.subscribers import build_router
from shared import metrics, status
from shared.broker_access import service_principal
from shared.consumer import Consumer
from shared.db import build_engine, build_sessionmaker
from shared.dead_letters import DeadLetters
from shared.events import topics
from shared.events.base import utc_now
from shared.kafka import build_broker, ensure_topics

PRINCIPAL = service_principal("registry")


class RegistryService:
    def __init__(
        self, settings: RegistrySettings, *, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self.settings = settings
        self.engine = build_engine(settings.database, application_name="jedel-registry")
        self.sessionmaker = build_sessionmaker(self.engine)
        self.broker = build_broker(settings.kafka, principal=PRINCIPAL)
        dead_letters = DeadLetters(self.broker, clock=clock, topic=topics.EVENTS_DEAD_LETTER)
        self.recorder = Recorder(
            store_in(self.sessionmaker),
            dead_letters,
            max_attempts=settings.registry.max_attempts,
            retry_backoff_s=settings.registry.retry_backoff_s,
        )
        refused = Consumer(
            dead_letters,
            max_attempts=settings.registry.max_attempts,
            retry_backoff_s=settings.registry.retry_backoff_s,
        )
        self.broker.include_router(
            build_router(settings, self.recorder, refused, self.sessionmaker)
        )
        self.status: status.StatusServer | None = None

    async def prepare(self) -> None:
        if self.status is None:
            timeout_s = self.settings.readiness_timeout_s
            self.status = await status.start_status_server(
                self.settings,
                checks={
                    "broker": status.broker_check(self.broker, timeout_s=timeout_s * 0.8),
                    "partitions": status.partitions_check(self.broker),
                    "database": status.database_check(self.engine),
                },
                before_scrape=lambda: metrics.measure_lag("registry", self.broker),
            )
        await ensure_topics(self.settings.kafka, principal=PRINCIPAL)

    async def start(self) -> None:
        await self.prepare()
        await self.broker.start()

    async def close(self) -> None:
        if self.status is not None:
            await self.status.stop()
            self.status = None
        await self.engine.dispose()

    async def stop(self) -> None:
        await self.broker.stop()
        await self.close()


def create_app(settings: RegistrySettings | None = None) -> FastStream:
    service = RegistryService(settings or RegistrySettings())
    app = FastStream(service.broker)
    app.on_startup(service.prepare)
    app.after_shutdown(service.close)
    return app
