"""A batch of records in, one transaction, then commit: never crash, never stall, lose nothing.

Every insert is idempotent on `event_id`, so a batch replayed after a failure records nothing
twice, and a whole batch can share one transaction and one offset commit.

- A record that cannot be read (`entries.decode` refuses it) → dead letter; the rest is recorded.
- The database or broker is away → wait and replay the whole batch, however long it takes.
- The batch fails for another reason → record it one entry per transaction to find the entry at
  fault; that one is retried a few times across replays, then dead-lettered with the error.
- Dead letters are written after the entries are committed, and the offsets only after both.

Each record of a batch is counted (`shared.metrics`): processed, dead-lettered, or failed (the
batch is replayed), with the batch's time shared out among its records.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from aiokafka import ConsumerRecord
from faststream.kafka import KafkaMessage
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.registry.entries import Entry, decode, latest_snapshots
from services.registry.repository import ActivityRepository
from shared import metrics
from shared.consumer import TRANSIENT, Position
from shared.dead_letters import DeadLetters
from shared.rejections import Rejected

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Received:
    value: bytes
    headers: dict[str, str]
    position: Position

    @classmethod
    def of(cls, record: ConsumerRecord[bytes, bytes]) -> Received:
        return cls(
            value=record.value or b"",
            headers={name: value.decode(errors="replace") for name, value in record.headers},
            position=Position(record.topic, record.partition, record.offset, record.key),
        )


@dataclass(frozen=True)
class Outcome:
    recorded: int
    duplicates: int
    dead_lettered: int
    refused: frozenset[tuple[str, int, int]] = frozenset()  # where the dead-lettered ones were


Store = Callable[[Sequence[Entry]], Awaitable[int]]


def store_in(sessionmaker: async_sessionmaker[AsyncSession]) -> Store:
    """Entries (and what they say of incidents) in one transaction; how many were new."""

    async def store(entries: Sequence[Entry]) -> int:
        async with sessionmaker() as session, session.begin():
            repo = ActivityRepository(session)
            await repo.save_incidents(
                latest_snapshots(entry.incident for entry in entries if entry.incident)
            )
            stamps = await repo.stamps(
                entry.incident_id
                for entry in entries
                if entry.region_code is None or entry.is_exercise is None
            )
            return await repo.append(
                [entry.stamped(stamps.get(entry.incident_id)) for entry in entries]
            )

    return store


class Recorder:
    def __init__(
        self,
        store: Store,
        dead_letters: DeadLetters,
        *,
        max_attempts: int,
        retry_backoff_s: float,
    ) -> None:
        self._store = store
        self.dead_letters = dead_letters
        self.max_attempts = max_attempts
        self.retry_backoff_s = retry_backoff_s
        self._failures: dict[tuple[str, int, int], int] = {}
        self._outage = 0  # batches replayed in a row because the database or broker was away
        self.service: str = getattr(dead_letters, "service", None) or "registry"

    async def handle(self, message: KafkaMessage) -> Outcome | None:
        """Record the message's batch, then commit its offsets, or rewind to replay it."""
        raw = message.raw_message
        records = raw if isinstance(raw, tuple) else (raw,)
        started = time.perf_counter()
        batch = [Received.of(record) for record in records]
        outcome = await self.record(batch)
        self._count(batch, outcome, seconds=time.perf_counter() - started)
        if outcome is None:
            await message.nack()
        else:
            await message.ack()
        return outcome

    def _count(self, batch: Sequence[Received], outcome: Outcome | None, *, seconds: float) -> None:
        each = seconds / max(len(batch), 1)
        for received in batch:
            if outcome is None:
                verdict = metrics.FAILED
            elif _where(received) in outcome.refused:
                verdict = metrics.DEAD_LETTERED
            else:
                verdict = metrics.PROCESSED
            metrics.count_message(self.service, received.position.topic, verdict, seconds=each)

    async def record(self, batch: Sequence[Received]) -> Outcome | None:
        """Record what can be, dead-letter what cannot; None when the batch must be replayed."""
        entries: list[tuple[Received, Entry]] = []
        refused: list[tuple[Received, Rejected]] = []
        for received in batch:
            try:
                entry = decode(received.value, headers=received.headers, position=received.position)
            except Rejected as rejection:
                refused.append((received, rejection))
            except Exception as error:  # a reading bug: replaying would fail the same way
                log.exception("cannot decode %s/%d@%d", *_where(received))
                reason = f"{type(error).__name__}: {error}"[:500]
                refused.append((received, Rejected("internal_error", reason)))
            else:
                entries.append((received, entry))
        unstorable = 0
        try:
            recorded = await self._store([entry for _, entry in entries])
        except Exception as error:
            if _is_transient(error):
                log.warning("cannot record a batch (%s); replaying it", type(error).__name__)
                await self._wait_out_outage()
                return None
            log.warning("a batch failed (%s); recording it entry by entry", error, exc_info=True)
            one_by_one = await self._store_one_by_one(entries)
            if one_by_one is None:
                return None
            recorded, failed = one_by_one
            unstorable = len(failed)
            refused.extend(failed)
        for received, verdict in refused:
            try:
                await self.dead_letters.send(
                    value=received.value,
                    key=received.position.key,
                    topic=received.position.topic,
                    partition=received.position.partition,
                    offset=received.position.offset,
                    rejection=verdict,
                )
            except Exception:
                log.exception("cannot write a dead letter; replaying the batch")
                await self._wait_out_outage()
                return None
        self._outage = 0
        return Outcome(
            recorded=recorded,
            duplicates=len(entries) - unstorable - recorded,
            dead_lettered=len(refused),
            refused=frozenset(_where(received) for received, _ in refused),
        )

    async def _store_one_by_one(
        self, entries: Sequence[tuple[Received, Entry]]
    ) -> tuple[int, list[tuple[Received, Rejected]]] | None:
        recorded = 0
        failed: list[tuple[Received, Rejected]] = []
        # Incidents first, so the entries about them are stamped as they would have been.
        for received, entry in sorted(entries, key=lambda pair: pair[1].incident is None):
            where = _where(received)
            try:
                recorded += await self._store([entry])
            except Exception as error:
                if _is_transient(error):
                    await self._wait_out_outage()
                    return None
                attempts = self._failures.get(where, 0) + 1
                if attempts < self.max_attempts:
                    self._failures[where] = attempts
                    log.warning("%s/%d@%d failed (attempt %d); replaying", *where, attempts)
                    await self._pause(attempts)
                    return None
                self._failures.pop(where, None)
                failed.append(
                    (
                        received,
                        Rejected(
                            "internal_error",
                            f"failed {attempts} times: {type(error).__name__}: {error}"[:500],
                        ),
                    )
                )
            else:
                self._failures.pop(where, None)
        return recorded, failed

    async def _wait_out_outage(self) -> None:
        self._outage += 1
        await self._pause(self._outage)

    async def _pause(self, attempts: int) -> None:
        await asyncio.sleep(min(self.retry_backoff_s * 2 ** min(attempts - 1, 5), 10.0))


def _where(received: Received) -> tuple[str, int, int]:
    return received.position.topic, received.position.partition, received.position.offset


def _is_transient(error: Exception) -> bool:
    return isinstance(error, TRANSIENT) or (
        isinstance(error, DBAPIError) and error.connection_invalidated
    )
