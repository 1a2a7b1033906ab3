"""`Lanes` on the real broker: a record in hand holds back neither other keys nor the next fetch,
nothing is committed past it, and what was not settled when a reader stops comes again to the
next one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import uuid4

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from faststream import AckPolicy
from faststream.kafka import KafkaMessage

from shared.broker_access import ADMIN
from shared.consumer import Consumer, Lanes, Position
from shared.dead_letters import DeadLetters
from shared.events import topics
from shared.events.base import utc_now
from shared.kafka import build_broker, client_options, ensure_topics, subscriber_options
from shared.settings import KafkaSettings
from tests.kafka_tail import eventually


class Reader:
    """One member of the group: what it processed, and which records it holds until released."""

    def __init__(self, held: set[str]) -> None:
        self.done: list[str] = []
        self.held = held
        self.release = asyncio.Event()

    async def process(self, value: bytes, position: Position) -> None:
        name = value.decode()
        if name in self.held:
            await self.release.wait()
        self.done.append(name)


@asynccontextmanager
async def reading(
    settings: KafkaSettings, topic: str, group: str, reader: Reader
) -> AsyncIterator[Lanes]:
    broker = build_broker(settings, principal=ADMIN)
    consumer = Consumer(
        DeadLetters(broker, clock=utc_now, topic=topics.EVENTS_DEAD_LETTER),
        max_attempts=3,
        retry_backoff_s=0.05,
    )
    lanes = Lanes(consumer, reader.process, concurrency=4)

    @broker.subscriber(
        topic,
        group_id=group,
        ack_policy=AckPolicy.MANUAL,
        batch=True,
        max_records=32,
        batch_timeout_ms=10,
        **subscriber_options(settings),
    )
    async def on_record(message: KafkaMessage) -> None:
        await lanes.take(message)

    await broker.start()
    try:
        yield lanes
    finally:
        await lanes.drain(timeout_s=0.2)
        await broker.stop()


async def committed(settings: KafkaSettings, group: str, topic: str) -> int | None:
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.servers, **client_options(settings, ADMIN)
    )
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    position = offsets.get(TopicPartition(topic, 0))
    return position.offset if position is not None and position.offset >= 0 else None


async def test_a_record_in_hand_holds_back_only_its_key_and_comes_again_if_never_settled(
    kafka_settings: KafkaSettings,
) -> None:
    settings = kafka_settings.model_copy(update={"partitions": 1})
    topic, group = f"test.lanes.{uuid4().hex[:8]}", f"test-lanes-{uuid4().hex[:8]}"
    await ensure_topics(settings, principal=ADMIN, names=[topic])
    producer = build_broker(settings, principal=ADMIN)
    await producer.connect()

    async def publish(*names: str) -> None:
        for name in names:
            await producer.publish(name.encode(), topic, key=name[0].encode())

    async def committed_at(offset: int) -> bool:
        return await committed(settings, group, topic) == offset

    try:
        first = Reader(held={"a-0", "d-4"})
        async with reading(settings, topic, group, first):
            await publish("a-0", "b-1", "a-2", "c-3")
            await eventually(lambda: {"b-1", "c-3"} <= set(first.done))  # beside a-0
            assert "a-2" not in first.done, "a-2 waits behind a-0, its key's first"
            assert await committed(settings, group, topic) is None, "nothing past a-0"

            first.release.set()
            await eventually(lambda: "a-2" in first.done)
            assert first.done.index("a-0") < first.done.index("a-2")

            first.release = asyncio.Event()  # d-4 is held for good: the reader stops first
            await publish("d-4", "e-5")
            await eventually(lambda: "e-5" in first.done)  # beside d-4
            # a-0…c-3 committed, and not past d-4 (e-5 is settled, but behind it)
            await eventually(lambda: committed_at(4), timeout_s=10)
        assert "d-4" not in first.done

        second = Reader(held=set())
        async with reading(settings, topic, group, second):
            await eventually(lambda: "d-4" in second.done)  # again, for the next reader
            await eventually(lambda: committed_at(6), timeout_s=10)  # past d-4, once settled
        # It starts where the first reader's commits ended: e-5 was settled but behind d-4, so it
        # comes again too (`process` is idempotent); nothing committed does.
        assert sorted(second.done) == ["d-4", "e-5"]
    finally:
        await producer.stop()
