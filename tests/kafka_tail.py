"""Read what services published, and wait for it with a deadline (never a fixed sleep)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer

from shared.broker_access import ADMIN
from shared.events import topics
from shared.events.alerts import DeadLetter
from shared.kafka import tail_from_beginning
from shared.settings import KafkaSettings


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, str]


class Tail:
    def __init__(self, consumer: AIOKafkaConsumer) -> None:
        self.consumer = consumer
        self.records: list[Record] = []

    @classmethod
    async def open(cls, settings: KafkaSettings, names: Iterable[str]) -> Tail:
        return cls(await tail_from_beginning(settings, names, principal=ADMIN))

    async def close(self) -> None:
        await self.consumer.stop()

    async def wait_for(
        self, predicate: Callable[[Record], bool], *, count: int = 1, timeout_s: float = 30.0
    ) -> list[Record]:
        deadline = time.monotonic() + timeout_s
        while True:
            matched = [record for record in self.records if predicate(record)]
            if len(matched) >= count:
                return matched
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"saw {len(matched)} of {count} expected records in {timeout_s}s"
                )
            batches = await self.consumer.getmany(timeout_ms=200)
            for batch in batches.values():
                self.records.extend(
                    Record(
                        r.topic,
                        r.partition,
                        r.offset,
                        r.key,
                        r.value or b"",
                        {name: value.decode() for name, value in r.headers},
                    )
                    for r in batch
                )


async def eventually(check: Callable[[], object], *, timeout_s: float = 30.0) -> object:
    """Poll an async or sync check until it returns something truthy."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s}s")
        await asyncio.sleep(0.1)


async def dead_letter_of(tail: Tail, topic: str, where: tuple[int, int]) -> DeadLetter:
    """The dead letter of the message at (partition, offset) `where` on `topic`."""

    def matches(record: Record) -> bool:
        return (
            record.topic in (topics.ALERTS_DEAD_LETTER, topics.EVENTS_DEAD_LETTER)
            and record.headers.get("dead_letter.source_topic") == topic
            and (
                int(record.headers["dead_letter.source_partition"]),
                int(record.headers["dead_letter.source_offset"]),
            )
            == where
        )

    [letter] = await tail.wait_for(matches)
    return DeadLetter.from_headers(letter.headers)
