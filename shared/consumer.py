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

`Consumer.handle` takes one record a fetch; `Lanes` takes fetch after fetch of a batch subscriber
and settles each record the same way, each lane's (a key's, by default) in order and different
lanes side by side.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Hashable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError
from asyncpg.exceptions import (
    AdminShutdownError,
    CannotConnectNowError,
    CrashShutdownError,
    PostgresConnectionError,
)
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
    # The same, from statements sent on the driver itself (`shared.db.insert_rows`).
    PostgresConnectionError,
    AdminShutdownError,
    CannotConnectNowError,
    CrashShutdownError,
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
    return incident_id, header(record, "event_id")


@dataclass(frozen=True)
class Position:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    event_type: str | None = None
    """The record's `event_type` header: which event it is, without reading the payload."""


def header(record: Any, name: str) -> str | None:
    """A record's header as text (at most 64 characters), or None."""
    for key, value in getattr(record, "headers", None) or ():
        if key == name and value:
            return bytes(value).decode(errors="replace")[:64]
    return None


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
        # Records settled whose commit failed: they come again, and are not processed twice.
        self._settled: set[tuple[str, int, int]] = set()

    async def handle(self, message: KafkaMessage, process: Process[T]) -> T | None:
        record = message.raw_message
        assert not isinstance(record, tuple), "a batch goes to Lanes"
        settled = await self._settle(record, process)
        if isinstance(settled, _Unsettled):
            await self._back_off([record])
            await message.nack()
            return None
        await message.ack()
        self.forget((record.topic, record.partition, record.offset))
        return settled.outcome

    def forget(self, where: tuple[str, int, int]) -> None:
        """The record at `where` is committed, or its position kept by `Lanes`: no need to
        remember it was settled."""
        self._settled.discard(where)

    async def settle(self, record: Any, process: Process[object]) -> None:
        """Process one record, or dead-letter it, trying again (backing off) until it is settled."""
        while isinstance(await self._settle(record, process), _Unsettled):
            await self._back_off([record])

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
        position = Position(
            record.topic, record.partition, record.offset, record.key, header(record, "event_type")
        )
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


@dataclass
class _Partition:
    """What `Lanes` took from one partition and how far it is settled."""

    waiting: list[int] = field(default_factory=list)
    """Offsets taken and not yet settled, or settled behind one that is not: in order."""
    settled: set[int] = field(default_factory=set)
    """Those of `waiting` that are settled."""
    position: int | None = None
    """The commit position: every record taken before it is settled."""
    committed: int | None = None
    """The last position committed."""


class Lanes:
    """The records of one subscriber handed over fetch after fetch, and settled by a `Consumer`:
    each lane's in order, different lanes side by side (at most `concurrency` at once). A lane is
    a partition's key, or what `lane_of` says of a record (the notifier's: the offer it is about).

    The next fetch does not wait for the slowest record of the last: `take` returns as soon as
    the records are queued, unless `backlog` records are already in hand (then the next records
    wait in the Kafka consumer's buffer and come in one fetch when a lane frees up). Each
    partition is committed up to its first record not yet settled: at once when nothing is in
    hand, otherwise at most `commit_every_s` later (a commit is a broker write; one per record
    would cost the broker more than the records). A record that cannot be settled yet holds its
    lane (tried again, backing off) and its partition's commit position; the other lanes go
    on. Whatever is not committed when the process stops comes again to whoever reads the
    partition next (`process` is idempotent).
    """

    def __init__(
        self,
        consumer: Consumer,
        process: Process[object],
        *,
        concurrency: int,
        backlog: int | None = None,
        commit_every_s: float = 0.5,
        lane_of: Callable[[Any], Hashable] | None = None,
    ) -> None:
        self.consumer = consumer
        self.process = process
        self.lane_of = lane_of
        self.backlog = max(backlog or concurrency, 1)
        self.commit_every_s = commit_every_s
        self._gate = asyncio.Semaphore(concurrency)
        self._queues: dict[tuple[str, int, Hashable], list[Any]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._partitions: dict[tuple[str, int], _Partition] = {}
        self._in_hand = 0
        self._changed = asyncio.Event()
        self._kafka: Any = None
        self._committing: asyncio.Task[None] | None = None
        self._open = asyncio.Event()  # cleared by `drain`, set again by `reopen`
        self._open.set()

    @property
    def in_hand(self) -> int:
        """Records taken and not yet settled."""
        return self._in_hand

    async def take(self, message: KafkaMessage) -> None:
        """Queue the records of one fetch, and return once fewer than `backlog` are in hand."""
        # Drained: hold the fetch loop until the broker stops it, or `reopen`.
        await self._open.wait()
        self._kafka = message.consumer
        raw = message.raw_message
        for record in raw if isinstance(raw, tuple) else (raw,):
            if self._admit(record):
                self._queue(record)
        while self._in_hand >= self.backlog:
            await self._change()

    async def drain(self, timeout_s: float) -> None:
        """Take nothing more; wait up to `timeout_s` for the records in hand, commit what is
        settled, and stop the rest (they come again to whoever reads next)."""
        self._open.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._settled_all(), timeout_s)
        for task in list(self._tasks):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._committing is not None:
            self._committing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._committing
        await self._commit()

    def reopen(self) -> None:
        """Take records again after `drain` (a service started again): from what is committed,
        as a new reader would. Lanes never drained are left as they are: a service's start-up
        hook runs once its subscribers have begun, so records may be in hand already."""
        if self._open.is_set():
            return
        self._in_hand = 0
        self._partitions.clear()
        self._changed = asyncio.Event()
        self._open.set()

    def _admit(self, record: Any) -> bool:
        """Whether the record is new here (a partition read again from its committed offset
        brings records this process has settled or holds)."""
        partition = self._partitions.setdefault((record.topic, record.partition), _Partition())
        offset: int = record.offset
        if partition.position is not None and offset < partition.position:
            partition.committed = None  # read again from an older position: commit ours again
            self._schedule_commit()
            return False
        index = bisect.bisect_left(partition.waiting, offset)
        if index < len(partition.waiting) and partition.waiting[index] == offset:
            return False
        partition.waiting.insert(index, offset)
        if partition.position is None or index == 0:
            partition.position = offset
        return True

    def _queue(self, record: Any) -> None:
        self._in_hand += 1
        lane = (
            record.topic,
            record.partition,
            record.key if self.lane_of is None else self.lane_of(record),
        )
        queue = self._queues.get(lane)
        if queue is not None:
            queue.append(record)
            return
        self._queues[lane] = [record]
        task = asyncio.create_task(self._run(lane), name=f"lane-{record.topic}-{record.partition}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, lane: tuple[str, int, Hashable]) -> None:
        queue = self._queues[lane]
        try:
            while queue:
                record = queue[0]
                async with self._gate:
                    await self.consumer.settle(record, self.process)
                queue.pop(0)
                self._settled(record)
        finally:
            del self._queues[lane]

    def _settled(self, record: Any) -> None:
        self._in_hand -= 1
        partition = self._partitions[(record.topic, record.partition)]
        partition.settled.add(record.offset)
        done = 0
        while done < len(partition.waiting) and partition.waiting[done] in partition.settled:
            partition.settled.discard(partition.waiting[done])
            done += 1
        if done:
            partition.position = partition.waiting[done - 1] + 1
            del partition.waiting[:done]
            self._schedule_commit()
        self.consumer.forget((record.topic, record.partition, record.offset))
        # Wake whoever waits for a change; later waiters wait for the next one.
        self._changed.set()
        self._changed = asyncio.Event()

    def _change(self) -> Coroutine[Any, Any, bool]:
        """The next change (a record settled): the event is the current one when this is called,
        not when the coroutine first runs, so a change in between is not missed."""
        return self._changed.wait()

    async def _settled_all(self) -> None:
        while self._in_hand:
            await self._change()

    def _schedule_commit(self) -> None:
        if self._committing is None or self._committing.done():
            self._committing = asyncio.create_task(self._commit_soon(), name="lanes-commit")

    async def _commit_soon(self) -> None:
        """Commit once nothing is in hand, or `commit_every_s` from now, whichever first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.commit_every_s
        while self._in_hand and self._open.is_set() and (left := deadline - loop.time()) > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._change(), left)
        await self._commit()

    async def _commit(self) -> None:
        """Commit every owned partition whose position moved; one commit at a time."""
        kafka = self._kafka
        if kafka is None:
            return
        while True:
            try:
                owned = kafka.assignment()
            except Exception:  # stopped
                return
            due = {
                TopicPartition(topic, number): partition.position
                for (topic, number), partition in self._partitions.items()
                if partition.position is not None
                and partition.position != partition.committed
                and TopicPartition(topic, number) in owned
            }
            if not due:
                return
            try:
                await kafka.commit(due)
            except Exception as error:  # rebalanced away, or the broker is away: next time
                log.warning("cannot commit %s (%s); later", due, type(error).__name__)
                return
            for tp, position in due.items():
                self._partitions[(tp.topic, tp.partition)].committed = position
