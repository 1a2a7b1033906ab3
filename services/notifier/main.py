"""The notifier service: offers and stand-downs out to volunteers, delivery reports back.

`NotifierService` owns the broker, the database pool, the Redis and HTTP clients, the channels and
the outbox relay; `create_app` wraps it in a FastStream application for `jedel run notifier`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime

import httpx
from faststream import FastStream
from redis.asyncio import Redis

from services.notifier.channels import Channel, InAppChannel, SmsGatewayChannel
from services.notifier.delivery import Delivery
from services.notifier.settings import NotifierSettings
from services.notifier.subscribers import NotifierContext, build_router
from services.notifier.tables import OUTBOX
from shared.consumer import Consumer
from shared.db import build_engine, build_sessionmaker
from shared.dead_letters import DeadLetters
from shared.events import topics
from shared.events.base import utc_now
from shared.kafka import build_broker, ensure_topics, raw_publisher
from shared.outbox import OutboxRelay, asyncpg_dsn


class NotifierService:
    def __init__(
        self, settings: NotifierSettings, *, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self.settings = settings
        self.clock = clock
        options = settings.notifier
        self.engine = build_engine(settings.database, application_name="jedel-notifier")
        self.sessionmaker = build_sessionmaker(self.engine)
        self.broker = build_broker(settings.kafka, client_id="jedel-notifier")
        self.redis = Redis.from_url(settings.redis.url)
        self.http = httpx.AsyncClient(timeout=options.sms_timeout_s)
        self.channels = self._build_channels()
        consumer = Consumer(
            DeadLetters(self.broker, clock=clock, topic=topics.EVENTS_DEAD_LETTER),
            max_attempts=options.max_attempts,
            retry_backoff_s=options.retry_backoff_s,
        )
        delivery = Delivery(
            sessionmaker=self.sessionmaker,
            channels=self.channels,
            max_attempts=options.max_send_attempts,
            clock=clock,
        )
        self.broker.include_router(
            build_router(NotifierContext(settings=settings, consumer=consumer, delivery=delivery))
        )
        self.relay = OutboxRelay(
            OUTBOX,
            sessionmaker=self.sessionmaker,
            publish=raw_publisher(self.broker),
            listen_dsn=asyncpg_dsn(settings.database.url),
        )
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def _build_channels(self) -> dict[str, Channel]:
        options = self.settings.notifier
        channels: dict[str, Channel] = {}
        for name in options.enabled_channels:
            if name == "in_app":
                channels[name] = InAppChannel(
                    self.redis,
                    key_prefix=options.inbox_key_prefix,
                    keep=options.inbox_keep,
                    ttl_s=options.inbox_ttl_s,
                )
            else:
                assert options.sms_gateway_url is not None  # the settings refuse sms without it
                channels[name] = SmsGatewayChannel(
                    options.sms_gateway_url,
                    options.sms_gateway_token.get_secret_value(),
                    timeout_s=options.sms_timeout_s,
                    client=self.http,
                )
        return channels

    async def prepare(self) -> None:
        await ensure_topics(self.settings.kafka)

    async def start_background(self) -> None:
        self._stop.clear()
        self._tasks = [
            asyncio.create_task(self.relay.run(self._stop), name="notifier-outbox-relay"),
        ]

    async def stop_background(self) -> None:
        self._stop.set()
        for task in self._tasks:
            # wait_for cancels a task that outlives the timeout; either way it is stopped.
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(task, timeout=10)
        self._tasks = []

    async def close(self) -> None:
        await self.http.aclose()
        await self.redis.aclose()
        await self.engine.dispose()

    async def start(self) -> None:
        await self.prepare()
        await self.broker.start()
        await self.start_background()

    async def stop(self) -> None:
        await self.broker.stop()  # stop consuming first; the relay drains what was committed
        await self.stop_background()
        await self.close()


def create_app(settings: NotifierSettings | None = None) -> FastStream:
    service = NotifierService(settings or NotifierSettings())
    app = FastStream(service.broker)
    app.on_startup(service.prepare)
    app.after_startup(service.start_background)
    app.on_shutdown(service.stop_background)
    app.after_shutdown(service.close)
    return app
