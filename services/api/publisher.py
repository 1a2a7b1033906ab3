"""The API's Kafka producer: volunteers' answers go to `responses.v1` from here, dispatchers'
commands too, and the alerts they correct to the intake's topics.

It connects when the app starts; if the broker is away then, the API still serves its reads and
connects again on the first answer. Nothing the API publishes needs an outbox: it writes no row
with the event, and an answer that could not be handed over is refused (503) for the caller to
send again, which the mobilizer treats as the same answer.
"""

from __future__ import annotations

import asyncio
import logging
from uuid import UUID

from faststream.kafka import KafkaBroker

from services.api.errors import BrokerUnavailable
from shared.broker_access import service_principal
from shared.events.base import Event
from shared.kafka import build_broker
from shared.settings import KafkaSettings

log = logging.getLogger(__name__)

PRINCIPAL = service_principal("api")


class EventPublisher:
    def __init__(self, settings: KafkaSettings, *, timeout_s: float) -> None:
        self.settings = settings
        self.timeout_s = timeout_s
        self._broker: KafkaBroker | None = None
        self._connecting = asyncio.Lock()

    @property
    def is_connected(self) -> bool:
        return self._broker is not None

    async def connect(self) -> bool:
        """Connect if not connected yet; False (and logged) when the broker cannot be reached."""
        if self._broker is not None:
            return True
        async with self._connecting:
            if self._broker is not None:
                return True
            try:
                broker = build_broker(self.settings, principal=PRINCIPAL)
            except ValueError as exc:  # no credentials for the broker: it cannot be used
                log.warning("broker %s not configured: %s", self.settings.bootstrap_servers, exc)
                return False
            try:
                async with asyncio.timeout(self.timeout_s):
                    await broker.connect()
            except Exception as exc:  # unreachable, refused, timed out: all mean "not now"
                log.warning("broker %s unavailable: %r", self.settings.bootstrap_servers, exc)
                await broker.stop()
                return False
            self._broker = broker
            return True

    async def ping(self) -> bool:
        """Whether the broker answers now; connects first if need be. A caller that stops
        waiting does not interrupt the connecting, which goes on for the next answer."""
        if not await asyncio.shield(self.connect()) or self._broker is None:
            return False
        return bool(await self._broker.ping(timeout=self.timeout_s))

    async def publish(self, topic: str, *, key: UUID, event: Event) -> None:
        """Hand `event` to the broker (acks=all), keyed by `key`; `BrokerUnavailable` if not."""
        if not await self.connect() or self._broker is None:
            raise BrokerUnavailable(f"cannot reach the broker to publish on {topic}")
        try:
            async with asyncio.timeout(self.timeout_s):
                await self._broker.publish(
                    event.model_dump_json().encode(),
                    topic,
                    key=str(key).encode(),
                    headers={
                        "event_id": str(event.event_id),
                        "event_type": type(event).__name__,
                        "content-type": "application/json",
                    },
                )
        except Exception as exc:
            log.warning("publishing %s on %s failed: %r", type(event).__name__, topic, exc)
            raise BrokerUnavailable(f"could not publish on {topic}") from exc

    async def publish_message(
        self, topic: str, value: bytes, *, key: bytes | None, headers: dict[str, str]
    ) -> None:
        """Hand a message that is not one of Jedel's events (a corrected alert, as its sender
        would have sent it) to the broker; `BrokerUnavailable` if not."""
        if not await self.connect() or self._broker is None:
            raise BrokerUnavailable(f"cannot reach the broker to publish on {topic}")
        try:
            async with asyncio.timeout(self.timeout_s):
                await self._broker.publish(value, topic, key=key, headers=headers)
        except Exception as exc:
            log.warning("publishing a message on %s failed: %r", topic, exc)
            raise BrokerUnavailable(f"could not publish on {topic}") from exc

    async def stop(self) -> None:
        async with self._connecting:
            if self._broker is not None:
                await self._broker.stop()
                self._broker = None
