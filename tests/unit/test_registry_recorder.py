"""The recorder's promise: a batch is recorded once, nothing readable is lost, nothing stalls."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast
from uuid import UUID, uuid4

from faststream.kafka import KafkaMessage
from sqlalchemy.exc import DataError, OperationalError

from services.registry.entries import Entry
from services.registry.recorder import Received, Recorder
from shared.consumer import Position
from shared.events.mobilization import OfferAccepted, OfferTimedOut
from shared.events.volunteers import Role
from tests.fakes import FakeDeadLetters, FakeMessage


@dataclass
class FakeStore:
    """A dict-backed log; `poison` event ids fail like a bad row, `outage` fails like a lost link."""

    log: dict[UUID, Entry] = field(default_factory=dict)
    poison: set[UUID] = field(default_factory=set)
    outage: bool = False
    calls: int = 0

    async def __call__(self, entries: Sequence[Entry]) -> int:
        self.calls += 1
        if self.outage:
            raise OperationalError("INSERT", {}, ConnectionRefusedError())
        if any(entry.event_id in self.poison for entry in entries):
            raise DataError("INSERT", {}, ValueError("value too long"))
        new = [entry for entry in entries if entry.event_id not in self.log]
        self.log.update((entry.event_id, entry) for entry in new)
        return len(new)


@dataclass
class FakeRecord:
    value: bytes
    offset: int
    topic: str = "mobilization.v1"
    partition: int = 0
    key: bytes | None = b"incident"
    headers: tuple[tuple[str, bytes], ...] = ()


def recorder(store: FakeStore, letters: FakeDeadLetters, max_attempts: int = 3) -> Recorder:
    return Recorder(store, cast(Any, letters), max_attempts=max_attempts, retry_backoff_s=0)


def accepted() -> OfferAccepted:
    return OfferAccepted(
        incident_id=uuid4(), offer_id=uuid4(), volunteer_id=uuid4(), role=Role.MEDIC, eta_s=60
    )


def batch(*values: bytes) -> list[Received]:
    return [
        Received(value=value, headers={}, position=Position("mobilization.v1", 0, offset, None))
        for offset, value in enumerate(values)
    ]


def wire(event: OfferAccepted | OfferTimedOut) -> bytes:
    return event.model_dump_json().encode()


async def test_a_batch_is_recorded_in_one_go_and_committed() -> None:
    store, letters = FakeStore(), FakeDeadLetters()
    events = [accepted() for _ in range(3)]
    message = FakeMessage(tuple(FakeRecord(wire(e), offset) for offset, e in enumerate(events)))
    outcome = await recorder(store, letters).handle(cast(KafkaMessage, message))
    assert outcome is not None and (outcome.recorded, outcome.duplicates) == (3, 0)
    assert store.calls == 1
    assert (message.acked, message.nacked) == (1, 0)
    assert set(store.log) == {event.event_id for event in events}


async def test_a_replayed_batch_records_nothing_twice() -> None:
    store, letters = FakeStore(), FakeDeadLetters()
    event = accepted()
    await recorder(store, letters).record(batch(wire(event)))
    outcome = await recorder(store, letters).record(batch(wire(event), wire(event)))
    assert outcome is not None and (outcome.recorded, outcome.duplicates) == (0, 2)
    assert len(store.log) == 1


async def test_unreadable_records_are_dead_lettered_and_the_rest_recorded() -> None:
    store, letters = FakeStore(), FakeDeadLetters()
    good = accepted()
    outcome = await recorder(store, letters).record(batch(b"garbage", wire(good)))
    assert outcome is not None and (outcome.recorded, outcome.dead_lettered) == (1, 1)
    assert [(letter["offset"], letter["rejection"].code) for letter in letters.sent] == [
        (0, "invalid_json")
    ]
    assert letters.sent[0]["value"] == b"garbage"
    assert good.event_id in store.log


async def test_an_outage_replays_the_whole_batch_without_dead_letters() -> None:
    store, letters = FakeStore(outage=True), FakeDeadLetters()
    message = FakeMessage((FakeRecord(wire(accepted()), 0), FakeRecord(b"garbage", 1)))
    outcome = await recorder(store, letters).handle(cast(KafkaMessage, message))
    assert outcome is None
    assert (message.acked, message.nacked) == (0, 1)
    assert letters.sent == [], "dead letters wait until the entries are safe"


async def test_a_poison_entry_is_isolated_retried_then_dead_lettered() -> None:
    poison, fine = accepted(), accepted()
    store, letters = FakeStore(poison={poison.event_id}), FakeDeadLetters()
    registry = recorder(store, letters, max_attempts=3)
    replays = [await registry.record(batch(wire(fine), wire(poison))) for _ in range(3)]
    assert replays[:2] == [None, None], "retried while attempts remain"
    outcome = replays[2]
    assert outcome is not None and (outcome.recorded, outcome.dead_lettered) == (0, 1)
    assert fine.event_id in store.log and poison.event_id not in store.log
    [letter] = letters.sent
    assert letter["offset"] == 1 and letter["rejection"].code == "internal_error"
    assert "DataError" in letter["rejection"].reason


async def test_a_dead_letter_that_cannot_be_written_replays_the_batch() -> None:
    store, letters = FakeStore(), FakeDeadLetters(fail=True)
    message = FakeMessage((FakeRecord(b"garbage", 0),))
    assert await recorder(store, letters).handle(cast(KafkaMessage, message)) is None
    assert (message.acked, message.nacked) == (0, 1)


async def test_the_event_type_header_names_an_event_without_a_kind() -> None:
    store, letters = FakeStore(), FakeDeadLetters()
    event = OfferTimedOut(
        incident_id=uuid4(), offer_id=uuid4(), volunteer_id=uuid4(), role=Role.LEADER
    )
    payload = event.model_dump_json(exclude={"kind"}).encode()
    message = FakeMessage((FakeRecord(payload, 0, headers=(("event_type", b"OfferTimedOut"),)),))
    await recorder(store, letters).handle(cast(KafkaMessage, message))
    assert store.log[event.event_id].kind == "OfferTimedOut"


async def test_each_record_of_a_batch_is_counted_by_its_outcome() -> None:
    from prometheus_client import REGISTRY

    def count(outcome: str) -> float:
        labels = {"service": "registry", "topic": "mobilization.v1", "outcome": outcome}
        return REGISTRY.get_sample_value("jedel_messages_total", labels) or 0.0

    before = {outcome: count(outcome) for outcome in ("processed", "dead_lettered", "failed")}
    store, letters = FakeStore(), FakeDeadLetters()
    records = (FakeRecord(wire(accepted()), 0), FakeRecord(b"garbage", 1))
    await recorder(store, letters).handle(cast(KafkaMessage, FakeMessage(records)))
    store.outage = True
    await recorder(store, letters).handle(cast(KafkaMessage, FakeMessage(records[:1])))
    moved = {outcome: count(outcome) - before[outcome] for outcome in before}
    assert moved == {"processed": 1, "dead_lettered": 1, "failed": 1}
