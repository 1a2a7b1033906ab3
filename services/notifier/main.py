"""The notifier service: offers and stand-downs out to volunteers, delivery reports back.

`NotifierService` owns the broker, the database pool, the Redis and HTTP clients, the channels and
the outbox relay; `create_app` wraps it in a FastStream application for `jedel run notifier`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from faststream import FastStream

from services.notifier.channels import Channel, InAppChannel, SmsGatewayChannel
from services.notifier.delivery import Delivery
from services.notifier.settings import NotifierSettings
from services.notifier.subscribers import NotifierContext, build_router
from services.notifier.tables import OUTBOX
from shared.consumer import Consumer
from shared.dead_letters import DeadLetters
from shared.events import topics
from shared.events.base import utc_now
from shared.redis_client import connect_redis
from shared.service import BrokerService, Loop, every


class NotifierService(BrokerService):
    def __init__(
        self, settings: NotifierSettings, *, clock: Callable[[], datetime] = utc_now
    ) -> None:
        super().__init__(settings, name="notifier", outbox=OUTBOX)
        self.settings: NotifierSettings = settings
        self.clock = clock
        options = settings.notifier
        self.redis = connect_redis(settings.redis)
        self.channels = self._build_channels()
        consumer = Consumer(
            DeadLetters(self.broker, clock=clock, topic=topics.EVENTS_DEAD_LETTER),
            max_attempts=options.max_attempts,
            retry_backoff_s=options.retry_backoff_s,
        )
        self.delivery = Delivery.configured(
            options, sessionmaker=self.sessionmaker, channels=self.channels, clock=clock
        )
        context = NotifierContext(
            settings=settings, consumer=consumer, delivery=self.delivery, clock=clock
        )
        self.broker.include_router(build_router(context))
        self.lanes = context.lanes

    def loops(self) -> dict[str, Loop]:
        """The outbox relay, and the retries of notifications whose channel was unavailable."""
        poll_s = self.settings.notifier.retry_poll_s
        return {
            **super().loops(),
            "retries": lambda stop: every(poll_s, stop, self.delivery.retry_due),
        }

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
                )
        return channels

    async def close(self) -> None:
        for channel in self.channels.values():
            if isinstance(channel, SmsGatewayChannel):
                await channel.close()
        await self.redis.aclose()
        await super().close()


def create_app(settings: NotifierSettings | None = None) -> FastStream:
    return NotifierService(settings or NotifierSettings()).app()
