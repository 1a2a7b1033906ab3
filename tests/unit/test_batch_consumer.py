"""A batch in one transaction: the message at fault is found and refused, the others saved in
order, and nothing is committed before it is settled."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from asyncpg.exceptions import (
    AdminShutdownError,
    CannotConnectNowError,
    ConnectionDoesNotExistError,
)
from faststream.kafka import KafkaMessage
from sqlalchemy.exc import OperationalError

from shared.batch_consumer import BatchConsumer
from shared.consumer import Position
from shared.rejections import Rejected
from tests.fakes import FakeDeadLetters, FakeMessage


@dataclass
class FakeRecord:
    offset: int
    value: bytes
    topic: str = "alerts.cap.v1"
    partition: int = 0
    key: bytes | None = None
    headers: tuple[tuple[str, bytes], ...] = ()


def batch(*values: bytes) -> FakeMessage:
    return FakeMessage(tuple(FakeRecord(offset, value) for offset, value in enumerate(values)))


def prepare(value: bytes, position: Position) -> str:
    if value.startswith(b"unreadable"):
        raise Rejected("malformed_xml", "not XML")
    return value.decode()


@dataclass
class FakeStore:
    """Saves groups of messages as one transaction would: all or nothing."""

    saved: list[str] = field(default_factory=list)
    transactions: list[list[str]] = field(default_factory=list)
    away: bool = False  # the database is away
    away_error: Exception = field(
        default_factory=lambda: OperationalError("SELECT 1", {}, ConnectionRefusedError())
    )
    flaky: set[str] = field(default_factory=set)  # fail for a bug, every time

    async def save(self, items: Sequence[str]) -> None:
        self.transactions.append(list(items))
        if self.away:
            raise self.away_error
        for item in items:
            if item.startswith("stranger"):
                raise Rejected("not_original_sender", f"{item} may not cancel")
            if item in self.flaky:
                raise ValueError(f"a bug {item} triggers")
        self.saved.extend(items)


def consumer(store: FakeStore, letters: FakeDeadLetters, attempts: int = 3) -> BatchConsumer[str]:
    return BatchConsumer(
        prepare, store.save, cast(Any, letters), max_attempts=attempts, retry_backoff_s=0
    )


async def handle(batches: BatchConsumer[str], message: FakeMessage) -> bool:
    return await batches.handle(cast(KafkaMessage, message))


async def test_a_clean_batch_is_one_transaction_then_one_commit() -> None:
    store, letters = FakeStore(), FakeDeadLetters()
    message = batch(b"a", b"b", b"c")
    assert await handle(consumer(store, letters), message)
    assert store.transactions == [["a", "b", "c"]]
    assert (message.acked, message.nacked, letters.sent) == (1, 0, [])


async def test_a_message_refused_while_reading_is_dead_lettered_and_the_rest_saved_together() -> (
    None
):
    store, letters = FakeStore(), FakeDeadLetters()
    message = batch(b"a", b"unreadable", b"c")
    assert await handle(consumer(store, letters), message)
    assert store.transactions == [["a", "c"]]
    [letter] = letters.sent
    assert (letter["offset"], letter["value"], letter["rejection"].code) == (
        1,
        b"unreadable",
        "malformed_xml",
    )
    assert message.acked == 1


async def test_a_message_refused_inside_the_transaction_is_found_and_the_rest_saved_in_order() -> (
    None
):
    store, letters = FakeStore(), FakeDeadLetters()
    values = [b"a", b"b", b"c", b"stranger", b"e", b"f", b"g"]
    message = batch(*values)
    assert await handle(consumer(store, letters), message)
    assert store.saved == ["a", "b", "c", "e", "f", "g"]
    [letter] = letters.sent
    assert (letter["offset"], letter["rejection"].code) == (3, "not_original_sender")
    assert len(store.transactions) < 2 * len(values), "halves, not one transaction each"
    assert message.acked == 1


async def test_the_database_away_commits_nothing_and_the_batch_is_fetched_again() -> None:
    store, letters = FakeStore(away=True), FakeDeadLetters()
    batches = consumer(store, letters)
    message = batch(b"a", b"unreadable", b"c")
    assert not await handle(batches, message)
    assert (message.acked, message.nacked, store.saved) == (0, 1, [])
    # The refusal does not need the database: written, and not written again.
    assert [letter["offset"] for letter in letters.sent] == [1]
    store.away = False
    again = batch(b"a", b"unreadable", b"c")
    assert await handle(batches, again)
    assert store.saved == ["a", "c"]
    assert [letter["offset"] for letter in letters.sent] == [1]
    assert again.acked == 1


@pytest.mark.parametrize(
    "error",
    [
        ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        AdminShutdownError("terminating connection due to administrator command"),
        CannotConnectNowError("the database system is starting up"),
    ],
    ids=type,
)
async def test_the_database_lost_under_a_statement_sent_on_the_driver_is_waited_out(
    error: Exception,
) -> None:
    # Statements sent on asyncpg itself (`shared.db.insert_rows`) fail with its own errors, not
    # SQLAlchemy's: still the database away, never the messages' fault.
    store, letters = FakeStore(away=True, away_error=error), FakeDeadLetters()
    batches = consumer(store, letters, attempts=1)
    message = batch(b"a", b"b")
    assert not await handle(batches, message)
    assert (message.acked, message.nacked, letters.sent) == (0, 1, [])
    store.away = False
    again = batch(b"a", b"b")
    assert await handle(batches, again)
    assert (store.saved, letters.sent) == (["a", "b"], [])


async def test_a_message_that_keeps_failing_holds_up_what_follows_then_is_dead_lettered() -> None:
    store, letters = FakeStore(flaky={"b"}), FakeDeadLetters()
    batches = consumer(store, letters, attempts=2)
    first = batch(b"a", b"b", b"c")
    assert not await handle(batches, first)
    assert store.saved == ["a"], "what came before is saved; what follows waits"
    assert (first.acked, first.nacked, letters.sent) == (0, 1, [])
    second = batch(b"a", b"b", b"c")
    assert await handle(batches, second)
    assert store.saved == ["a", "c"], "a is not saved twice"
    [letter] = letters.sent
    assert (letter["offset"], letter["rejection"].code) == (1, "internal_error")
    assert "ValueError" in letter["rejection"].reason
    assert second.acked == 1


async def test_a_dead_letter_that_cannot_be_written_keeps_the_batch_uncommitted() -> None:
    store, letters = FakeStore(), FakeDeadLetters(fail=True)
    batches = consumer(store, letters)
    first = batch(b"a", b"unreadable")
    assert not await handle(batches, first)
    assert (first.acked, first.nacked, store.saved) == (0, 1, ["a"])
    letters.fail = False
    second = batch(b"a", b"unreadable")
    assert await handle(batches, second)
    assert store.saved == ["a"]
    assert [letter["offset"] for letter in letters.sent] == [1]
    assert second.acked == 1
