"""The registry, running for real: contract events in through the broker, the activity log out."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from playwright.async_api import async_playwright, expect
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.api.auth.principals import AccountRole
from services.api.main import create_app
from services.api.settings import ApiSettings
from services.registry.corrections import void_entry
from services.registry.main import RegistryService
from services.registry.queries import region_activity
from services.registry.reports import Period, RegionActivity, to_csv
from services.registry.settings import RegistryOptions, RegistrySettings
from shared.broker_access import ADMIN
from shared.events import topics
from shared.events.alerts import DeadLetter
from shared.events.base import Event
from shared.events.incidents import (
    AlertStatus,
    IncidentCancelled,
    IncidentOpened,
    IncidentSource,
    IncidentStatus,
    IncidentType,
    Priority,
)
from shared.events.mobilization import (
    Answer,
    DeliveryStatus,
    GroupCompleted,
    GroupMember,
    GroupUnderstaffed,
    MobilizationStarted,
    NotificationReported,
    OfferAccepted,
    OfferDeclined,
    OfferStoodDown,
    OfferTimedOut,
    RespondToOffer,
    StandDownReason,
    VolunteerOffered,
    WaveSent,
)
from shared.events.volunteers import Role
from shared.kafka import build_broker
from shared.outbox import OutgoingEvent
from shared.reference import KAZAKHSTAN_TZ
from shared.settings import DatabaseSettings, KafkaSettings, RedisSettings
from tests.accounts import headers_for
from tests.browsers import chromium, console_page
from tests.factories import new_run
from tests.kafka_tail import Tail, eventually
from tests.running import api_client, served_api

pytestmark = pytest.mark.integration

DAY = date(2026, 4, 2)
Send = Callable[..., Awaitable[tuple[int, int]]]


def at(hour: int, minute: int = 0, *, day: date = DAY) -> datetime:
    """A Kazakhstan wall-clock time (UTC+5)."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=KAZAKHSTAN_TZ)


@pytest.fixture(scope="module")
async def registry(
    database_settings: DatabaseSettings, kafka_settings: KafkaSettings
) -> AsyncIterator[RegistryService]:
    settings = RegistrySettings(
        database=database_settings,
        kafka=kafka_settings,
        registry=RegistryOptions(group_id=f"jedel-registry-{new_run()}", retry_backoff_s=0.05),
    )
    service = RegistryService(settings)
    await service.start()
    yield service
    await service.stop()


@pytest.fixture(scope="module")
async def dead_letters(
    kafka_settings: KafkaSettings, registry: RegistryService
) -> AsyncIterator[Tail]:
    opened = await Tail.open(kafka_settings, (topics.EVENTS_DEAD_LETTER,))
    yield opened
    await opened.close()


@pytest.fixture
async def send(kafka_settings: KafkaSettings) -> AsyncIterator[Send]:
    broker = build_broker(kafka_settings, principal=ADMIN)
    await broker.connect()

    async def publish(
        topic: str, event: Event | bytes, *, key: UUID | None = None, kind: str | None = None
    ) -> tuple[int, int]:
        if isinstance(event, Event):
            outgoing = OutgoingEvent(topic=topic, key=str(key), event=event)
            value, headers = event.model_dump_json().encode(), outgoing.headers()
        else:
            value, headers = event, {"event_type": kind} if kind else {}
        metadata = await broker.publish(
            value, topic, key=str(key).encode() if key else None, headers=headers
        )
        return metadata.partition, metadata.offset

    yield publish
    await broker.stop()


@pytest.fixture
async def region(engine: AsyncEngine) -> AsyncIterator[str]:
    """A region of this test alone, so its report counts nothing else: a code no earlier run
    used (the activity log is append-only, so earlier runs' entries for a code stay in it)."""
    async with engine.begin() as connection:
        while True:
            code = f"KZ-T{uuid4().hex[:4].upper()}"
            used = await connection.scalar(
                text(
                    "SELECT EXISTS (SELECT 1 FROM activity_log WHERE region_code = :code)"
                    " OR EXISTS (SELECT 1 FROM registry_incidents"
                    "            WHERE region_code = :code OR :code = ANY(region_codes))"
                ),
                {"code": code},
            )
            if not used:
                break
        await connection.execute(
            text(
                "INSERT INTO regions (code, name_kk, name_ru, name_en, geonames_admin1, boundary,"
                " area_km2) VALUES (:code, 'Сынақ', 'Тест', 'Test', :code, ST_GeogFromText("
                "'MULTIPOLYGON(((63 53, 64 53, 64 54, 63 54, 63 53)))'), 7400)"
            ),
            {"code": code},
        )
    yield code
    async with engine.begin() as connection:
        await connection.execute(text("DELETE FROM volunteers WHERE region_code = :c"), {"c": code})
        await connection.execute(text("DELETE FROM regions WHERE code = :c"), {"c": code})


async def register_volunteers(engine: AsyncEngine, region: str, ids: Sequence[UUID]) -> None:
    async with engine.begin() as connection:
        for volunteer_id in ids:
            await connection.execute(
                text(
                    "INSERT INTO volunteers (id, full_name, phone, birth_date, languages,"
                    " region_code, home, transport_mode, availability, registered_at) VALUES"
                    " (:id, 'Айбек Серікұлы', :phone, '1990-05-01', ARRAY['kk','ru'], :region,"
                    " ST_GeogFromText('POINT(63.6 53.2)'), 'car', 'available', :registered)"
                ),
                {
                    "id": volunteer_id,
                    "phone": f"+7701{volunteer_id.int % 10_000_000:07d}",
                    "region": region,
                    "registered": datetime(2025, 1, 10, tzinfo=KAZAKHSTAN_TZ),
                },
            )


def incident(
    event: type[IncidentOpened] | type[IncidentCancelled],
    incident_id: UUID,
    region: str,
    *,
    occurred_at: datetime,
    opened_at: datetime,
    is_exercise: bool = False,
    version: int = 1,
) -> IncidentOpened | IncidentCancelled:
    cancelled = event is IncidentCancelled
    return event(
        incident_id=incident_id,
        occurred_at=occurred_at,
        type=IncidentType.FLOOD,
        priority=Priority.HIGH,
        status=IncidentStatus.CANCELLED if cancelled else IncidentStatus.OPEN,
        alert_status=AlertStatus.EXERCISE if is_exercise else AlertStatus.ACTUAL,
        is_exercise=is_exercise,
        source=IncidentSource.CAP,
        area={"type": "MultiPolygon", "coordinates": [[[[63, 53], [64, 53], [64, 54], [63, 53]]]]},
        area_km2=3700.0,
        center_lon=63.6,
        center_lat=53.3,
        region_codes=(region, "KZ-35"),
        opened_at=opened_at,
        version=version,
    )


def offered(
    incident_id: UUID, volunteer_id: UUID, offer_id: UUID, role: Role, when: datetime, **kw: Any
) -> VolunteerOffered:
    return VolunteerOffered(
        incident_id=incident_id,
        occurred_at=when,
        offer_id=offer_id,
        volunteer_id=volunteer_id,
        role=role,
        wave=kw.get("wave", 1),
        eta_s=900,
        distance_m=6_000,
        expires_at=when + timedelta(minutes=30),
        language="kk",
        contact_phone="+77011234567",
        incident_type=IncidentType.FLOOD,
        priority=Priority.HIGH,
        is_exercise=kw.get("is_exercise", False),
    )


async def rows_of(engine: AsyncEngine, event_ids: Sequence[UUID]) -> list[dict[str, Any]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT * FROM activity_log WHERE event_id = ANY(:ids)"),
            {"ids": list(event_ids)},
        )
        return [row._asdict() for row in rows]


async def all_recorded(engine: AsyncEngine, events: Sequence[Event]) -> bool:
    return len(await rows_of(engine, [event.event_id for event in events])) == len(events)


async def report(engine: AsyncEngine, region: str, **options: Any) -> RegionActivity:
    async with AsyncSession(engine) as session:
        [row] = await region_activity(
            session,
            Period.day(DAY),
            region_codes=[region],
            as_of=at(12, day=DAY + timedelta(days=3)),
            **options,
        )
    return row


async def test_a_call_out_is_recorded_step_by_step_and_reported_per_region_and_day(
    registry: RegistryService, send: Send, engine: AsyncEngine, region: str
) -> None:
    flood, drill, night = uuid4(), uuid4(), uuid4()
    v1, v2, v3, v4, v5, v6, v7 = (uuid4() for _ in range(7))
    o1, o2, o3, o4, o5, o6, o7, o_drill = (uuid4() for _ in range(8))
    await register_volunteers(engine, region, [v1, v2, v3, v5, *(uuid4() for _ in range(4))])

    # The night incident's call-out arrives before the incident itself (another topic): its
    # entries are recorded without a region and still counted in the region's report.
    early: list[Event] = [
        offered(night, v6, o6, Role.SEARCHER, at(0, 20)),
        OfferAccepted(
            incident_id=night, occurred_at=at(0, 30), offer_id=o6, volunteer_id=v6,
            role=Role.SEARCHER, eta_s=600,
        ),
        GroupUnderstaffed(
            incident_id=night, occurred_at=at(0, 40), missing={Role.MEDIC: 1},
            deadline_at=at(1, 10), reason="no medic within 50 km",
        ),
        # 00:30 on the next local day: the 3rd, not the 2nd, although still the 2nd in UTC.
        offered(night, v7, o7, Role.SEARCHER, at(0, 20, day=DAY + timedelta(days=1))),
        OfferAccepted(
            incident_id=night, occurred_at=at(0, 30, day=DAY + timedelta(days=1)), offer_id=o7,
            volunteer_id=v7, role=Role.SEARCHER, eta_s=600,
        ),
    ]  # fmt: skip
    for event in early:
        await send(topics.MOBILIZATION, event, key=night)
    await eventually(lambda: all_recorded(engine, early))
    assert all(row["region_code"] is None for row in await rows_of(engine, [early[1].event_id]))
    [offer_entry] = await rows_of(engine, [early[0].event_id])
    assert "contact_phone" not in offer_entry["payload"], "the log refers to people by id only"
    assert offer_entry["volunteer_id"] == v6

    steps: list[tuple[str, Event]] = [
        (topics.INCIDENTS, incident(IncidentOpened, night, region, occurred_at=at(0, 10), opened_at=at(0, 10))),
        (topics.INCIDENTS, incident(IncidentOpened, flood, region, occurred_at=at(9), opened_at=at(9))),
        (topics.MOBILIZATION, MobilizationStarted(
            incident_id=flood, occurred_at=at(9, 1), playbook="flood.high",
            needed={Role.LEADER: 1, Role.MEDIC: 1, Role.SEARCHER: 1}, deadline_at=at(10),
        )),
        (topics.MOBILIZATION, WaveSent(
            incident_id=flood, occurred_at=at(9, 1), wave=1, radius_m=25_000,
            offers={Role.LEADER: 1, Role.MEDIC: 1, Role.SEARCHER: 1, Role.DRIVER_4X4: 1},
        )),
        (topics.MOBILIZATION, offered(flood, v1, o1, Role.MEDIC, at(9, 2))),
        (topics.MOBILIZATION, offered(flood, v2, o2, Role.LEADER, at(9, 2))),
        (topics.MOBILIZATION, offered(flood, v3, o3, Role.SEARCHER, at(9, 2))),
        (topics.MOBILIZATION, offered(flood, v4, o4, Role.DRIVER_4X4, at(9, 2))),
        (topics.RESPONSES, RespondToOffer(
            incident_id=flood, occurred_at=at(9, 9), offer_id=o1, volunteer_id=v1,
            answer=Answer.ACCEPT,
        )),
        (topics.MOBILIZATION, OfferAccepted(
            incident_id=flood, occurred_at=at(9, 10), offer_id=o1, volunteer_id=v1,
            role=Role.MEDIC, eta_s=900,
        )),
        (topics.MOBILIZATION, OfferDeclined(
            incident_id=flood, occurred_at=at(9, 12), offer_id=o3, volunteer_id=v3,
            role=Role.SEARCHER, reason="at work",
        )),
        (topics.MOBILIZATION, OfferAccepted(
            incident_id=flood, occurred_at=at(9, 15), offer_id=o2, volunteer_id=v2,
            role=Role.LEADER, eta_s=1200,
        )),
        (topics.MOBILIZATION, OfferTimedOut(
            incident_id=flood, occurred_at=at(9, 32), offer_id=o4, volunteer_id=v4,
            role=Role.DRIVER_4X4,
        )),
        (topics.MOBILIZATION, offered(flood, v5, o5, Role.SEARCHER, at(9, 33), wave=2)),
        (topics.MOBILIZATION, OfferAccepted(
            incident_id=flood, occurred_at=at(9, 45), offer_id=o5, volunteer_id=v5,
            role=Role.SEARCHER, eta_s=700,
        )),
        (topics.MOBILIZATION, GroupCompleted(
            incident_id=flood, occurred_at=at(9, 45),
            members=(
                GroupMember(volunteer_id=v1, role=Role.MEDIC, eta_s=900),
                GroupMember(volunteer_id=v2, role=Role.LEADER, eta_s=1200),
                GroupMember(volunteer_id=v5, role=Role.SEARCHER, eta_s=700),
            ),
        )),
        (topics.NOTIFICATIONS, NotificationReported(
            incident_id=flood, occurred_at=at(9, 3), notification_id=uuid4(),
            source_event_id=uuid4(), offer_id=o1, volunteer_id=v1, channel="sms",
            status=DeliveryStatus.DELIVERED,
        )),
        (topics.MOBILIZATION, OfferStoodDown(
            incident_id=flood, occurred_at=at(12, 10), offer_id=o1, volunteer_id=v1,
            role=Role.MEDIC, reason=StandDownReason.COMMITTED_ELSEWHERE,
        )),
        (topics.INCIDENTS, incident(
            IncidentCancelled, flood, region, occurred_at=at(14, 15), opened_at=at(9), version=2,
        )),
        # A drill the same day: recorded, left out of the report unless asked for.
        (topics.INCIDENTS, incident(
            IncidentOpened, drill, region, occurred_at=at(9, 50), opened_at=at(9, 50),
            is_exercise=True,
        )),
        (topics.MOBILIZATION, offered(drill, v3, o_drill, Role.SEARCHER, at(9, 55), is_exercise=True)),
        (topics.MOBILIZATION, OfferAccepted(
            incident_id=drill, occurred_at=at(10), offer_id=o_drill, volunteer_id=v3,
            role=Role.SEARCHER, eta_s=600,
        )),
        (topics.INCIDENTS, incident(
            IncidentCancelled, drill, region, occurred_at=at(11, 30), opened_at=at(9, 50),
            is_exercise=True, version=2,
        )),
    ]  # fmt: skip
    for topic, event in steps:
        key = getattr(event, "volunteer_id", None) if topic == topics.NOTIFICATIONS else None
        await send(topic, event, key=key or getattr(event, "incident_id", None))
    await eventually(lambda: all_recorded(engine, [event for _, event in steps]))

    [accepted] = await rows_of(engine, [steps[9][1].event_id])
    assert accepted["kind"] == "OfferAccepted"
    assert accepted["volunteer_id"] == v1 and accepted["offer_id"] == o1
    assert accepted["role"] == "medic"
    assert accepted["topic"] == topics.MOBILIZATION and accepted["offset"] is not None
    assert accepted["payload"] == json.loads(steps[9][1].model_dump_json())
    drill_rows = await rows_of(engine, [steps[-2][1].event_id])
    assert drill_rows[0]["is_exercise"] is True

    day = await report(engine, region)
    assert (day.incidents_opened, day.offers_sent, day.deployments) == (2, 6, 4)
    assert (day.offers_declined, day.offers_timed_out, day.offers_stood_down) == (1, 1, 1)
    assert (day.groups_completed, day.groups_understaffed) == (1, 1)
    # v1 09:10→12:10 stood down (3 h); v2 09:15→14:15 and v5 09:45→14:15 until the cancel (5 h,
    # 4.5 h); v6 00:30 with no end yet: the flood shift (8 h).
    assert day.volunteer_hours == pytest.approx(20.5)
    assert day.unique_active_volunteers == 4
    assert (day.registered_volunteers, day.active_registered_volunteers) == (8, 3)
    assert day.active_share == pytest.approx(3 / 8)

    with_drills = await report(engine, region, include_exercises=True)
    assert (with_drills.incidents_opened, with_drills.offers_sent) == (3, 7)
    assert with_drills.deployments == 5
    assert with_drills.volunteer_hours == pytest.approx(22.0)  # the drill: 10:00→11:30
    assert with_drills.active_registered_volunteers == 4

    csv_lines = to_csv([day]).splitlines()
    assert csv_lines[0].startswith("first_day,last_day,region_code,")
    assert csv_lines[1].startswith(
        f"2026-04-02,2026-04-02,{region},no,2,6,4,1,1,1,1,1,20.50,4,8,3,"
    )
    assert csv_lines[1].endswith(",0.3750")


async def test_the_same_event_twice_is_one_entry(
    registry: RegistryService, send: Send, engine: AsyncEngine
) -> None:
    incident_id = uuid4()
    accepted = OfferAccepted(
        incident_id=incident_id, offer_id=uuid4(), volunteer_id=uuid4(), role=Role.MEDIC, eta_s=60
    )
    await send(topics.MOBILIZATION, accepted, key=incident_id)
    await send(topics.MOBILIZATION, accepted, key=incident_id)
    marker = OfferTimedOut(
        incident_id=incident_id, offer_id=uuid4(), volunteer_id=uuid4(), role=Role.LEADER
    )
    await send(topics.MOBILIZATION, marker, key=incident_id)  # same partition, after both copies
    await eventually(lambda: all_recorded(engine, [marker]))
    assert len(await rows_of(engine, [accepted.event_id])) == 1


async def test_the_log_refuses_update_delete_and_truncate(
    registry: RegistryService, send: Send, engine: AsyncEngine
) -> None:
    incident_id = uuid4()
    event = OfferDeclined(
        incident_id=incident_id, offer_id=uuid4(), volunteer_id=uuid4(), role=Role.MEDIC
    )
    await send(topics.MOBILIZATION, event, key=incident_id)
    await eventually(lambda: all_recorded(engine, [event]))
    for statement in (
        "UPDATE activity_log SET kind = 'OfferAccepted' WHERE event_id = :id",
        "DELETE FROM activity_log WHERE event_id = :id",
        "TRUNCATE activity_log",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            async with engine.begin() as connection:
                await connection.execute(text(statement), {"id": event.event_id})
    [row] = await rows_of(engine, [event.event_id])
    assert row["kind"] == "OfferDeclined"


async def test_garbage_is_dead_lettered_and_the_next_event_still_recorded(
    registry: RegistryService, dead_letters: Tail, send: Send, engine: AsyncEngine
) -> None:
    incident_id = uuid4()
    garbage = b'{"kind": "OfferAccepted", "incident_id": "not-a-uuid'
    broken = json.dumps({"kind": "OfferAccepted", "event_id": str(uuid4())}).encode()
    sent = {
        await send(topics.MOBILIZATION, garbage, key=incident_id): ("invalid_json", garbage),
        await send(topics.MOBILIZATION, broken, key=incident_id): ("not_an_event", broken),
    }
    # A kind this registry does not know yet is still recorded, with the kind from the header.
    newer = {
        "event_id": str(uuid4()),
        "occurred_at": at(10).isoformat(),
        "incident_id": str(incident_id),
        "sector": "B-4",
    }
    await send(
        topics.MOBILIZATION, json.dumps(newer).encode(), key=incident_id, kind="SectorSearched"
    )
    # So is a known kind that breaks its contract (here: a stand-down reason from a newer enum).
    stood_down = OfferStoodDown(
        incident_id=incident_id,
        offer_id=uuid4(),
        volunteer_id=uuid4(),
        role=Role.MEDIC,
        reason=StandDownReason.GROUP_COMPLETE,
    )
    newer_reason = json.loads(stood_down.model_dump_json()) | {"reason": "rota_changed"}
    await send(topics.MOBILIZATION, json.dumps(newer_reason).encode(), key=incident_id)
    good = OfferTimedOut(
        incident_id=incident_id, offer_id=uuid4(), volunteer_id=uuid4(), role=Role.DRONE_PILOT
    )
    await send(topics.MOBILIZATION, good, key=incident_id)

    letters = await dead_letters.wait_for(
        lambda r: (
            r.headers.get("dead_letter.source_topic") == topics.MOBILIZATION
            and (
                int(r.headers["dead_letter.source_partition"]),
                int(r.headers["dead_letter.source_offset"]),
            )
            in sent
        ),
        count=len(sent),
    )
    for letter in letters:
        meta = DeadLetter.from_headers(letter.headers)
        code, original = sent[(meta.source_partition, meta.source_offset)]
        assert (meta.code, letter.value) == (code, original)
        assert meta.reason
    await eventually(lambda: all_recorded(engine, [good]))
    [unknown] = await rows_of(engine, [UUID(newer["event_id"])])
    assert unknown["kind"] == "SectorSearched"
    assert unknown["payload"]["sector"] == "B-4"
    [lenient] = await rows_of(engine, [stood_down.event_id])
    assert (lenient["kind"], lenient["volunteer_id"]) == ("OfferStoodDown", stood_down.volunteer_id)
    assert lenient["payload"]["reason"] == "rota_changed"


async def test_a_voided_entry_leaves_the_report_but_stays_in_the_log(
    registry: RegistryService, send: Send, engine: AsyncEngine, region: str
) -> None:
    incident_id, volunteer_id, offer_id = uuid4(), uuid4(), uuid4()
    events: list[tuple[str, Event]] = [
        (topics.INCIDENTS, incident(IncidentOpened, incident_id, region, occurred_at=at(8), opened_at=at(8))),
        (topics.MOBILIZATION, offered(incident_id, volunteer_id, offer_id, Role.MEDIC, at(8, 5))),
        (topics.MOBILIZATION, OfferAccepted(
            incident_id=incident_id, occurred_at=at(8, 10), offer_id=offer_id,
            volunteer_id=volunteer_id, role=Role.MEDIC, eta_s=300,
        )),
    ]  # fmt: skip
    for topic, event in events:
        await send(topic, event, key=incident_id)
    await eventually(lambda: all_recorded(engine, [event for _, event in events]))
    assert (await report(engine, region)).deployments == 1

    async with AsyncSession(engine) as session, session.begin():
        correction = await void_entry(
            session,
            events[2][1].event_id,
            reason="recorded twice by hand",
            operator="ops",
            now=at(18),
        )
    after = await report(engine, region)
    assert (after.deployments, after.volunteer_hours, after.offers_sent) == (0, 0.0, 1)
    [voided, voiding] = sorted(
        await rows_of(engine, [events[2][1].event_id, correction]), key=lambda row: row["id"]
    )
    assert voided["kind"] == "OfferAccepted"
    assert voiding["kind"] == "EntryVoided" and voiding["topic"] is None
    assert voiding["payload"]["voids"] == str(events[2][1].event_id)


async def _one_flood_recorded(send: Send, engine: AsyncEngine, region: str) -> UUID:
    """A flood on `DAY` in `region` with one offer, accepted, recorded; the volunteer's id (one of
    the region's two registered volunteers)."""
    flood, volunteer, offer = uuid4(), uuid4(), uuid4()
    await register_volunteers(engine, region, [volunteer, uuid4()])
    events: list[tuple[str, Event]] = [
        (topics.INCIDENTS, incident(IncidentOpened, flood, region, occurred_at=at(9), opened_at=at(9))),
        (topics.MOBILIZATION, offered(flood, volunteer, offer, Role.MEDIC, at(9, 2))),
        (topics.MOBILIZATION, OfferAccepted(
            incident_id=flood, occurred_at=at(9, 10), offer_id=offer, volunteer_id=volunteer,
            role=Role.MEDIC, eta_s=900,
        )),
    ]  # fmt: skip
    for topic, event in events:
        await send(topic, event, key=flood)
    await eventually(lambda: all_recorded(engine, [event for _, event in events]))
    return volunteer


async def test_an_analyst_reads_the_regions_report_through_the_api_as_json_and_csv(
    registry: RegistryService,
    send: Send,
    engine: AsyncEngine,
    region: str,
    database_settings: DatabaseSettings,
    kafka_settings: KafkaSettings,
    redis_settings: RedisSettings,
) -> None:
    """One flood of the day with one accepted offer, in a region of its own: the analyst's report
    counts it (as the registry's own report does) and names nobody; a dispatcher may not ask."""
    volunteer = await _one_flood_recorded(send, engine, region)
    expected = await report(engine, region)
    settings = ApiSettings(
        environment="test", database=database_settings, kafka=kafka_settings, redis=redis_settings
    )
    analyst = await headers_for(engine, AccountRole.ANALYST)
    dispatcher = await headers_for(engine, AccountRole.DISPATCHER, regions=[region])
    path = f"/api/v1/reports/regions?from={DAY}&to={DAY}&region={region}"
    async with api_client(settings) as api:
        shown = await api.get(path, headers=analyst)
        as_csv = await api.get(f"{path}&format=csv", headers=analyst)
        refused = await api.get(path, headers=dispatcher)
        inside_out = await api.get(f"{path.replace(f'to={DAY}', 'to=2026-01-01')}", headers=analyst)

    assert shown.status_code == 200, shown.text
    [row] = shown.json()
    assert (row["incidents_opened"], row["offers_sent"], row["deployments"]) == (1, 1, 1)
    assert row["registered_volunteers"] == expected.registered_volunteers == 2
    assert row["active_share"] == pytest.approx(expected.active_share)
    assert str(volunteer) not in shown.text, "counts only, nobody named"
    lines = as_csv.text.strip().splitlines()
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert lines[0].startswith("first_day,last_day,region_code") and len(lines) == 2
    assert f"{DAY},{DAY},{region}," in lines[1]
    assert refused.status_code == 403
    assert inside_out.status_code == 400 and "before it starts" in inside_out.text


async def test_an_analyst_reads_the_report_in_the_console_in_russian(
    registry: RegistryService,
    send: Send,
    engine: AsyncEngine,
    region: str,
    database_settings: DatabaseSettings,
    kafka_settings: KafkaSettings,
    redis_settings: RedisSettings,
    screenshots: Path,
) -> None:
    """An analyst signs in to the console and lands on the report: the day of the flood, the
    test region's line counts it, half its registered volunteers were active; CSV to download."""
    await _one_flood_recorded(send, engine, region)
    username = f"analyst-{new_run()}"
    await headers_for(engine, AccountRole.ANALYST, regions=["KZ-39"], username=username)
    settings = ApiSettings(
        environment="test", database=database_settings, kafka=kafka_settings, redis=redis_settings
    )
    async with served_api(create_app(settings)) as url, async_playwright() as playwright:
        browser = await chromium(playwright)
        try:
            page = await console_page(browser, url, "ru", username)
            await expect(page.locator("#panel h2")).to_have_text("Отчёты", timeout=10_000)
            # The console names the reader's role, not a dispatcher's.
            await expect(page.locator("header h1")).to_have_text("Jedel: аналитик")
            await expect(page).to_have_title("Jedel: аналитик")
            await page.get_by_label("С", exact=True).fill(DAY.isoformat())
            await page.get_by_label("По", exact=True).fill(DAY.isoformat())
            await page.locator("#report-show").click()
            line = page.locator(f'#report tr[data-region="{region}"]')
            await expect(line).to_contain_text("Тест1", timeout=10_000)  # named in Russian
            cells = await line.locator("td").all_inner_texts()
            assert cells[:3] == ["1", "1", "1"], cells  # incidents, offers, deployments
            assert cells[-1] == "50.0 %"
            href = await page.locator("#report-csv").get_attribute("href")
            assert href == f"/api/v1/reports/regions?from={DAY}&to={DAY}&format=csv"
            await page.screenshot(path=str(screenshots / "console-report-ru.png"))
        finally:
            await browser.close()
