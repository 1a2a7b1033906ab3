"""The outbox relay on real PostgreSQL and Apache Kafka: rows go out in order, once marked they are
not sent again, and published rows are pruned after their keeping time (pending ones never)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from services.intake.tables import OUTBOX
from shared.broker_access import ADMIN
from shared.db import build_sessionmaker
from shared.events import topics
from shared.kafka import build_broker, raw_publisher
from shared.outbox import OutboxRelay
from shared.settings import KafkaSettings
from tests.factories import new_run
from tests.kafka_tail import Tail

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
