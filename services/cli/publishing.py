"""Alerts published as the outside producers that send them: CAP as the emergency services, missing-
person reports as the police (each principal may write only its own topic)."""

from __future__ import annotations

import asyncio
from typing import Any

from shared.broker_access import PUBLISHERS
from shared.kafka import build_broker
from shared.settings import KafkaSettings


class AlertPublisher:
    def __init__(self, settings: KafkaSettings) -> None:
        self.brokers = {
            principal: build_broker(settings, principal=principal)
            for principal in sorted(set(PUBLISHERS.values()))
        }

    async def connect(self) -> None:
        await asyncio.gather(*(broker.connect() for broker in self.brokers.values()))

    async def stop(self) -> None:
        await asyncio.gather(*(broker.stop() for broker in self.brokers.values()))

    async def publish(self, payload: bytes, topic: str, *, key: bytes | None) -> Any:
        if topic not in PUBLISHERS:
            raise ValueError(f"{topic} is not an alert topic: {', '.join(PUBLISHERS)}")
        return await self.brokers[PUBLISHERS[topic]].publish(payload, topic, key=key)
