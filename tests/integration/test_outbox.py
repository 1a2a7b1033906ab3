"""The outbox relay on real PostgreSQL and Apache Kafka: rows go out in order, once marked they are
not sent again, and published rows are pruned after their keeping time (pending ones never)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from services.intake.tables import OUTBOX
from shared.broker_access import ADMIN
from shared.db import build_sessionmaker
from shared.events import topics
from shared.kafka import build_broker, raw_publisher
from shared.outbox import OutboxRelay, Publish, asyncpg_dsn
from shared.settings import DatabaseSettings, KafkaSettings
from tests.factories import new_run
from tests.kafka_tail import Tail, eventually

pytestmark = pytest.mark.integration
TABLE = OUTBOX.table


@pytest.fixture
async def relay(engine: AsyncEngine, kafka_settings: KafkaSettings) -> AsyncIterator[OutboxRelay]:
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {TABLE.name}"))
    broker = build_broker(kafka_settings, principal=ADMIN)
    await broker.connect()
    yield OutboxRelay(
        OUTBOX,
        sessionmaker=build_sessionmaker(engine),
        publish=raw_publisher(broker),
        listen_dsn=None,
        batch_size=3,
        keep_published_s=3600,
        prune_batch=2,
    )
    await broker.stop()


async def add(
    engine: AsyncEngine, key: str, count: int, *, published_hours_ago: float | None
) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            TABLE.insert(),
            [
                {"topic": topics.INCIDENTS, "key": key, "payload": f"{key}:{n}".encode()}
                for n in range(count)
            ],
        )
        if published_hours_ago is not None:
            await connection.execute(
                update(TABLE)
                .where(TABLE.c.key == key)
                .values(published_at=func.now() - text(f"interval '{published_hours_ago} hours'"))
            )


async def test_pending_rows_reach_the_topic_in_order_and_are_marked_sent(
    relay: OutboxRelay, engine: AsyncEngine, kafka_settings: KafkaSettings
) -> None:
    key = new_run()
    await add(engine, key, 5, published_hours_ago=None)
    tail = await Tail.open(kafka_settings, (topics.INCIDENTS,))
    try:
        assert await relay.relay_once() == 3  # one batch
        assert await relay.relay_once() == 2
        assert await relay.relay_once() == 0  # nothing is sent twice
        records = await tail.wait_for(lambda r: r.key == key.encode(), count=5)
    finally:
        await tail.close()
    assert [record.value for record in records] == [f"{key}:{n}".encode() for n in range(5)]


async def test_published_rows_are_pruned_after_their_keeping_time_and_pending_ones_stay(
    relay: OutboxRelay, engine: AsyncEngine
) -> None:
    await add(engine, "old", 5, published_hours_ago=25)
    await add(engine, "recent", 2, published_hours_ago=0.5)
    await add(engine, "pending", 2, published_hours_ago=None)

    assert await relay.prune() == 5  # in batches of 2: 2, 2, 1

    async with engine.connect() as connection:
        left = (
            await connection.execute(
                select(TABLE.c.key, func.count()).group_by(TABLE.c.key).order_by(TABLE.c.key)
            )
        ).all()
    assert [tuple(row) for row in left] == [("pending", 2), ("recent", 2)]


async def test_rows_added_while_the_relay_publishes_go_out_at_once_not_after_a_poll(
    engine: AsyncEngine, kafka_settings: KafkaSettings, database_settings: DatabaseSettings
) -> None:
    # The relay sleeps until a NOTIFY or a poll (here 60 s). A row committed while a pass is
    # publishing is not in that pass: its NOTIFY must bring the next pass at once.
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {TABLE.name}"))
    broker = build_broker(kafka_settings, principal=ADMIN)
    await broker.connect()
    send = raw_publisher(broker)
    publishing, go_on = asyncio.Event(), asyncio.Event()

    async def slow_first(
        topic: str, key: bytes | None, payload: bytes, headers: dict[str, str]
    ) -> Awaitable[object]:
        if not go_on.is_set():
            publishing.set()
            await go_on.wait()
        return await send(topic, key, payload, headers)

    relay = OutboxRelay(
        OUTBOX,
        sessionmaker=build_sessionmaker(engine),
        publish=slow_first,
        listen_dsn=asyncpg_dsn(database_settings.url),
        idle_poll_s=60,
    )
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run(stop))
    try:
        await asyncio.sleep(0.5)  # listening, first pass done (nothing to send)
        await add(engine, "first", 1, published_hours_ago=None)
        await asyncio.wait_for(publishing.wait(), 10)
        await add(engine, "while-publishing", 1, published_hours_ago=None)
        await asyncio.sleep(0.3)  # its NOTIFY is in
        go_on.set()

        async def all_sent() -> bool:
            async with engine.connect() as connection:
                pending = await connection.scalar(
                    select(func.count()).select_from(TABLE).where(TABLE.c.published_at.is_(None))
                )
            return pending == 0

        await eventually(all_sent, timeout_s=10)
    finally:
        stop.set()
        await asyncio.wait_for(running, 10)
        await broker.stop()


async def test_a_second_relay_sends_nothing_while_the_first_is_publishing(
    engine: AsyncEngine, kafka_settings: KafkaSettings
) -> None:
    # Replicas each run a relay: one leads at a time, holding its lock until its rows are marked,
    # so no row goes out twice and none out of order.
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {TABLE.name}"))
    key = new_run()
    await add(engine, key, 4, published_hours_ago=None)
    broker = build_broker(kafka_settings, principal=ADMIN)
    await broker.connect()
    send = raw_publisher(broker)
    publishing, go_on = asyncio.Event(), asyncio.Event()
    sent_by: dict[str, list[bytes]] = {"first": [], "second": []}

    def publisher(name: str, *, hold: bool) -> Publish:
        async def publish(
            topic: str, key: bytes | None, payload: bytes, headers: dict[str, str]
        ) -> Awaitable[object]:
            if hold and not go_on.is_set():
                publishing.set()
                await go_on.wait()
            sent_by[name].append(payload)
            return await send(topic, key, payload, headers)

        return publish

    def relay_named(name: str, *, hold: bool) -> OutboxRelay:
        return OutboxRelay(
            OUTBOX,
            sessionmaker=build_sessionmaker(engine),
            publish=publisher(name, hold=hold),
            listen_dsn=None,
        )

    first, second = relay_named("first", hold=True), relay_named("second", hold=False)
    tail = await Tail.open(kafka_settings, (topics.INCIDENTS,))
    try:
        leading = asyncio.create_task(first.relay_once())
        await asyncio.wait_for(publishing.wait(), 10)
        assert await second.relay_once() == 0  # the first leads: nothing for the second
        go_on.set()
        assert await asyncio.wait_for(leading, 10) == 4
        assert await second.relay_once() == 0  # marked sent by the first, committed
        records = await tail.wait_for(lambda r: r.key == key.encode(), count=4)
    finally:
        await tail.close()
        await broker.stop()
    expected = [f"{key}:{n}".encode() for n in range(4)]
    assert sent_by == {"first": expected, "second": []}
    assert [record.value for record in records] == expected
