"""The consumer's promise: a bad message never crashes or stalls it, and nothing is lost."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, cast

from faststream.kafka import KafkaMessage
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.exc import OperationalError

from services.intake.ingest import Action, Outcome
from shared.consumer import Consumer, Lanes, Position, Process
from shared.rejections import Rejected
from tests.fakes import FakeDeadLetters, FakeKafka, FakeMessage


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


def fetch(kafka: FakeKafka, batch: tuple[FakeRecord, ...]) -> KafkaMessage:
    message = FakeMessage(batch)
    message.consumer = kafka  # type: ignore[attr-defined]
    return cast(KafkaMessage, message)


def recorder() -> tuple[list[str], Process[None]]:
    """What a plain `process` was given, in the order it was given it."""
    done: list[str] = []

    async def process(value: bytes, position: Position) -> None:
        done.append(value.decode())

    return done, process


async def settle_all(lanes: Lanes) -> None:
    for _ in range(1000):
        if not lanes.in_hand:
            await asyncio.sleep(0.005)  # the commit task
            return
        await asyncio.sleep(0.001)
    raise AssertionError(f"{lanes.in_hand} records never settled")


async def test_lanes_run_different_keys_side_by_side_and_each_key_in_order() -> None:
    started: list[str] = []
    in_flight, most_in_flight = 0, 0

    async def process(value: bytes, position: Position) -> None:
        nonlocal in_flight, most_in_flight
        started.append(value.decode())
        in_flight += 1
        most_in_flight = max(most_in_flight, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1

    kafka = FakeKafka()
    lanes = Lanes(consumer(FakeDeadLetters()), process, concurrency=2, backlog=32)
    await lanes.take(fetch(kafka, records("a", "b", "a", "c", "b")))
    assert lanes.in_hand == 5, "the next fetch does not wait for these"
    await settle_all(lanes)

    assert most_in_flight == 2, "two at a time"
    assert started.index("a-0") < started.index("a-2")
    assert started.index("b-1") < started.index("b-4")
    assert sorted(started) == ["a-0", "a-2", "b-1", "b-4", "c-3"]
    assert kafka.position() == 5, "committed past the last"


async def test_the_next_fetch_starts_while_a_slow_record_is_in_hand() -> None:
    slow_done = asyncio.Event()
    done: list[str] = []

    async def process(value: bytes, position: Position) -> None:
        if value == b"a-0":
            await slow_done.wait()
        done.append(value.decode())

    kafka = FakeKafka()
    lanes = Lanes(consumer(FakeDeadLetters()), process, concurrency=4, backlog=32)
    first, second = records("a", "b"), records("a", "b", "c", "d")[2:]
    await lanes.take(fetch(kafka, first))
    await lanes.take(fetch(kafka, second))
    for _ in range(50):
        await asyncio.sleep(0.001)
    assert done == ["b-1", "c-2", "d-3"], "the second fetch's records did not wait for a-0"
    assert kafka.position() is None, "nothing committed past a record in hand"

    slow_done.set()
    await settle_all(lanes)
    assert done[-1] == "a-0"
    assert kafka.position() == 4


async def test_a_failure_holds_its_key_and_its_partitions_commit_until_it_is_settled() -> None:
    letters = FakeDeadLetters()
    done: list[str] = []
    database_up = False

    async def process(value: bytes, position: Position) -> None:
        name = value.decode()
        if name == "a-0" and not database_up:
            raise OperationalError("INSERT", {}, Exception("connection refused"))
        if name == "c-3":
            raise Rejected("invalid_event", "not an incident")
        done.append(name)

    kafka = FakeKafka()
    lanes = Lanes(consumer(letters), process, concurrency=4, backlog=32)
    await lanes.take(fetch(kafka, records("a", "b", "a", "c")))
    for _ in range(50):
        await asyncio.sleep(0.001)
    assert done == ["b-1"], "a-2 waits behind a-0"
    assert kafka.position() is None, "a-0 is not committed past"

    database_up = True
    await settle_all(lanes)
    assert done == ["b-1", "a-0", "a-2"], "b-1 is not processed twice, a keeps its order"
    assert [letter["offset"] for letter in letters.sent] == [3], "dead-lettered once"
    assert kafka.position() == 4


async def test_a_partition_read_again_from_an_older_position_is_not_processed_twice() -> None:
    done, process = recorder()
    kafka = FakeKafka()
    lanes = Lanes(consumer(FakeDeadLetters()), process, concurrency=2, backlog=32)
    batch = records("a", "b", "c")
    await lanes.take(fetch(kafka, batch))
    await settle_all(lanes)
    # A rebalance hands the partition back from an older committed offset.
    await lanes.take(fetch(kafka, (*batch, *records("a", "b", "c", "d")[3:])))
    await settle_all(lanes)
    assert sorted(done) == ["a-0", "b-1", "c-2", "d-3"]
    assert kafka.position() == 4


async def test_a_partition_owned_no_more_is_not_committed() -> None:
    async def process(value: bytes, position: Position) -> None:
        return None

    kafka = FakeKafka(owned=set())
    lanes = Lanes(consumer(FakeDeadLetters()), process, concurrency=2, backlog=32)
    await lanes.take(fetch(kafka, records("a", "b")))
    await settle_all(lanes)
    assert kafka.commits == []


async def test_take_waits_while_the_backlog_is_in_hand() -> None:
    gate = asyncio.Event()

    async def process(value: bytes, position: Position) -> None:
        await gate.wait()

    kafka = FakeKafka()
    lanes = Lanes(consumer(FakeDeadLetters()), process, concurrency=2, backlog=3)
    taking = asyncio.create_task(lanes.take(fetch(kafka, records("a", "b", "c", "d"))))
    await asyncio.sleep(0.01)
    assert not taking.done(), "four in hand, three allowed: no next fetch yet"
    gate.set()
    await asyncio.wait_for(taking, 1)
    await settle_all(lanes)
    assert kafka.position() == 4


async def test_drain_commits_what_is_settled_and_stops_the_rest() -> None:
    async def process(value: bytes, position: Position) -> None:
        if value.startswith(b"a"):
            await asyncio.Event().wait()  # never ends

    kafka = FakeKafka()
    lanes = Lanes(consumer(FakeDeadLetters()), process, concurrency=4, backlog=32)
    await lanes.take(fetch(kafka, records("b", "c", "a", "d")))
    await lanes.drain(timeout_s=0.05)
    assert kafka.position() == 2, "b and c committed; a-2 comes again to the next reader"
    taking = asyncio.create_task(lanes.take(fetch(kafka, records("e"))))
    await asyncio.sleep(0.01)
    assert not taking.done(), "a draining subscriber takes nothing more"
    taking.cancel()


async def test_lanes_drained_and_reopened_take_records_again() -> None:
    done, process = recorder()
    kafka = FakeKafka()
    lanes = Lanes(consumer(FakeDeadLetters()), process, concurrency=2)
    await lanes.take(fetch(kafka, records("a")))
    await lanes.drain(timeout_s=1)
    assert kafka.position() == 1
    lanes.reopen()  # the service started again: its reader goes on from what was committed
    await asyncio.wait_for(lanes.take(fetch(kafka, records("a", "b")[1:])), 1)
    await settle_all(lanes)
    assert done == ["a-0", "b-1"]
    assert kafka.position() == 2


async def test_lanes_reopened_before_any_drain_keep_the_records_in_hand() -> None:
    # A service's start-up hook (which reopens its lanes) runs once its subscribers have begun:
    # records taken by then are settled and committed, none dropped (the fault suite lost 968
    # incidents when a restarted mobilizer forgot the partitions of the records in hand).
    done: list[str] = []
    release = asyncio.Event()

    async def process(value: bytes, position: Position) -> None:
        await release.wait()
        done.append(value.decode())

    kafka = FakeKafka()
    lanes = Lanes(consumer(FakeDeadLetters()), process, concurrency=4)
    await asyncio.wait_for(lanes.take(fetch(kafka, records("a", "a", "b"))), 1)
    lanes.reopen()
    release.set()
    await settle_all(lanes)
    assert sorted(done) == ["a-0", "a-1", "b-2"]
    assert kafka.position() == 3


async def test_lanes_hold_a_take_while_drained_and_go_on_once_reopened() -> None:
    # Restarted on the same object: the new subscriber's first fetch may come before the start-up
    # hook reopens the lanes; it waits for it rather than for ever.
    done, process = recorder()
    kafka = FakeKafka()
    lanes = Lanes(consumer(FakeDeadLetters()), process, concurrency=2)
    await lanes.drain(timeout_s=1)
    taking = asyncio.create_task(lanes.take(fetch(kafka, records("a"))))
    await asyncio.sleep(0.01)
    assert not taking.done()
    lanes.reopen()
    await asyncio.wait_for(taking, 1)
    await settle_all(lanes)
    assert done == ["a-0"]
    assert kafka.position() == 1
