"""One message at a time: process it, then commit, dead-letter, or retry; never crash, never stall.

- `Rejected` (the message is at fault) → dead letter, commit.
- The database, broker or Redis is away → wait and retry the same message, however long it takes:
  committing would lose it, and every message behind it would fail the same way.
- Anything else (a bug this message triggers) → retry a few times, then dead-letter it with the
  error, so one poison message cannot stall its partition.

Every settlement is counted (`shared.metrics`: processed, dead-lettered, or failed and to be
tried again, per topic, and the time it took), and while a message is handled every log line
says which incident (the key, on the topics keyed by incident) and which event (the `event_id`
header) it is about (`shared.logs`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from aiokafka.errors import KafkaError
from faststream.kafka import KafkaMessage
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from shared import metrics
from shared.dead_letters import DeadLetters
from shared.events import topics
from shared.logs import message_context
from shared.rejections import Rejected

log = logging.getLogger(__name__)

TRANSIENT: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    ConnectionError,
    OSError,
    TimeoutError,
    KafkaError,
    RedisConnectionError,
    RedisTimeoutError,
)

# Topics whose messages are keyed by the incident they are about.
INCIDENT_KEYED = frozenset({topics.INCIDENTS, topics.MOBILIZATION, topics.RESPONSES})


def about(record: Any) -> tuple[str | None, str | None]:
    """(incident id, event id) of a record, where it says: the key on incident-keyed topics, the
    `event_id` header."""
    incident_id = None
    if record.topic in INCIDENT_KEYED and record.key:
        incident_id = bytes(record.key).decode(errors="replace")[:64]
    event_id = None
    for name, value in getattr(record, "headers", None) or ():
        if name == "event_id" and value:
            event_id = bytes(value).decode(errors="replace")[:64]
    return incident_id, event_id


@dataclass(frozen=True)
class Position:
    topic: str
    partition: int
    offset: int
    key: bytes | None


T = TypeVar("T")
Process = Callable[[bytes, Position], Awaitable[T]]


class Consumer:
    """Settles the records of one subscriber: processed, retried, or dead-lettered.

    One per subscriber: it remembers records by topic, partition and offset, so two subscribers
    (consumer groups) reading the same topic through one `Consumer` would skip each other's."""

    def __init__(
        self,
        dead_letters: DeadLetters,
        *,
        max_attempts: int,
        retry_backoff_s: float,
        service: str | None = None,
    ) -> None:
        self.dead_letters = dead_letters
        # The metrics' `service` label: the dead letters know it (from the broker's principal).
        self.service = service or getattr(dead_letters, "service", None) or "unknown"
        self.max_attempts = max_attempts
        self.retry_backoff_s = retry_backoff_s
        self._failures: dict[tuple[str, int, int], int] = {}
        # Records of a batch that was fetched again (a sibling failed): already settled.
        self._settled: set[tuple[str, int, int]] = set()

    async def handle(self, message: KafkaMessage, process: Process[T]) -> T | None:
        record = message.raw_message
        assert not isinstance(record, tuple), "a batch goes to handle_batch"
        settled = await self._settle(record, process)
        if isinstance(settled, _Unsettled):
            await self._back_off([record])
            await message.nack()
            return None
        await message.ack()
        self._settled.discard((record.topic, record.partition, record.offset))
        return settled.outcome

    async def handle_batch(
        self, message: KafkaMessage, process: Process[object], *, concurrency: int
    ) -> None:
        """Records of one fetch: each key's in order, different keys side by side (at most
        `concurrency` at once), committed together once every one is settled.

        A record that cannot be settled yet stops its key's lane (the key's later records wait
        behind it); the batch is then fetched again from its first records, and those already
        settled are skipped, so nothing is done twice by this process (and `process` is
        idempotent for the rest).
        """
        raw = message.raw_message
        records = raw if isinstance(raw, tuple) else (raw,)
        lanes: dict[tuple[str, int, bytes | None], list[Any]] = {}
        for record in records:
            lanes.setdefault((record.topic, record.partition, record.key), []).append(record)
        gate = asyncio.Semaphore(concurrency)
        stuck: list[Any] = []

        async def run(lane: list[Any]) -> None:
            async with gate:
                for record in lane:
                    if isinstance(await self._settle(record, process), _Unsettled):
                        stuck.append(record)
                        return

        await asyncio.gather(*(run(lane) for lane in lanes.values()))
        if stuck:
            await self._back_off(stuck)
            await message.nack()
            return
        await message.ack()
        for record in records:
            self._settled.discard((record.topic, record.partition, record.offset))

    async def _settle(self, record: Any, process: Process[T]) -> _Settled[T] | _Unsettled:
        """Process one record, or dead-letter it; `_UNSETTLED` when it must be tried again."""
        if (record.topic, record.partition, record.offset) in self._settled:
            return _Settled(None)
        incident_id, event_id = about(record)
        started = time.perf_counter()
        with message_context(incident_id=incident_id, event_id=event_id):
            settled = await self._try(record, process)
        if isinstance(settled, _Unsettled):
            outcome = metrics.FAILED
        else:
            outcome = metrics.DEAD_LETTERED if settled.dead_lettered else metrics.PROCESSED
        metrics.count_message(
            self.service, record.topic, outcome, seconds=time.perf_counter() - started
        )
        return settled

    async def _try(self, record: Any, process: Process[T]) -> _Settled[T] | _Unsettled:
        position = Position(record.topic, record.partition, record.offset, record.key)
        where = (position.topic, position.partition, position.offset)
        value: bytes = record.value or b""
        try:
            outcome = await process(value, position)
        except Rejected as rejection:
            if not await self._dead_letter(value, position, rejection):
                return _UNSETTLED
            return self._done(where, None, dead_lettered=True)
        except Exception as error:
            attempts = self._failures.get(where, 0) + 1
            transient = isinstance(error, TRANSIENT) or (
                isinstance(error, DBAPIError) and error.connection_invalidated
            )
            if transient or attempts < self.max_attempts:
                self._failures[where] = attempts
                log.warning(
                    "%s/%d@%d failed (%s, attempt %d); retrying",
                    *where,
                    type(error).__name__,
                    attempts,
                    exc_info=not transient,
                )
                return _UNSETTLED
            gave_up = Rejected(
                "internal_error", f"failed {attempts} times: {type(error).__name__}: {error}"[:500]
            )
            if not await self._dead_letter(value, position, gave_up):
                return _UNSETTLED
            return self._done(where, None, dead_lettered=True)
        return self._done(where, outcome)

    def _done(
        self, where: tuple[str, int, int], outcome: T | None, *, dead_lettered: bool = False
    ) -> _Settled[T]:
        self._failures.pop(where, None)
        self._settled.add(where)
        return _Settled(outcome, dead_lettered)

    async def _dead_letter(self, value: bytes, position: Position, rejection: Rejected) -> bool:
        try:
            await self.dead_letters.send(
                value=value,
                key=position.key,
                topic=position.topic,
                partition=position.partition,
                offset=position.offset,
                rejection=rejection,
            )
        except Exception:
            log.exception("cannot write the dead letter; retrying the message")
            return False
        return True

    async def _back_off(self, records: list[Any]) -> None:
        """Wait before the records are fetched again: longer the more often they failed."""
        attempts = max(
            (self._failures.get((r.topic, r.partition, r.offset), 1) for r in records), default=1
        )
        await asyncio.sleep(min(self.retry_backoff_s * 2 ** min(attempts - 1, 5), 10.0))


@dataclass(frozen=True, slots=True)
class _Settled(Generic[T]):
    outcome: T | None
    dead_lettered: bool = False


class _Unsettled:
    pass


_UNSETTLED = _Unsettled()
