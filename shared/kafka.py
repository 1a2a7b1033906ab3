"""Kafka plumbing: the broker factory, authentication, topic checks and a raw publish for relays.

Every client connects as a principal of `shared.broker_access` (SASL/SCRAM); a service's is
`jedel-<service>`, and the broker's ACLs let it touch only its own topics and consumer groups.

Importing it also removes FastStream's pause after an empty batch poll (`prompt_batch_poll`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Iterable
from itertools import chain
from typing import Any, Literal, TypedDict

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream._internal.types import CustomCallable
from faststream.kafka import KafkaBroker
from faststream.kafka.security import parse_security
from faststream.kafka.subscriber.usecase import BatchSubscriber
from faststream.security import BaseSecurity, SASLScram256, SASLScram512

from shared.broker_access import granted_topics, writes_anything
from shared.outbox import Publish
from shared.settings import KafkaSettings

log = logging.getLogger(__name__)


async def prompt_batch_poll(
    subscriber: BatchSubscriber, consumer: AIOKafkaConsumer
) -> tuple[Any, ...]:
    """One batch poll of a subscriber (`batch=True`): whatever records are buffered, as soon as
    any are, or none after `batch_timeout_ms`.

    It replaces FastStream's own (0.7), which after a poll that found nothing slept as long again
    before polling anew: a record arriving then waited up to `batch_timeout_ms` in the buffer
    (the mobilizer's incidents up to 10 ms, the intake's alerts up to 50 ms). aiokafka's
    `getmany` already waits the whole timeout when nothing comes, so the sleep only delayed; a
    poll that came back empty early (it does not, but a loop must not spin) waits out the rest.
    """
    began = time.monotonic()
    timeout_s = subscriber.batch_timeout_ms / 1000
    batches = await consumer.getmany(
        timeout_ms=subscriber.batch_timeout_ms, max_records=subscriber.max_records
    )
    if batches:
        return tuple(chain.from_iterable(batches.values()))
    if (left := timeout_s - (time.monotonic() - began)) > 0:
        await asyncio.sleep(left)
    return ()


setattr(BatchSubscriber, "get_msg", prompt_batch_poll)  # noqa: B010 (a method replaced)


def security(settings: KafkaSettings, principal: str) -> BaseSecurity | None:
    """FastStream's security for `principal` (None on a PLAINTEXT broker)."""
    login = settings.login(principal)
    if login is None:
        return None
    scram = SASLScram256 if settings.sasl_mechanism == "SCRAM-SHA-256" else SASLScram512
    return scram(*login, use_ssl=settings.security_protocol == "SASL_SSL")


def client_options(settings: KafkaSettings, principal: str) -> dict[str, object]:
    """aiokafka keyword arguments that authenticate a plain client as `principal`."""
    return parse_security(security(settings, principal))


def build_broker(settings: KafkaSettings, *, principal: str) -> KafkaBroker:
    return KafkaBroker(
        settings.servers,
        client_id=principal,
        security=security(settings, principal),
        max_request_size=settings.max_request_size,
        max_batch_size=settings.producer_batch_bytes,
        # Idempotent with acks=all: a retried send is written once, each partition keeps order.
        # A read-only principal (the simulator) is refused an idempotent producer's id: none.
        enable_idempotence=writes_anything(principal),
        acks="all",
        # Topics are provisioned with the broker; a service's principal may not create them.
        allow_auto_create_topics=False,
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
    decoder: CustomCallable


async def undecoded(message: Any) -> None:
    """FastStream's decoding of a message's body for handler arguments, skipped: every handler
    here takes the `KafkaMessage` and reads its records' bytes itself. Left on, a batch of a
    thousand fixes was parsed into a thousand messages and JSON-decoded once more, for nothing
    (a sixth of the tracker's time); an XML alert failed a JSON parse first."""
    return


def subscriber_options(settings: KafkaSettings) -> SubscriberOptions:
    """Consumer knobs every subscriber shares (offsets, fetch sizes, group timing, no decoding)."""
    return SubscriberOptions(
        auto_offset_reset=settings.auto_offset_reset,
        max_partition_fetch_bytes=settings.max_partition_fetch_bytes,
        fetch_max_bytes=settings.max_partition_fetch_bytes * 2,
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
        session_timeout_ms=settings.session_timeout_ms,
        heartbeat_interval_ms=settings.heartbeat_interval_ms,
        decoder=undecoded,
    )


async def ensure_topics(
    settings: KafkaSettings,
    names: Iterable[str] | None = None,
    *,
    principal: str,
    attempts: int = 20,
) -> None:
    """Wait until the broker answers and create the topics that are missing (default: those the
    principal is granted); safe to call from every service at start.

    Topics are provisioned with the broker (`shared.broker_credentials provision`) and a service's
    principal may not create them, so for a service this mostly waits for the broker.
    """
    if names is None:
        names = granted_topics(principal)
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.servers,
        client_id=f"{principal}-admin",
        **client_options(settings, principal),
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
                    [
                        NewTopic(
                            name,
                            settings.partitions,
                            replication_factor=settings.replication_factor,
                        )
                        for name in missing
                    ]
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


async def tail_from_beginning(
    settings: KafkaSettings, names: Iterable[str], *, principal: str
) -> AIOKafkaConsumer:
    """A group-less consumer that reads the given topics from their first offset (tools, tests)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.servers,
        client_id=principal,
        enable_auto_commit=False,
        max_partition_fetch_bytes=settings.max_partition_fetch_bytes,
        **client_options(settings, principal),
    )
    await consumer.start()
    # A group-less consumer knows no topic's partitions until it asks for the cluster's metadata.
    cluster = await consumer._client.fetch_all_metadata()
    partitions = [
        TopicPartition(name, partition)
        for name in names
        for partition in sorted(cluster.partitions_for_topic(name) or {0})
    ]
    consumer.assign(partitions)
    await consumer.seek_to_beginning(*partitions)
    return consumer
