"""A batch subscriber's poll hands over records as soon as they arrive, even just after a poll
that found nothing (FastStream's own slept as long again then: `shared.kafka.prompt_batch_poll`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from faststream.kafka.subscriber.usecase import BatchSubscriber

import shared.kafka  # noqa: F401  (installs the prompt poll)

POLL_MS = 1_000


@dataclass
class FakeSubscriber:
    batch_timeout_ms: int = POLL_MS
    max_records: int | None = None


@dataclass
class FakeConsumer:
    """Waits for records up to the timeout, as aiokafka's `getmany` does."""

    buffered: list[str] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    polls: int = 0

    async def getmany(self, *, timeout_ms: int, max_records: int | None) -> dict[str, list[str]]:
        self.polls += 1
        if not self.buffered:
            try:
                await asyncio.wait_for(self.arrived.wait(), timeout_ms / 1000)
            except TimeoutError:
                return {}
        records, self.buffered = self.buffered, []
        self.arrived.clear()
        return {"incidents.v1-0": records}

    def deliver(self, record: str) -> None:
        self.buffered.append(record)
        self.arrived.set()


async def poll_until_records(subscriber: FakeSubscriber, consumer: FakeConsumer) -> tuple[Any, ...]:
    """FastStream's consume loop: poll again and again until a poll brings records."""
    while not (records := await BatchSubscriber.get_msg(subscriber, consumer)):  # type: ignore[arg-type]
        pass
    return records


async def test_a_record_arriving_just_after_an_empty_poll_is_handed_over_at_once() -> None:
    loop = asyncio.get_running_loop()
    consumer = FakeConsumer()
    began = loop.time()
    polling = asyncio.create_task(poll_until_records(FakeSubscriber(), consumer))
    # The first poll finds nothing and ends at 1 s; the incident arrives a fifth of a poll later.
    await asyncio.sleep(1.2)
    consumer.deliver("incident")
    records = await polling
    handed_over = loop.time() - began

    assert records == ("incident",)
    assert consumer.polls == 2  # the second poll brought it
    # Handed over as it arrived (at 1.2 s), not after a pause as long as the poll (at 2 s).
    assert handed_over < 1.6, f"handed over {handed_over:.2f}s after polling began"


async def test_an_empty_poll_waits_its_timeout_rather_than_spinning() -> None:
    class Impatient(FakeConsumer):
        async def getmany(
            self, *, timeout_ms: int, max_records: int | None
        ) -> dict[str, list[str]]:
            self.polls += 1
            return {}  # back at once with nothing

    loop = asyncio.get_running_loop()
    consumer = Impatient()
    began = loop.time()
    records = await BatchSubscriber.get_msg(FakeSubscriber(batch_timeout_ms=200), consumer)  # type: ignore[arg-type]

    assert records == ()
    assert loop.time() - began >= 0.19  # the rest of the timeout waited out, not a busy loop
