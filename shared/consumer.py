"""One message at a time: process it, then commit, dead-letter, or retry; never crash, never stall.

- `Rejected` (the message is at fault) → dead letter, commit.
- The database, broker or Redis is away → wait and retry the same message, however long it takes:
  committing would lose it, and every message behind it would fail the same way.
- Anything else (a bug this message triggers) → retry a few times, then dead-letter it with the
  error, so one poison message cannot stall its partition.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from aiokafka.errors import KafkaError
from faststream.kafka import KafkaMessage
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from shared.dead_letters import DeadLetters
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


@dataclass(frozen=True)
class Position:
    topic: str
    partition: int
    offset: int
    key: bytes | None


T = TypeVar("T")
Process = Callable[[bytes, Position], Awaitable[T]]


class Consumer:
    def __init__(
        self, dead_letters: DeadLetters, *, max_attempts: int, retry_backoff_s: float
    ) -> None:
        self.dead_letters = dead_letters
        self.max_attempts = max_attempts
        self.retry_backoff_s = retry_backoff_s
        self._failures: dict[tuple[str, int, int], int] = {}

    async def handle(self, message: KafkaMessage, process: Process[T]) -> T | None:
        record = message.raw_message
        assert not isinstance(record, tuple), "subscribers here take one record at a time"
        position = Position(record.topic, record.partition, record.offset, record.key)
        value: bytes = record.value or b""
        try:
            outcome = await process(value, position)
        except Rejected as rejection:
            await self._dead_letter(value, position, rejection, message)
            return None
        except Exception as error:
            await self._retry_or_give_up(value, position, error, message)
            return None
        self._failures.pop((position.topic, position.partition, position.offset), None)
        await message.ack()
        return outcome

    async def _dead_letter(
        self, value: bytes, position: Position, rejection: Rejected, message: KafkaMessage
    ) -> None:
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
            await asyncio.sleep(self.retry_backoff_s)
            await message.nack()
            return
        await message.ack()

    async def _retry_or_give_up(
        self, value: bytes, position: Position, error: Exception, message: KafkaMessage
    ) -> None:
        where = (position.topic, position.partition, position.offset)
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
            await asyncio.sleep(min(self.retry_backoff_s * 2 ** min(attempts - 1, 5), 10.0))
            await message.nack()
            return
        self._failures.pop(where, None)
        rejection = Rejected(
            "internal_error", f"failed {attempts} times: {type(error).__name__}: {error}"[:500]
        )
        await self._dead_letter(value, position, rejection, message)
