"""The intake, running for real: CAP and police reports in through the broker, incidents out."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.intake.main import IntakeService
from shared.broker_access import ADMIN
from shared.events import topics
from shared.events.alerts import DeadLetter
from shared.kafka import build_broker
from shared.settings import DatabaseSettings, KafkaSettings
from tests.factories import HOSTILE, FakeClock, as_json, cap, missing_person_report, new_run
from tests.kafka_tail import Record, Tail, eventually
from tests.running import running_intake

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="module")
async def intake(
    database_settings: DatabaseSettings,
    kafka_settings: KafkaSettings,
    engine: AsyncEngine,
    clock: FakeClock,
) -> AsyncIterator[IntakeService]:
    # The fixtures are dated across 2026 while the clock stands at one morning in April:
    # allow a year of skew here; the future-dated refusal has its own test.
    async with running_intake(
        database_settings,
        kafka_settings,
        engine,
        clock=clock,
        intake={"max_future_skew_s": 365 * 24 * 3600},
    ) as service:
        yield service


@pytest.fixture(scope="module")
async def tail(kafka_settings: KafkaSettings, intake: IntakeService) -> AsyncIterator[Tail]:
    opened = await Tail.open(kafka_settings, (topics.INCIDENTS, topics.ALERTS_DEAD_LETTER))
    yield opened
    await opened.close()


@pytest.fixture
async def publish(kafka_settings: KafkaSettings) -> AsyncIterator[Any]:
    broker = build_broker(kafka_settings, principal=ADMIN)
    await broker.connect()

    async def send(topic: str, value: bytes, key: str | None = None) -> tuple[int, int]:
        metadata = await broker.publish(value, topic, key=key.encode() if key else None)
        return metadata.partition, metadata.offset

    yield send
    await broker.stop()


async def incident_of(engine: AsyncEngine, identifier: str) -> dict[str, Any] | None:
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                text(
                    "SELECT i.*, ST_AsText(i.center) AS center_wkt FROM alerts a "
                    "JOIN incidents i ON i.id = a.incident_id WHERE a.identifier = :identifier"
                ),
                {"identifier": identifier},
            )
        ).first()
    return row._asdict() if row else None


def events_for(incident_id: object, kind: str) -> Any:
    def matches(record: Record) -> bool:
        return (
            record.topic == topics.INCIDENTS
            and record.key == str(incident_id).encode()
            and record.headers.get("event_type") == kind
        )

    return matches


async def test_cap_flood_becomes_an_incident_announced_on_incidents_topic(
    intake: IntakeService, tail: Tail, publish: Any, engine: AsyncEngine
) -> None:
    run = new_run()
    await publish(topics.ALERTS_CAP, cap("flood_kostanay_12.xml", run=run))

    incident = await eventually(lambda: incident_of(engine, f"KZ-TZhM-{run}-KST-2026-0402-001"))
    assert isinstance(incident, dict)
    assert incident["type"] == "flood"
    assert incident["status"] == "open"
    assert incident["region_codes"][0] == "KZ-39"
    assert 100 < incident["area_km2"] < 1000
    [record] = await tail.wait_for(events_for(incident["id"], "IncidentOpened"))
    event = json.loads(record.value)
    assert event["incident_id"] == str(incident["id"])
    assert event["type"] == "flood"
    assert event["area"]["type"] == "MultiPolygon"
    lon, lat = event["area"]["coordinates"][0][0][0]
    assert 63 < lon < 64 and 53 < lat < 54, "GeoJSON is lon,lat; CAP's lat,lon must be swapped"
    assert [text_["language"] for text_ in event["texts"]] == ["kk", "ru", "en"]


async def test_the_same_alert_twice_is_one_incident(
    intake: IntakeService, tail: Tail, publish: Any, engine: AsyncEngine
) -> None:
    run = new_run()
    message = cap("steppe_fire_11.xml", run=run)
    await publish(topics.ALERTS_CAP, message)
    await publish(topics.ALERTS_CAP, message)
    incident = await eventually(lambda: incident_of(engine, f"KZ-TZhM-{run}-AKT-2026-0718-014"))
    assert isinstance(incident, dict)
    assert incident["type"] == "wildfire"
    # A later valid message proves both copies were consumed before we count.
    marker = new_run()
    await publish(topics.ALERTS_CAP, cap("steppe_fire_11.xml", run=marker))
    await eventually(lambda: incident_of(engine, f"KZ-TZhM-{marker}-AKT-2026-0718-014"))
    await tail.wait_for(events_for(incident["id"], "IncidentOpened"))
    async with engine.connect() as connection:
        copies = await connection.scalar(
            text("SELECT count(*) FROM alerts WHERE identifier = :i"),
            {"i": f"KZ-TZhM-{run}-AKT-2026-0718-014"},
        )
    assert copies == 1
    opened = [r for r in tail.records if events_for(incident["id"], "IncidentOpened")(r)]
    assert len(opened) == 1


async def test_update_then_cancel_follow_their_references(
    intake: IntakeService, tail: Tail, publish: Any, engine: AsyncEngine
) -> None:
    run = new_run()
    await publish(topics.ALERTS_CAP, cap("flood_kostanay_12.xml", run=run))
    original = await eventually(lambda: incident_of(engine, f"KZ-TZhM-{run}-KST-2026-0402-001"))
    assert isinstance(original, dict)
    await publish(topics.ALERTS_CAP, cap("flood_update_12.xml", run=run))
    [updated] = await tail.wait_for(events_for(original["id"], "IncidentUpdated"))
    assert json.loads(updated.value)["version"] == 2
    await publish(topics.ALERTS_CAP, cap("flood_cancel_12.xml", run=run))
    [cancelled] = await tail.wait_for(events_for(original["id"], "IncidentCancelled"))
    assert json.loads(cancelled.value)["status"] == "cancelled"
    after = await incident_of(engine, f"KZ-TZhM-{run}-KST-2026-0402-001")
    assert after is not None and after["status"] == "cancelled"


async def test_exercise_is_flagged_and_never_a_real_callout(
    intake: IntakeService, tail: Tail, publish: Any, engine: AsyncEngine
) -> None:
    run = new_run()
    await publish(topics.ALERTS_CAP, cap("exercise_12.xml", run=run))
    incident = await eventually(lambda: incident_of(engine, f"KZ-TZhM-{run}-ALA-2026-0520-EX01"))
    assert isinstance(incident, dict)
    assert incident["is_exercise"] is True
    [record] = await tail.wait_for(events_for(incident["id"], "IncidentOpened"))
    assert json.loads(record.value)["is_exercise"] is True


async def test_test_status_is_recorded_but_not_announced(
    intake: IntakeService, tail: Tail, publish: Any, engine: AsyncEngine
) -> None:
    run = new_run()
    message = cap("steppe_fire_11.xml", run=run).replace(
        b"<status>Actual</status>", b"<status>Test</status>"
    )
    await publish(topics.ALERTS_CAP, message)
    incident = await eventually(lambda: incident_of(engine, f"KZ-TZhM-{run}-AKT-2026-0718-014"))
    assert isinstance(incident, dict)
    assert incident["alert_status"] == "Test"
    marker = new_run()
    await publish(topics.ALERTS_CAP, cap("steppe_fire_11.xml", run=marker))
    later = await eventually(lambda: incident_of(engine, f"KZ-TZhM-{marker}-AKT-2026-0718-014"))
    assert isinstance(later, dict)
    await tail.wait_for(events_for(later["id"], "IncidentOpened"))
    assert not [r for r in tail.records if r.key == str(incident["id"]).encode()]


async def test_hostile_messages_are_dead_lettered_and_valid_ones_still_pass(
    intake: IntakeService, tail: Tail, publish: Any, engine: AsyncEngine
) -> None:
    sent: dict[tuple[int, int], tuple[str, bytes]] = {}
    valid_runs = []
    for hostile in sorted(HOSTILE.glob("*.xml")):
        data = hostile.read_bytes()
        sent[await publish(topics.ALERTS_CAP, data)] = (hostile.name, data)
        run = new_run()
        valid_runs.append(run)
        await publish(topics.ALERTS_CAP, cap("steppe_fire_11.xml", run=run))
    oversized = b"<alert>" + b" " * (2 * 1024 * 1024) + b"</alert>"
    sent[await publish(topics.ALERTS_CAP, oversized)] = ("oversized", oversized)

    letters = await tail.wait_for(
        lambda r: (
            r.topic == topics.ALERTS_DEAD_LETTER
            and r.headers.get("dead_letter.source_topic") == topics.ALERTS_CAP
            and (
                int(r.headers["dead_letter.source_partition"]),
                int(r.headers["dead_letter.source_offset"]),
            )
            in sent
        ),
        count=len(sent),
    )
    codes = {}
    for letter in letters:
        meta = DeadLetter.from_headers(letter.headers)
        name, original = sent[(meta.source_partition, meta.source_offset)]
        assert letter.value == original, f"{name}: the dead letter must carry the original bytes"
        assert meta.reason, f"{name}: a person must be told why"
        codes[name] = meta.code
    assert codes == {
        "billion_laughs.xml": "forbidden_dtd",
        "external_entity.xml": "forbidden_dtd",
        "malformed.xml": "malformed_xml",
        "negative_radius.xml": "bad_circle",
        "not_cap.xml": "not_cap",
        "open_polygon.xml": "bad_polygon",
        "schema_violation.xml": "schema_violation",
        "self_intersecting.xml": "bad_polygon",
        "oversized": "too_large",
    }
    for run in valid_runs:
        identifier = f"KZ-TZhM-{run}-AKT-2026-0718-014"
        assert await eventually(partial(incident_of, engine, identifier))


async def test_missing_person_report_opens_a_missing_person_incident(
    intake: IntakeService, tail: Tail, publish: Any, engine: AsyncEngine
) -> None:
    report = missing_person_report()
    await publish(topics.ALERTS_MISSING_PERSON, as_json(report), key=report["report_id"])
    incident = await eventually(lambda: incident_of(engine, report["report_id"]))
    assert isinstance(incident, dict)
    assert incident["type"] == "missing_person"
    assert incident["priority"] == "critical", "a missing child is critical"
    assert incident["region_codes"][0] == "KZ-75"
    [record] = await tail.wait_for(events_for(incident["id"], "IncidentOpened"))
    subject = json.loads(record.value)["subject"]
    assert subject["category"] == "child"
    assert subject["last_seen_lat"] == pytest.approx(43.2389)


async def test_a_report_that_the_person_was_found_ends_the_search(
    intake: IntakeService, tail: Tail, publish: Any, engine: AsyncEngine
) -> None:
    report = missing_person_report()
    await publish(topics.ALERTS_MISSING_PERSON, as_json(report), key=report["report_id"])
    incident = await eventually(lambda: incident_of(engine, report["report_id"]))
    assert isinstance(incident, dict)
    found = {**report, "reported_at": "2026-04-02T09:10:00+05:00", "outcome": "found_alive"}
    await publish(topics.ALERTS_MISSING_PERSON, as_json(found), key=report["report_id"])
    [update] = await tail.wait_for(events_for(incident["id"], "IncidentUpdated"))
    assert json.loads(update.value)["status"] == "resolved"

    async def resolved() -> bool:
        current = await incident_of(engine, report["report_id"])
        return isinstance(current, dict) and current["status"] == "resolved"

    assert await eventually(resolved)
    # A search the police ended before Jedel heard of it is recorded, and mobilises no one.
    late = missing_person_report(outcome="withdrawn")
    await publish(topics.ALERTS_MISSING_PERSON, as_json(late), key=late["report_id"])
    recorded = await eventually(lambda: incident_of(engine, late["report_id"]))
    assert isinstance(recorded, dict) and recorded["status"] == "resolved"
    assert not [r for r in tail.records if events_for(recorded["id"], "IncidentOpened")(r)]


async def test_incomplete_missing_person_report_is_dead_lettered_with_the_missing_fields(
    intake: IntakeService, tail: Tail, publish: Any
) -> None:
    report = missing_person_report()
    del report["last_seen"]
    where = await publish(topics.ALERTS_MISSING_PERSON, as_json(report))
    [letter] = await tail.wait_for(
        lambda r: (
            r.topic == topics.ALERTS_DEAD_LETTER
            and r.headers.get("dead_letter.source_topic") == topics.ALERTS_MISSING_PERSON
            and (
                int(r.headers["dead_letter.source_partition"]),
                int(r.headers["dead_letter.source_offset"]),
            )
            == where
        )
    )
    meta = DeadLetter.from_headers(letter.headers)
    assert meta.code == "invalid_report"
    assert "last_seen" in meta.reason


async def test_an_alert_past_its_expiry_is_expired_and_announced(
    intake: IntakeService, tail: Tail, publish: Any, engine: AsyncEngine, clock: FakeClock
) -> None:
    run = new_run()
    await publish(topics.ALERTS_CAP, cap("flood_kostanay_12.xml", run=run))
    incident = await eventually(lambda: incident_of(engine, f"KZ-TZhM-{run}-KST-2026-0402-001"))
    assert isinstance(incident, dict)
    clock.advance(timedelta(days=5))
    try:
        assert await intake.expire_now() >= 1
    finally:
        clock.advance(timedelta(days=-5))
    [record] = await tail.wait_for(events_for(incident["id"], "IncidentUpdated"))
    assert json.loads(record.value)["status"] == "expired"
