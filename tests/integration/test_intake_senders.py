"""Trusted senders, for real: the intake on the broker and PostGIS with a sender registry of the
tests (the shipped one plus a signing sender whose key is made here, and a national police unit),
refusing what strangers send and keeping what the right sender sends."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.intake.main import IntakeService
from services.intake.senders import REGISTRY_FILE
from services.intake.settings import IntakeOptions, IntakeSettings
from shared.broker_access import ADMIN
from shared.events import topics
from shared.kafka import build_broker
from shared.reference import KAZAKHSTAN_TZ
from shared.settings import DatabaseSettings, KafkaSettings
from tests.factories import FakeClock, as_json, cap, missing_person_report, new_run
from tests.kafka_tail import Record, Tail, dead_letter_of, eventually
from tests.running import INTAKE_TABLES
from tests.unit.test_signatures import self_signed, sign

pytestmark = pytest.mark.integration

# After every message of the flood fixtures (the Cancel is sent on 04-04 09:00), before it expires.
NOW = datetime(2026, 4, 4, 9, 30, tzinfo=KAZAKHSTAN_TZ)
MINISTRY = "cap@emer.gov.kz"
KOSTANAY = "dchs.kostanay@emer.gov.kz"
SIGNING = "signed.test@emer.gov.kz"
NATIONAL_POLICE = "National Police Search Coordination (test)"
FLOOD = "KZ-TZhM-{run}-KST-2026-0402-001"


@pytest.fixture(scope="module")
def signer() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key, certificate, _ = self_signed(SIGNING)
    return key, certificate


@pytest.fixture(scope="module")
def registry(
    tmp_path_factory: pytest.TempPathFactory,
    signer: tuple[ec.EllipticCurvePrivateKey, x509.Certificate],
) -> Path:
    """The shipped registry, plus a sender that must sign (its certificate in a file beside the
    registry) and a police unit that may search anywhere but raised none of the tests' searches."""
    folder = tmp_path_factory.mktemp("senders")
    _, certificate, _ = self_signed(SIGNING)  # an old key of the same sender, listed first
    (folder / "signing.pem").write_bytes(
        b"".join(cert.public_bytes(Encoding.PEM) for cert in (certificate, signer[1]))
    )
    data = yaml.safe_load(REGISTRY_FILE.read_text(encoding="utf-8"))
    names = {"kk": "Сынақ", "ru": "Тест", "en": "Test"}
    data["senders"] += [
        {
            "id": SIGNING,
            "name": {**names, "en": "Signing test sender"},
            "regions": "all",
            "topics": [topics.ALERTS_CAP],
            "signature": "required",
            "certificates": [{"path": "signing.pem"}],
        },
        {
            "id": NATIONAL_POLICE,
            "name": {**names, "en": "National police search coordination"},
            "regions": "all",
            "topics": [topics.ALERTS_MISSING_PERSON],
        },
    ]
    path = folder / "senders.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@asynccontextmanager
async def intake_with(
    database_settings: DatabaseSettings,
    kafka_settings: KafkaSettings,
    *,
    registry: Path,
    clock: FakeClock,
    accept_unverified: bool = False,
) -> AsyncIterator[IntakeService]:
    service = IntakeService(
        IntakeSettings(
            database=database_settings,
            kafka=kafka_settings,
            intake=IntakeOptions(
                group_id=f"jedel-intake-{new_run()}",
                retry_backoff_s=0.05,
                senders_file=registry,
                accept_unverified=accept_unverified,
            ),
        ),
        clock=clock,
    )
    await service.start()
    try:
        yield service
    finally:
        await service.stop()


@pytest.fixture(scope="module")
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture(scope="module")
async def intake(
    database_settings: DatabaseSettings,
    kafka_settings: KafkaSettings,
    engine: AsyncEngine,
    registry: Path,
    clock: FakeClock,
) -> AsyncIterator[IntakeService]:
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {', '.join(INTAKE_TABLES)} CASCADE"))
    async with intake_with(
        database_settings, kafka_settings, registry=registry, clock=clock
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


def as_sender(message: bytes, sender: str, *, references: str | None = None) -> bytes:
    """A fixture sent by `sender`; `references` re-points its references at that sender's alerts."""
    moved = message.replace(
        f"<sender>{MINISTRY}</sender>".encode(), f"<sender>{sender}</sender>".encode()
    )
    if references is not None:
        moved = moved.replace(f"{MINISTRY},".encode(), f"{references},".encode())
    return moved


async def incident_of(engine: AsyncEngine, identifier: str) -> dict[str, Any] | None:
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                text(
                    "SELECT i.* FROM alerts a JOIN incidents i ON i.id = a.incident_id "
                    "WHERE a.identifier = :identifier ORDER BY a.received_at LIMIT 1"
                ),
                {"identifier": identifier},
            )
        ).first()
    return row._asdict() if row else None


async def alerts_named(engine: AsyncEngine, identifier: str) -> int:
    async with engine.connect() as connection:
        count = await connection.scalar(
            text("SELECT count(*) FROM alerts WHERE identifier = :i"), {"i": identifier}
        )
    return int(count or 0)


def events_for(incident_id: object, kind: str) -> Any:
    def matches(record: Record) -> bool:
        return (
            record.topic == topics.INCIDENTS
            and record.key == str(incident_id).encode()
            and record.headers.get("event_type") == kind
        )

    return matches


async def opened(engine: AsyncEngine, identifier: str) -> dict[str, Any]:
    incident = await eventually(lambda: incident_of(engine, identifier))
    assert isinstance(incident, dict)
    return incident


async def test_an_update_from_another_sender_changes_nothing_and_is_dead_lettered(
    intake: IntakeService, tail: Tail, publish: Any, engine: AsyncEngine
) -> None:
    run = new_run()
    await publish(topics.ALERTS_CAP, cap("flood_kostanay_12.xml", run=run))
    original = await opened(engine, FLOOD.format(run=run))
    # The Kostanay department may alert Kostanay, but this incident is the Ministry's.
    where = await publish(
        topics.ALERTS_CAP, as_sender(cap("flood_update_12.xml", run=run), KOSTANAY)
    )
    letter = await dead_letter_of(tail, topics.ALERTS_CAP, where)
    assert letter.code == "not_original_sender"
    assert "Department of Emergency Situations of Kostanay Region" in letter.reason
    assert "raised by Ministry of Emergency Situations" in letter.reason
    after = await incident_of(engine, FLOOD.format(run=run))
    assert after is not None
    assert (after["version"], after["status"]) == (original["version"], "open")
    assert await alerts_named(engine, f"KZ-TZhM-{run}-KST-2026-0402-002") == 0, "nothing kept"
    assert not [r for r in tail.records if events_for(original["id"], "IncidentUpdated")(r)]


async def test_the_ministry_may_update_what_its_department_raised(
    intake: IntakeService, tail: Tail, publish: Any, engine: AsyncEngine
) -> None:
    run = new_run()
    await publish(topics.ALERTS_CAP, as_sender(cap("flood_kostanay_12.xml", run=run), KOSTANAY))
    original = await opened(engine, FLOOD.format(run=run))
    assert original["sender_trust"] == "registered"
    update = cap("flood_update_12.xml", run=run).replace(
        f"{MINISTRY},".encode(), f"{KOSTANAY},".encode()
    )
    await publish(topics.ALERTS_CAP, update)
    [record] = await tail.wait_for(events_for(original["id"], "IncidentUpdated"))
    assert json.loads(record.value)["version"] == 2


async def test_a_strangers_cancel_does_not_cancel_and_the_originals_does(
    intake: IntakeService, tail: Tail, publish: Any, engine: AsyncEngine
) -> None:
    run = new_run()
    await publish(topics.ALERTS_CAP, cap("flood_kostanay_12.xml", run=run))
    original = await opened(engine, FLOOD.format(run=run))
    cancel = cap("flood_cancel_12.xml", run=run)
    where = await publish(topics.ALERTS_CAP, as_sender(cancel, KOSTANAY))
    letter = await dead_letter_of(tail, topics.ALERTS_CAP, where)
    assert letter.code == "not_original_sender"
    assert "would cancel an incident" in letter.reason
    still = await incident_of(engine, FLOOD.format(run=run))
    assert still is not None and still["status"] == "open"

    await publish(topics.ALERTS_CAP, cancel)
    [cancelled] = await tail.wait_for(events_for(original["id"], "IncidentCancelled"))
    assert json.loads(cancelled.value)["status"] == "cancelled"


async def test_an_unknown_sender_is_dead_lettered_with_its_name(
    intake: IntakeService, tail: Tail, publish: Any, engine: AsyncEngine
) -> None:
    run = new_run()
    where = await publish(
        topics.ALERTS_CAP, as_sender(cap("flood_kostanay_12.xml", run=run), "prank@example.com")
    )
    letter = await dead_letter_of(tail, topics.ALERTS_CAP, where)
    assert letter.code == "unknown_sender"
    assert "'prank@example.com'" in letter.reason
    assert await alerts_named(engine, FLOOD.format(run=run)) == 0


async def test_a_department_alerting_another_region_is_dead_lettered(
    intake: IntakeService, tail: Tail, publish: Any
) -> None:
    blizzard = cap("blizzard_geocode_12.xml", run=new_run())  # all of Akmola Region
    where = await publish(topics.ALERTS_CAP, as_sender(blizzard, KOSTANAY))
    letter = await dead_letter_of(tail, topics.ALERTS_CAP, where)
    assert letter.code == "sender_not_permitted"
    assert "Akmola Region (KZ-11)" in letter.reason


async def test_a_police_outcome_from_another_unit_does_not_end_the_search(
    intake: IntakeService, tail: Tail, publish: Any, engine: AsyncEngine
) -> None:
    report = missing_person_report()
    await publish(topics.ALERTS_MISSING_PERSON, as_json(report), key=report["report_id"])
    incident = await opened(engine, report["report_id"])
    found = {
        **report,
        "reporting_unit": NATIONAL_POLICE,
        "reported_at": "2026-04-02T09:10:00+05:00",
        "outcome": "found_alive",
    }
    where = await publish(topics.ALERTS_MISSING_PERSON, as_json(found), key=report["report_id"])
    letter = await dead_letter_of(tail, topics.ALERTS_MISSING_PERSON, where)
    assert letter.code == "not_original_sender"
    assert "would end the search for an incident raised by Almaty City Police" in letter.reason
    still = await incident_of(engine, report["report_id"])
    assert still is not None and still["status"] == "open"

    # The unit that raised it, under its Kazakh name, may.
    own = {**found, "reporting_unit": "Алматы қаласы Полиция департаменті"}
    await publish(topics.ALERTS_MISSING_PERSON, as_json(own), key=report["report_id"])
    [update] = await tail.wait_for(events_for(incident["id"], "IncidentUpdated"))
    assert json.loads(update.value)["status"] == "resolved"


async def test_a_report_dated_in_the_future_is_refused(
    intake: IntakeService, tail: Tail, publish: Any, engine: AsyncEngine, clock: FakeClock
) -> None:
    ahead = (clock() + timedelta(days=30)).isoformat()
    report = missing_person_report(reported_at=ahead)
    where = await publish(topics.ALERTS_MISSING_PERSON, as_json(report), key=report["report_id"])
    letter = await dead_letter_of(tail, topics.ALERTS_MISSING_PERSON, where)
    assert letter.code == "sent_in_future"
    assert "30 d ahead of the intake's clock" in letter.reason
    assert await alerts_named(engine, report["report_id"]) == 0


async def test_a_signed_alert_from_a_sender_that_must_sign_is_accepted_and_tampering_is_not(
    intake: IntakeService,
    tail: Tail,
    publish: Any,
    engine: AsyncEngine,
    signer: tuple[ec.EllipticCurvePrivateKey, x509.Certificate],
) -> None:
    run = new_run()
    signed = sign(as_sender(cap("flood_kostanay_12.xml", run=run), SIGNING), *signer)
    await publish(topics.ALERTS_CAP, signed)
    incident = await opened(engine, FLOOD.format(run=run))
    assert incident["sender_trust"] == "signed"
    [record] = await tail.wait_for(events_for(incident["id"], "IncidentOpened"))
    assert json.loads(record.value)["sender_trust"] == "signed"

    other = new_run()
    tampered = sign(as_sender(cap("flood_kostanay_12.xml", run=other), SIGNING), *signer).replace(
        b"<headline>", b"<headline>FALSE ALARM: ", 1
    )
    unsigned = as_sender(cap("flood_kostanay_12.xml", run=new_run()), SIGNING)
    bad = await publish(topics.ALERTS_CAP, tampered)
    missing = await publish(topics.ALERTS_CAP, unsigned)
    letter = await dead_letter_of(tail, topics.ALERTS_CAP, bad)
    assert letter.code == "bad_signature"
    assert "Signing test sender (signed.test@emer.gov.kz)" in letter.reason
    assert (await dead_letter_of(tail, topics.ALERTS_CAP, missing)).code == "signature_required"
    assert await alerts_named(engine, FLOOD.format(run=other)) == 0


async def test_an_unknown_sender_is_accepted_as_unverified_when_configured(
    intake: IntakeService,
    publish: Any,
    engine: AsyncEngine,
    database_settings: DatabaseSettings,
    kafka_settings: KafkaSettings,
    registry: Path,
    clock: FakeClock,
) -> None:
    """Last in the module: a second intake, accepting unverified senders, reads the topic from
    the start (the strict one keeps refusing the same message)."""
    run = new_run()
    async with intake_with(
        database_settings, kafka_settings, registry=registry, clock=clock, accept_unverified=True
    ):
        await publish(
            topics.ALERTS_CAP,
            as_sender(cap("flood_kostanay_12.xml", run=run), "volunteer-hub@example.kz"),
        )
        incident = await opened(engine, FLOOD.format(run=run))
    assert incident["sender_trust"] == "unverified"
    assert incident["status"] == "open"
