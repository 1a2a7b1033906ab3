"""The consumer's promise: a bad message never crashes or stalls it, and nothing is lost."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, cast

from faststream.kafka import KafkaMessage
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.exc import OperationalError

from services.intake.ingest import Action, Outcome
from shared.consumer import Consumer, Position
from shared.rejections import Rejected
from tests.fakes import FakeDeadLetters, FakeMessage


@dataclass
class FakeRecord:
    topic: str = "alerts.cap.v1"
    partition: int = 1
    offset: int = 7
    key: bytes | None = b"k"
    value: bytes | None = b"<alert/>"


def consumer(dead_letters: FakeDeadLetters, max_attempts: int = 3) -> Consumer:
    return Consumer(cast(Any, dead_letters), max_attempts=max_attempts, retry_backoff_s=0)


async def test_a_processed_message_is_committed() -> None:
    message = FakeMessage(FakeRecord())

    async def process(value: bytes, position: Position) -> Outcome:
        return Outcome(Action.OPENED)

    outcome = await consumer(FakeDeadLetters()).handle(cast(KafkaMessage, message), process)
    assert outcome is not None and outcome.action is Action.OPENED
    assert (message.acked, message.nacked) == (1, 0)


async def test_a_rejected_message_goes_to_dead_letters_with_its_bytes_then_is_committed() -> None:
    message, letters = FakeMessage(FakeRecord()), FakeDeadLetters()

    async def process(value: bytes, position: Position) -> Outcome:
        raise Rejected("bad_polygon", "polygon does not close")

    await consumer(letters).handle(cast(KafkaMessage, message), process)
    [letter] = letters.sent
    assert letter["value"] == b"<alert/>"
    assert (letter["topic"], letter["partition"], letter["offset"]) == ("alerts.cap.v1", 1, 7)
    assert letter["rejection"].code == "bad_polygon"
    assert message.acked == 1


async def test_a_message_is_not_committed_when_its_dead_letter_cannot_be_written() -> None:
    message = FakeMessage(FakeRecord())

    async def process(value: bytes, position: Position) -> Outcome:
        raise Rejected("malformed_xml", "unclosed tag")

    await consumer(FakeDeadLetters(fail=True)).handle(cast(KafkaMessage, message), process)
    assert (message.acked, message.nacked) == (0, 1), "retried, not lost"


async def test_database_outage_is_retried_for_as_long_as_it_lasts() -> None:
    letters, handler = FakeDeadLetters(), consumer(FakeDeadLetters(), max_attempts=2)
    handler.dead_letters = cast(Any, letters)
    message = FakeMessage(FakeRecord())

    async def process(value: bytes, position: Position) -> Outcome:
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    for _ in range(5):
        await handler.handle(cast(KafkaMessage, message), process)
    assert message.nacked == 5
    assert letters.sent == [], "an outage is not the message's fault"


async def test_a_redis_outage_is_retried_too() -> None:
    letters, handler = FakeDeadLetters(), consumer(FakeDeadLetters(), max_attempts=2)
    handler.dead_letters = cast(Any, letters)
    message = FakeMessage(FakeRecord())

    async def process(value: bytes, position: Position) -> Outcome:
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    for _ in range(5):
        await handler.handle(cast(KafkaMessage, message), process)
    assert message.nacked == 5
    assert letters.sent == []


async def test_a_poison_message_is_dead_lettered_after_a_few_tries_so_the_partition_moves_on() -> (
    None
):
    letters = FakeDeadLetters()
    handler = consumer(letters, max_attempts=3)
    message = FakeMessage(FakeRecord())

    async def process(value: bytes, position: Position) -> Outcome:
        raise KeyError("a bug this message triggers")

    for _ in range(3):
        await handler.handle(cast(KafkaMessage, message), process)
    assert message.nacked == 2
    assert message.acked == 1
    [letter] = letters.sent
    assert letter["rejection"].code == "internal_error"
    assert "KeyError" in letter["rejection"].reason


def records(*keys: str) -> tuple[FakeRecord, ...]:
    return tuple(
        FakeRecord(offset=offset, key=key.encode(), value=f"{key}-{offset}".encode())
        for offset, key in enumerate(keys)
    )


async def test_a_batch_runs_different_keys_side_by_side_and_each_key_in_order() -> None:
    batch = FakeMessage(records("a", "b", "a", "c", "b"))
    started: list[str] = []
    in_flight, most_in_flight = 0, 0

    async def process(value: bytes, position: Position) -> None:
        nonlocal in_flight, most_in_flight
        started.append(value.decode())
        in_flight += 1
        most_in_flight = max(most_in_flight, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1

    await consumer(FakeDeadLetters()).handle_batch(
        cast(KafkaMessage, batch), process, concurrency=2
    )

    assert (batch.acked, batch.nacked) == (1, 0), "committed once, when all are done"
    assert most_in_flight == 2, "two keys at a time"
    assert started.index("a-0") < started.index("a-2")
    assert started.index("b-1") < started.index("b-4")
    assert sorted(started) == ["a-0", "a-2", "b-1", "b-4", "c-3"]


async def test_a_failure_holds_its_key_back_and_the_batch_comes_again_without_repeats() -> None:
    letters = FakeDeadLetters()
    handler = consumer(letters)
    batch = FakeMessage(records("a", "b", "a", "c"))
    done: list[str] = []
    database_up = False

    async def process(value: bytes, position: Position) -> None:
        name = value.decode()
        if name == "a-0" and not database_up:
            raise OperationalError("INSERT", {}, Exception("connection refused"))
        if name == "c-3":
            raise Rejected("invalid_event", "not an incident")
        done.append(name)

    await handler.handle_batch(cast(KafkaMessage, batch), process, concurrency=4)
    assert (batch.acked, batch.nacked) == (0, 1), "fetched again, not committed"
    assert done == ["b-1"], "a-2 waits behind a-0"

    database_up = True
    await handler.handle_batch(cast(KafkaMessage, batch), process, concurrency=4)
    assert batch.acked == 1
    assert done == ["b-1", "a-0", "a-2"], "b-1 is not processed twice, a keeps its order"
    assert [letter["offset"] for letter in letters.sent] == [3], "dead-lettered once"
