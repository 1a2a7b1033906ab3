"""Kafka plumbing: the broker factory, topic creation and a raw publish function for relays."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Iterable
from typing import Literal, TypedDict

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream.kafka import KafkaBroker

from shared.events import topics
from shared.outbox import Publish
from shared.settings import KafkaSettings

log = logging.getLogger(__name__)


def build_broker(settings: KafkaSettings, *, client_id: str | None = None) -> KafkaBroker:
    return KafkaBroker(
        settings.bootstrap_servers,
        client_id=client_id or settings.client_id,
        max_request_size=settings.max_request_size,
        # Tansu has no idempotent producer; ordering per key holds with one request in flight.
        enable_idempotence=False,
        acks="all",
        logger=log,
        log_level=logging.DEBUG,  # per-message lines; our handlers log what matters
    )


class SubscriberOptions(TypedDict):
    auto_offset_reset: Literal["earliest", "latest"]
    max_partition_fetch_bytes: int
    fetch_max_bytes: int
    fetch_max_wait_ms: int
    session_timeout_ms: int
    heartbeat_interval_ms: int


def subscriber_options(settings: KafkaSettings) -> SubscriberOptions:
    """Consumer knobs every subscriber shares (offsets, fetch sizes, group timing)."""
    return SubscriberOptions(
        auto_offset_reset=settings.auto_offset_reset,
        max_partition_fetch_bytes=settings.max_partition_fetch_bytes,
        fetch_max_bytes=settings.max_partition_fetch_bytes * 2,
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
        session_timeout_ms=settings.session_timeout_ms,
        heartbeat_interval_ms=settings.heartbeat_interval_ms,
    )


async def ensure_topics(
    settings: KafkaSettings, names: Iterable[str] = topics.ALL, *, attempts: int = 20
) -> None:
    """Create the topics that are missing; safe to call from every service at start."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.bootstrap_servers, client_id=f"{settings.client_id}-admin"
    )
    for attempt in range(attempts):
        try:
            await admin.start()
            break
        except Exception:
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(0.5)
    try:
        existing = set(await admin.list_topics())
        missing = [name for name in names if name not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):  # another service was quicker
                await admin.create_topics(
                    [NewTopic(name, settings.partitions, replication_factor=1) for name in missing]
                )
            log.info("created topics %s", ", ".join(missing))
    finally:
        await admin.close()


def raw_publisher(broker: KafkaBroker) -> Publish:
    async def publish(
        topic: str, key: bytes | None, value: bytes, headers: dict[str, str]
    ) -> Awaitable[object]:
        return await broker.publish(value, topic, key=key, headers=headers, no_confirm=True)

    return publish


async def tail_from_beginning(settings: KafkaSettings, names: Iterable[str]) -> AIOKafkaConsumer:
    """A group-less consumer that reads the given topics from their first offset (tools, tests)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers,
        enable_auto_commit=False,
        max_partition_fetch_bytes=settings.max_partition_fetch_bytes,
    )
    await consumer.start()
    partitions = [
        TopicPartition(name, partition)
        for name in names
        for partition in sorted(consumer.partitions_for_topic(name) or {0})
    ]
    consumer.assign(partitions)
    await consumer.seek_to_beginning(*partitions)
    return consumer
