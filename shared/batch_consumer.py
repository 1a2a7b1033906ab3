"""A fetched batch in one transaction (or a few): decide each message, save them together, commit.

For a consumer whose work is a CPU-bound decision per message followed by a few writes, one
transaction and one offset commit per message cost far more than the work itself. Here:

1. `prepare` (pure, synchronous) decides each record of the batch, the whole batch in one worker
   thread: it returns what to save, or raises `Rejected` (the message is at fault: dead letter).
2. `save` writes a group of prepared messages, in offset order, in one transaction of its own.
   When that transaction fails, the group is split in two and each half saved (the first half
   first, so one key's messages keep their order), down to single messages: the message at fault
   is found, and the others are saved. A single message that `save` refuses (`Rejected`) is
   dead-lettered; one that fails otherwise is tried again (the batch is fetched again from it)
   up to `max_attempts` times, then dead-lettered with the error, as `shared.consumer` does.
3. The database or broker away (`TRANSIENT`) → nothing after the last committed group is settled:
   wait, fetch the batch again, however long it takes.
4. Dead letters are written after the transactions, all at once, and the offsets are committed
   only after both: a crash in between fetches the batch again, and `save` must be idempotent
   (the intake's alerts are unique on their CAP key) so nothing is saved twice. Records of a batch
   fetched again that this process already settled are skipped.

Every record is counted (`shared.metrics`: processed, dead-lettered or failed), with the batch's
time shared out among its records.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from faststream.kafka import KafkaMessage
from sqlalchemy.exc import DBAPIError

from shared import metrics
from shared.consumer import TRANSIENT, Position, about
from shared.dead_letters import DeadLetters
from shared.logs import message_context
from shared.rejections import Rejected

log = logging.getLogger(__name__)

P = TypeVar("P")
Prepare = Callable[[bytes, Position], P]
Save = Callable[[Sequence[P]], Awaitable[object]]

_Where = tuple[str, int, int]


@dataclass(frozen=True, slots=True)
class _Item(Generic[P]):
    record: Any
    position: Position
    prepared: P


class _StopHereError(Exception):
    """Stop here (the database or broker is away, or a message is to be tried again): what is
    not settled yet is fetched again later."""


class BatchConsumer(Generic[P]):
    def __init__(
        self,
        prepare: Prepare[P],
        save: Save[P],
        dead_letters: DeadLetters,
        *,
        max_attempts: int,
        retry_backoff_s: float,
        service: str | None = None,
    ) -> None:
        self.prepare = prepare
        self.save = save
        self.dead_letters = dead_letters
        self.service = service or getattr(dead_letters, "service", None) or "unknown"
        self.max_attempts = max_attempts
        self.retry_backoff_s = retry_backoff_s
        self._failures: dict[_Where, int] = {}
        self._settled: set[_Where] = set()

    async def handle(self, message: KafkaMessage) -> bool:
        """Settle every record of the message's batch and commit, or rewind to fetch it again
        (after a pause); True when committed."""
        raw = message.raw_message
        records: tuple[Any, ...] = raw if isinstance(raw, tuple) else (raw,)
        started = time.perf_counter()
        todo = [record for record in records if _where(record) not in self._settled]
        decided = await asyncio.to_thread(self._prepare_all, todo) if todo else []
        letters: list[tuple[Any, Rejected]] = []
        run: list[_Item[P]] = []
        try:
            for record, decision in zip(todo, decided, strict=True):
                if isinstance(decision, Rejected):
                    letters.append((record, decision))
                elif isinstance(decision, _Item):
                    run.append(decision)
                else:  # preparing it failed: save what came before, then see to it
                    await self._save(run, letters)
                    run = []
                    if not self._give_up(record, decision, letters):
                        break
            else:
                await self._save(run, letters)
        except _StopHereError:
            pass  # what was saved is settled; the rest is fetched again
        lettered = {_where(record) for record, _ in letters}
        failed = [
            record
            for record in todo
            if _where(record) not in self._settled and _where(record) not in lettered
        ]
        failed += await self._send_letters(letters)
        self._count(todo, failed, letters, seconds=time.perf_counter() - started)
        if failed:
            await self._back_off(failed)
            await message.nack()
            return False
        await message.ack()
        for record in records:
            self._settled.discard(_where(record))
        return True

    def _prepare_all(self, records: Sequence[Any]) -> list[_Item[P] | Rejected | Exception]:
        decided: list[_Item[P] | Rejected | Exception] = []
        for record in records:
            position = Position(record.topic, record.partition, record.offset, record.key)
            try:
                prepared = self.prepare(record.value or b"", position)
            except Rejected as rejection:
                decided.append(rejection)
            except Exception as error:
                decided.append(error)
            else:
                decided.append(_Item(record, position, prepared))
        return decided

    async def _save(self, run: list[_Item[P]], letters: list[tuple[Any, Rejected]]) -> None:
        """Save `run` in one transaction, or halves of it down to single messages; raises
        `_StopHereError` when the database is away, or when a single message is to be tried again
        (nothing behind it may go first)."""
        if not run:
            return
        try:
            await self.save([item.prepared for item in run])
        except Rejected as rejection:
            if len(run) > 1:
                log.info("one of %d messages was refused; saving them in halves", len(run))
                await self._save_halves(run, letters)
                return
            letters.append((run[0].record, rejection))
            return
        except Exception as error:
            if _is_transient(error):
                log.warning(
                    "cannot save %d messages (%s); retrying", len(run), type(error).__name__
                )
                raise _StopHereError from error
            if len(run) > 1:
                log.info(
                    "a batch of %d failed (%s: %s); saving it in halves",
                    len(run),
                    type(error).__name__,
                    error,
                )
                await self._save_halves(run, letters)
                return
            if not self._give_up(run[0].record, error, letters):
                raise _StopHereError from error
            return
        for item in run:
            self._settled.add(_where(item.record))
            self._failures.pop(_where(item.record), None)

    async def _save_halves(self, run: list[_Item[P]], letters: list[tuple[Any, Rejected]]) -> None:
        middle = len(run) // 2
        await self._save(run[:middle], letters)
        await self._save(run[middle:], letters)

    def _give_up(self, record: Any, error: Exception, letters: list[tuple[Any, Rejected]]) -> bool:
        """After `max_attempts` failures the record is to be dead-lettered (True); before, it is
        to be tried again (False)."""
        where = _where(record)
        attempts = self._failures.get(where, 0) + 1
        incident_id, event_id = about(record)
        with message_context(incident_id=incident_id, event_id=event_id):
            if attempts < self.max_attempts:
                self._failures[where] = attempts
                log.warning(
                    "%s/%d@%d failed (%s, attempt %d); retrying",
                    *where,
                    type(error).__name__,
                    attempts,
                    exc_info=error,
                )
                return False
        self._failures.pop(where, None)
        reason = f"failed {attempts} times: {type(error).__name__}: {error}"[:500]
        letters.append((record, Rejected("internal_error", reason)))
        return True

    async def _send_letters(self, letters: list[tuple[Any, Rejected]]) -> list[Any]:
        """Write the dead letters side by side; the records whose letter could not be written."""
        sent = await asyncio.gather(
            *(
                self.dead_letters.send(
                    value=record.value or b"",
                    key=record.key,
                    topic=record.topic,
                    partition=record.partition,
                    offset=record.offset,
                    rejection=rejection,
                )
                for record, rejection in letters
            ),
            return_exceptions=True,
        )
        unsent = []
        for (record, _), result in zip(letters, sent, strict=True):
            if isinstance(result, BaseException):
                log.error("cannot write the dead letter of %s/%d@%d (%r)", *_where(record), result)
                unsent.append(record)
            else:
                self._settled.add(_where(record))
        return unsent

    def _count(
        self,
        records: Sequence[Any],
        failed: Sequence[Any],
        letters: Sequence[tuple[Any, Rejected]],
        *,
        seconds: float,
    ) -> None:
        each = seconds / max(len(records), 1)
        not_settled = {_where(record) for record in failed}
        dead = {_where(record) for record, _ in letters}
        counts: Counter[tuple[str, str]] = Counter()
        for record in records:
            where = _where(record)
            if where in not_settled:
                outcome = metrics.FAILED
            elif where in dead:
                outcome = metrics.DEAD_LETTERED
            else:
                outcome = metrics.PROCESSED
            counts[record.topic, outcome] += 1
        for (topic, outcome), count in counts.items():
            metrics.count_messages(self.service, topic, outcome, count, seconds_each=each)

    async def _back_off(self, records: Sequence[Any]) -> None:
        attempts = max((self._failures.get(_where(r), 1) for r in records), default=1)
        await asyncio.sleep(min(self.retry_backoff_s * 2 ** min(attempts - 1, 5), 10.0))


def _where(record: Any) -> _Where:
    return (record.topic, record.partition, record.offset)


def _is_transient(error: BaseException) -> bool:
    return isinstance(error, TRANSIENT) or (
        isinstance(error, DBAPIError) and error.connection_invalidated
    )
