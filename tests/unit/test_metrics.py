"""The metric helpers: what is counted where decisions flow, readiness, and the status server."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any, cast
from uuid import uuid4

import httpx
import pytest
from faststream.kafka import KafkaMessage
from prometheus_client import REGISTRY

from services.intake.ingest import Action, Outcome
from shared import metrics, status
from shared.consumer import Consumer, Lanes, Position
from shared.dead_letters import DeadLetters, service_of
from shared.events.base import utc_now
from shared.kafka import build_broker
from shared.logs import EVENT_ID, INCIDENT_ID
from shared.rejections import Rejected
from shared.settings import KafkaSettings
from tests.fakes import FakeDeadLetters, FakeKafka, FakeMessage


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@dataclass
class FakeRecord:
    topic: str = "incidents.v1"
    partition: int = 0
    offset: int = 1
    key: bytes | None = b"8c0a0d3e-0000-4000-8000-000000000001"
    value: bytes | None = b"{}"
    headers: tuple[tuple[str, bytes], ...] = (("event_id", b"e-42"),)


@dataclass
class LettersOf:
    """Fake dead letters that know their service, as the real ones do."""

    service: str
    inner: FakeDeadLetters

    async def send(self, **letter: Any) -> None:
        await self.inner.send(**letter)


def consumer(service: str, max_attempts: int = 2) -> Consumer:
    letters = LettersOf(service, FakeDeadLetters())
    return Consumer(cast(Any, letters), max_attempts=max_attempts, retry_backoff_s=0)


async def test_the_consumer_counts_processed_dead_lettered_and_failed_per_topic() -> None:
    service = f"unit-{uuid4().hex[:6]}"
    handler = consumer(service)
    seen: list[tuple[str | None, str | None]] = []

    async def ok(data: bytes, position: Position) -> Outcome:
        seen.append((INCIDENT_ID.get(), EVENT_ID.get()))
        return Outcome(Action.OPENED)

    async def refuse(data: bytes, position: Position) -> Outcome:
        raise Rejected("bad_polygon", "does not close")

    async def crash(data: bytes, position: Position) -> Outcome:
        raise RuntimeError("bug")

    await handler.handle(cast(KafkaMessage, FakeMessage(FakeRecord(offset=1))), ok)
    await handler.handle(cast(KafkaMessage, FakeMessage(FakeRecord(offset=2))), refuse)
    for _ in range(2):  # fails once (retried), then is given up on: a dead letter
        await handler.handle(cast(KafkaMessage, FakeMessage(FakeRecord(offset=3))), crash)

    def count(outcome: str) -> float:
        return value("jedel_messages_total", service=service, topic="incidents.v1", outcome=outcome)

    assert (count("processed"), count("dead_lettered"), count("failed")) == (1, 2, 1)
    assert value("jedel_message_handling_seconds_count", service=service, topic="incidents.v1") == 4
    assert seen == [("8c0a0d3e-0000-4000-8000-000000000001", "e-42")]
    assert (INCIDENT_ID.get(), EVENT_ID.get()) == (None, None), "restored after the message"


async def test_only_incident_keyed_topics_give_the_key_as_incident_id() -> None:
    seen: list[str | None] = []

    async def look(data: bytes, position: Position) -> None:
        seen.append(INCIDENT_ID.get())

    record = FakeRecord(topic="locations.v1", key=b"a-volunteer-id")
    await consumer("unit").handle(cast(KafkaMessage, FakeMessage(record)), look)
    assert seen == [None]


async def test_a_batch_counts_each_record_once() -> None:
    service = f"unit-{uuid4().hex[:6]}"
    records = tuple(FakeRecord(offset=n, key=f"k{n % 2}".encode()) for n in range(4))

    async def ok(data: bytes, position: Position) -> None:
        return None

    lanes = Lanes(consumer(service), ok, concurrency=2, backlog=8)
    batch = FakeMessage(records)
    batch.consumer = FakeKafka()  # type: ignore[attr-defined]
    await lanes.take(cast(KafkaMessage, batch))
    await lanes.drain(timeout_s=1)
    assert (
        value("jedel_messages_total", service=service, topic="incidents.v1", outcome="processed")
        == 4
    )


async def test_dead_letters_are_counted_by_source_topic_and_code_once_written() -> None:
    sent: list[Any] = []

    class Broker:
        async def publish(self, *args: Any, **kwargs: Any) -> None:
            sent.append(args)

    letters = DeadLetters(cast(Any, Broker()), clock=utc_now, service="unit-letters")
    before = value(
        "jedel_dead_letters_total",
        service="unit-letters",
        source_topic="alerts.cap.v1",
        code="malformed_xml",
    )
    await letters.send(
        value=b"<",
        key=None,
        topic="alerts.cap.v1",
        partition=0,
        offset=5,
        rejection=Rejected("malformed_xml", "unclosed"),
    )
    after = value(
        "jedel_dead_letters_total",
        service="unit-letters",
        source_topic="alerts.cap.v1",
        code="malformed_xml",
    )
    assert (len(sent), after - before) == (1, 1)


def test_a_brokers_service_is_its_principal_without_the_prefix() -> None:
    broker = build_broker(KafkaSettings(security_protocol="PLAINTEXT"), principal="jedel-tracker")
    assert service_of(broker) == "tracker"


def test_published_events_count_waves_offers_and_notifications() -> None:
    waves = value("jedel_mobilizer_waves_sent_total")
    offers = value("jedel_mobilizer_offers_made_total", role="medic")
    sms = value("jedel_notifications_total", channel="sms", status="failed")
    outbox = f"unit_{uuid4().hex[:6]}_outbox"
    metrics.count_published(outbox, "mobilization.v1", {"event_type": "WaveSent"}, b"{}")
    offer = {"role": "medic", "contact_phone": "+77011234567"}
    metrics.count_published(
        outbox, "mobilization.v1", {"event_type": "VolunteerOffered"}, json.dumps(offer).encode()
    )
    report = {"channel": "sms", "status": "failed"}
    metrics.count_published(
        outbox,
        "notifications.v1",
        {"event_type": "NotificationReported"},
        json.dumps(report).encode(),
    )
    metrics.count_published(outbox, "mobilization.v1", {"event_type": "VolunteerOffered"}, b"[")
    assert value("jedel_mobilizer_waves_sent_total") == waves + 1
    assert value("jedel_mobilizer_offers_made_total", role="medic") == offers + 1
    assert value("jedel_notifications_total", channel="sms", status="failed") == sms + 1
    assert (
        value(
            "jedel_events_published_total",
            outbox=outbox,
            topic="mobilization.v1",
            event_type="VolunteerOffered",
        )
        == 2
    )


def test_outbox_depth_gauges() -> None:
    metrics.set_outbox_depth("unit_outbox", pending=3, oldest_age_s=12.5)
    assert value("jedel_outbox_pending_rows", outbox="unit_outbox") == 3
    assert value("jedel_outbox_oldest_pending_age_seconds", outbox="unit_outbox") == 12.5
    metrics.set_outbox_depth("unit_outbox", pending=0, oldest_age_s=None)
    assert value("jedel_outbox_oldest_pending_age_seconds", outbox="unit_outbox") == 0


async def test_readiness_names_what_is_not_ready_without_error_text() -> None:
    async def ok() -> None:
        return None

    async def waiting() -> None:
        raise status.NotReadyError("no partitions assigned yet: incidents.v1")

    async def broken() -> None:
        raise OSError("connect to postgresql://jedel:secret@db failed")

    async def slow() -> None:
        await asyncio.sleep(5)

    ready, body = await status.readiness(
        {"broker": ok, "partitions": waiting, "database": broken, "redis": slow}, timeout_s=0.1
    )
    assert not ready
    assert body["checks"] == {
        "broker": "ok",
        "partitions": "no partitions assigned yet: incidents.v1",
        "database": "unavailable (OSError)",
        "redis": "no answer within 0.1s",
    }
    assert body["waiting_for"] == ["partitions", "database", "redis"]
    assert await status.readiness({"broker": ok}, timeout_s=1) == (
        True,
        {"ready": True, "checks": {"broker": "ok"}},
    )


@dataclass
class FakeTopicPartition:
    topic: str
    partition: int

    def __hash__(self) -> int:
        return hash((self.topic, self.partition))


class FakeConsumer:
    def __init__(self, lag: dict[FakeTopicPartition, tuple[int | None, int]]) -> None:
        self.lag = lag

    def assignment(self) -> set[FakeTopicPartition]:
        return set(self.lag)

    def subscription(self) -> set[str]:
        return {"incidents.v1"}

    def highwater(self, tp: FakeTopicPartition) -> int | None:
        return self.lag[tp][0]

    async def position(self, tp: FakeTopicPartition) -> int:
        return self.lag[tp][1]


@dataclass
class FakeSubscriber:
    consumer: FakeConsumer | None


@dataclass
class FakeBroker:
    subscribers: list[FakeSubscriber]


async def test_lag_is_highwater_minus_position_and_revoked_partitions_are_forgotten() -> None:
    service = f"unit-{uuid4().hex[:6]}"
    p0, p1 = FakeTopicPartition("incidents.v1", 0), FakeTopicPartition("incidents.v1", 1)
    fake = FakeConsumer({p0: (120, 100), p1: (None, 0)})
    broker = FakeBroker([FakeSubscriber(fake)])
    await metrics.measure_lag(service, broker)
    assert (
        value("jedel_consumer_lag_messages", service=service, topic="incidents.v1", partition="0")
        == 20
    )
    assert (
        REGISTRY.get_sample_value(
            "jedel_consumer_lag_messages",
            {"service": service, "topic": "incidents.v1", "partition": "1"},
        )
        is None
    ), "not fetched yet: no highwater, no series"
    fake.lag = {p1: (5, 5)}
    await metrics.measure_lag(service, broker)
    assert (
        REGISTRY.get_sample_value(
            "jedel_consumer_lag_messages",
            {"service": service, "topic": "incidents.v1", "partition": "0"},
        )
        is None
    )
    assert (
        value("jedel_consumer_lag_messages", service=service, topic="incidents.v1", partition="1")
        == 0
    )


async def test_partitions_check_waits_for_an_assignment() -> None:
    check = status.partitions_check(FakeBroker([FakeSubscriber(FakeConsumer({}))]))
    with pytest.raises(status.NotReadyError, match=r"incidents\.v1"):
        await check()
    with pytest.raises(status.NotReadyError, match="not started"):
        await status.partitions_check(FakeBroker([FakeSubscriber(None)]))()
    assigned = FakeConsumer({FakeTopicPartition("incidents.v1", 0): (1, 1)})
    await status.partitions_check(FakeBroker([FakeSubscriber(assigned)]))()


async def test_the_status_server_answers_metrics_readiness_and_nothing_else() -> None:
    ready = asyncio.Event()
    scraped: list[int] = []

    async def waits() -> None:
        if not ready.is_set():
            raise status.NotReadyError("starting")

    async def before() -> None:
        scraped.append(1)

    server = status.StatusServer(
        host="127.0.0.1", port=0, checks={"broker": waits}, before_scrape=before
    )
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:
            scrape = await http.get("/metrics")
            assert scrape.status_code == 200
            assert scrape.headers["content-type"].startswith("text/plain")
            assert "jedel_messages_total" in scrape.text or "# HELP jedel_messages" in scrape.text
            assert scraped == [1]
            waiting = await http.get("/readyz")
            assert waiting.status_code == 503
            assert waiting.json() == {
                "ready": False,
                "checks": {"broker": "starting"},
                "waiting_for": ["broker"],
            }
            ready.set()
            answer = await http.get("/readyz")
            assert (answer.status_code, answer.json()["ready"]) == (200, True)
            assert (await http.get("/healthz")).status_code == 200
            assert (await http.get("/anything")).status_code == 404
            assert (await http.post("/metrics")).status_code == 405
    finally:
        await server.stop()


async def test_a_taken_port_leaves_the_service_running_without_a_server() -> None:
    @dataclass
    class Wanted:
        metrics_port: int | None
        metrics_host: str = "127.0.0.1"
        readiness_timeout_s: float = 1.0

    first = await status.start_status_server(Wanted(0), checks={})
    assert first is not None
    try:
        assert await status.start_status_server(Wanted(first.port), checks={}) is None
        assert await status.start_status_server(Wanted(None), checks={}) is None
    finally:
        await first.stop()


def test_route_templates_never_carry_values() -> None:
    class Route:
        path = "/api/v1/offers/{offer_id}/accept"

    assert metrics.route_template({"type": "http", "route": Route()}) == Route.path
    assert metrics.route_template(
        {"type": "http", "endpoint": object(), "root_path": "/static"}
    ) == ("/static/{path}")
    assert metrics.route_template({"type": "http", "path": "/api/v1/nothing/123"}) == "unmatched"
