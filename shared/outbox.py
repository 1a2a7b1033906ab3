"""The transactional outbox: events are written with the change that caused them, relayed after commit.

Each service owns its own outbox table (one writer per table). A relay drains it in id order, one
relay at a time per table (a PostgreSQL advisory lock), so one key's events keep their order.
Delivery is at-least-once: a crash between publish and mark publishes a row again, and consumers
are idempotent on `event_id`. Published rows are kept a day (to look into) and then pruned by the
relay, so the tables do not grow without end.

The relay also tells operators how it keeps up (`shared.metrics`): every event it published, by
topic and type (the mobilizer's waves and offers and the notifier's reports are counted from
these), and, every few seconds, how many rows are pending and how old the oldest is.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import zlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import asyncpg
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    LargeBinary,
    String,
    Table,
    delete,
    func,
    make_url,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared import metrics
from shared.db import Base, insert_rows
from shared.events.base import Event
from shared.waits import wait_any, wait_or_stop

log = logging.getLogger(__name__)

# Hands one message to the producer and returns the wait for its acknowledgement, so a batch is
# sent in one go and acknowledged together (the producer keeps each partition's order).
Publish = Callable[[str, bytes | None, bytes, dict[str, str]], Awaitable[Awaitable[object]]]


def outbox_table(service: str) -> Table:
    name = f"{service}_outbox"
    return Table(
        name,
        Base.metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("topic", String(200), nullable=False),
        Column("key", String(200), nullable=True),
        Column("payload", LargeBinary, nullable=False),
        Column("headers", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True), nullable=True),
        Index(f"ix_{name}_pending", "id", postgresql_where=text("published_at IS NULL")),
    )


@dataclass(frozen=True)
class OutgoingEvent:
    topic: str
    key: str
    event: Event

    def headers(self) -> dict[str, str]:
        return {
            "event_id": str(self.event.event_id),
            "event_type": type(self.event).__name__,
            "content-type": "application/json",
        }


class Outbox:
    """Adds events to a service's outbox inside the caller's transaction; never commits."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.channel = f"{table.name}_ready"

    async def add_all(self, session: AsyncSession, events: Iterable[OutgoingEvent]) -> int:
        rows = [
            {
                "topic": item.topic,
                "key": item.key,
                "payload": item.event.model_dump_json().encode(),
                "headers": item.headers(),
            }
            for item in events
        ]
        if rows:
            # A statement trigger (see the migrations) NOTIFYs `<table>_ready`, delivered on
            # commit only: the relay wakes exactly when there is something to send.
            await insert_rows(session, self.table, rows)
        return len(rows)


class OutboxRelay:
    """Publishes pending outbox rows in order and marks them sent."""

    def __init__(
        self,
        outbox: Outbox,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        publish: Publish,
        listen_dsn: str | None,
        batch_size: int = 500,
        idle_poll_s: float = 1.0,
        keep_published_s: int = 24 * 3600,
        prune_every_s: float = 600.0,
        prune_batch: int = 10_000,
        measure_every_s: float = 5.0,
    ) -> None:
        self.outbox = outbox
        self.sessionmaker = sessionmaker
        self.publish = publish
        self.listen_dsn = listen_dsn
        self.batch_size = batch_size
        self.idle_poll_s = idle_poll_s
        self.keep_published_s = keep_published_s
        self.prune_every_s = prune_every_s
        self.prune_batch = prune_batch
        self.measure_every_s = measure_every_s
        self._lock_key = zlib.crc32(outbox.table.name.encode())
        table = outbox.table.name
        # The leader's lock and its batch in one round trip: no rows when another relay leads
        # (the lock is tried once, in the materialised CTE, and held until the commit).
        lead = f"pg_try_advisory_xact_lock({self._lock_key})"
        self._pending = (  # our table and key
            f"WITH leader AS MATERIALIZED (SELECT {lead} AS ok) "  # noqa: S608
            f"SELECT id, topic, key, payload, headers FROM {table}, leader "
            "WHERE leader.ok AND published_at IS NULL ORDER BY id LIMIT $1"
        )
        self._mark = f"UPDATE {table} SET published_at = now() WHERE id = ANY($1::bigint[])"  # noqa: S608
        self._wakeup = asyncio.Event()

    async def relay_once(self) -> int:
        """Publish one batch; returns how many rows were sent (0 when idle or another relay leads)."""
        sent = await self._relay_batch()
        for topic, headers, payload in sent:  # counted once marked sent and committed
            metrics.count_published(self.outbox.table.name, topic, headers, payload)
        return len(sent)

    async def _relay_batch(self) -> list[tuple[str, dict[str, str], bytes]]:
        # Straight on the driver: the ORM's row processing and an UPDATE … IN (…) prepared
        # afresh for every batch size cost more than the relay's own work.
        async with self.sessionmaker() as session:
            connection = await session.connection()
            driver = (await connection.get_raw_connection()).driver_connection
            assert driver is not None, "the session's connection is open"
            # The transaction on the driver itself: SQLAlchemy's would begin only at a statement
            # of its own (a round trip more), and has nothing to roll back when the session closes.
            async with driver.transaction():
                return await self._publish_pending(driver)

    async def _publish_pending(
        self, driver: asyncpg.Connection
    ) -> list[tuple[str, dict[str, str], bytes]]:
        rows = [
            # SQLAlchemy's dialect gives its connections a JSONB codec; a bare one has none.
            (row[0], row[1], row[2], row[3], _headers(row[4]))
            for row in await driver.fetch(self._pending, self.batch_size)
        ]
        acknowledgements = [
            await self.publish(topic, key.encode() if key else None, payload, headers)
            for _, topic, key, payload, headers in rows
        ]
        await asyncio.gather(*acknowledgements)
        if rows:
            await driver.execute(self._mark, [row[0] for row in rows])
        return [(topic, headers, payload) for _, topic, _, payload, headers in rows]

    async def measure(self) -> tuple[int, float | None]:
        """Pending rows and the age of the oldest in seconds (None when none), into the gauges."""
        table = self.outbox.table
        async with self.sessionmaker() as session:
            pending, oldest_age_s = (
                await session.execute(
                    select(
                        func.count(),
                        func.extract("epoch", func.now() - func.min(table.c.created_at)),
                    ).where(table.c.published_at.is_(None))
                )
            ).one()
        age = float(oldest_age_s) if oldest_age_s is not None else None
        metrics.set_outbox_depth(table.name, pending=int(pending), oldest_age_s=age)
        return int(pending), age

    async def prune(self) -> int:
        """Delete rows published more than `keep_published_s` ago, a batch at a time (short
        transactions, no long lock on the table); returns how many went. Pending rows stay."""
        table = self.outbox.table
        deleted = 0
        while True:
            async with self.sessionmaker() as session, session.begin():
                old = (
                    select(table.c.id)
                    .where(
                        table.c.published_at
                        < func.now() - text(f"interval '{int(self.keep_published_s)} seconds'")
                    )
                    .limit(self.prune_batch)
                    .scalar_subquery()
                )
                result = await session.execute(delete(table).where(table.c.id.in_(old)))
            count = int(getattr(result, "rowcount", 0) or 0)
            deleted += count
            if count < self.prune_batch:
                return deleted

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until `stop` is set; survives broker and database hiccups by retrying."""
        listener = await self._listen()
        backoff_s = 0.2
        next_prune = 0.0  # at start, then every prune_every_s
        next_measure = 0.0
        try:
            while not stop.is_set():
                if time.monotonic() >= next_measure:
                    next_measure = time.monotonic() + self.measure_every_s
                    try:
                        await self.measure()
                    except Exception as error:  # the relay's own failures are logged below
                        log.debug("cannot measure %s: %r", self.outbox.table.name, error)
                try:
                    if time.monotonic() >= next_prune:
                        if pruned := await self.prune():
                            log.info(
                                "pruned %d published rows from %s", pruned, self.outbox.table.name
                            )
                        next_prune = time.monotonic() + self.prune_every_s
                    # Cleared before the pass, not after: a NOTIFY that arrives while the pass
                    # publishes is for rows it did not read, and must bring the next pass at
                    # once (cleared after, it was lost, and those rows waited a whole poll).
                    self._wakeup.clear()
                    sent = await self.relay_once()
                    backoff_s = 0.2
                except Exception:
                    log.exception("outbox relay failed; retrying in %.1fs", backoff_s)
                    await wait_or_stop(stop, backoff_s)
                    backoff_s = min(backoff_s * 2, 10.0)
                    continue
                if sent == self.batch_size:
                    continue
                await wait_any(stop, self._wakeup, self.idle_poll_s)
        finally:
            if listener is not None:
                with contextlib.suppress(Exception):
                    await listener.close()

    async def _listen(self) -> asyncpg.Connection | None:
        if self.listen_dsn is None:
            return None
        try:
            connection = await asyncpg.connect(self.listen_dsn)
            await connection.add_listener(self.outbox.channel, lambda *_: self._wakeup.set())
        except Exception:
            log.warning("outbox relay cannot LISTEN; polling every %.1fs", self.idle_poll_s)
            return None
        return connection


def _headers(value: dict[str, str] | str) -> dict[str, str]:
    return json.loads(value) if isinstance(value, str) else value


def asyncpg_dsn(sqlalchemy_url: str) -> str:
    """The same database as a DSN for asyncpg itself: SQLAlchemy's `ssl=` is `sslmode=` there
    (asyncpg reads any other query parameter as a server setting)."""
    url = make_url(sqlalchemy_url)
    query = dict(url.query)
    if "ssl" in query:
        query["sslmode"] = query.pop("ssl")
    return url.set(drivername="postgresql", query=query).render_as_string(hide_password=False)
