"""Test data: CAP fixtures made unique per test, missing-person reports, a settable clock."""

from __future__ import annotations

import contextlib
import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, Point, box
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from services.intake.tables import IncidentRow
from shared.events.incidents import IncidentFacts, IncidentType, Priority
from shared.events.mobilization import OfferStoodDown, StandDownReason, VolunteerOffered
from shared.events.volunteers import Role
from shared.reference import KAZAKHSTAN_TZ

FIXTURES = Path(__file__).parent / "fixtures"
CAP = FIXTURES / "cap"
HOSTILE = CAP / "hostile"
# The fixtures' alerts are live during this window (the flood expires on 2026-04-05 18:00).
FLOOD_DAY = datetime(2026, 4, 2, 7, 0, tzinfo=KAZAKHSTAN_TZ)


class FakeClock:
    def __init__(self, now: datetime = FLOOD_DAY) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta

    @contextlib.contextmanager
    def ahead(self, delta: timedelta) -> Iterator[None]:
        """`delta` later for the block, then back (tests that share the clock go on from there)."""
        self.advance(delta)
        try:
            yield
        finally:
            self.advance(-delta)


def cap(name: str, *, run: str) -> bytes:
    """A fixture whose identifiers (and the references between them) are unique to `run`."""
    return (CAP / name).read_bytes().replace(b"KZ-TZhM-", f"KZ-TZhM-{run}-".encode())


_STAMP = re.compile(rb"2026-\d\d-\d\dT\d\d:\d\d:\d\d\+05:00")


def cap_live(name: str, *, run: str, now: datetime) -> bytes:
    """`cap()` moved in time so that the fixture's FLOOD_DAY is `now`: live for a real clock."""
    shift = now - FLOOD_DAY

    def moved(match: re.Match[bytes]) -> bytes:
        stamp = datetime.fromisoformat(match.group().decode()) + shift
        return stamp.astimezone(KAZAKHSTAN_TZ).isoformat(timespec="seconds").encode()

    return _STAMP.sub(moved, cap(name, run=run))


def new_run() -> str:
    return uuid.uuid4().hex[:10]


def missing_person_report(**overrides: Any) -> dict[str, Any]:
    report: dict[str, Any] = {
        "report_id": f"POL-ALM-{new_run()}",
        "reported_at": "2026-04-02T06:30:00+05:00",
        "reporting_unit": "Almaty City Police Department",
        "contact_phone": "+77272540000",
        "language": "ru",
        "person": {
            "full_name": "Айгерім Нұрланқызы",
            "age_years": 7,
            "sex": "female",
            "category": "child",
            "description": "Рост 120 см, красная куртка",
        },
        "last_seen": {
            "latitude": 43.2389,
            "longitude": 76.8897,
            "at": "2026-04-02T04:00:00+05:00",
            "place": "Парк Горького, Алматы",
        },
    }
    for key, value in overrides.items():
        report[key] = value
    return report


def as_json(report: dict[str, Any]) -> bytes:
    return json.dumps(report, ensure_ascii=False).encode()


async def insert_volunteer(
    engine: AsyncEngine, name: str, *, phone_prefix: str = "+7707"
) -> uuid.UUID:
    """A volunteer in Kostanay (KZ-39, home at 63.6 53.2, by car, available) with a random phone."""
    volunteer_id = uuid.uuid4()
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO volunteers (id, full_name, phone, birth_date, languages, region_code,"
                " home, transport_mode, availability) VALUES (:id, :name, :phone, '1988-05-06',"
                " '{kk}', 'KZ-39', ST_GeogFromText('POINT(63.6 53.2)'), 'car', 'available')"
            ),
            {
                "id": volunteer_id,
                "name": name,
                "phone": f"{phone_prefix}{uuid.uuid4().int % 10**7:07d}",
            },
        )
    return volunteer_id


async def list_incident(
    engine: AsyncEngine, facts: IncidentFacts, *, half_side_deg: float = 0.05
) -> None:
    """Write an incident into the intake's table as the intake would (for tests that publish
    incident events straight to the mobilizer): its area a box around its centre."""
    area = MultiPolygon(
        [
            box(
                facts.center_lon - half_side_deg,
                facts.center_lat - half_side_deg,
                facts.center_lon + half_side_deg,
                facts.center_lat + half_side_deg,
            )
        ]
    )
    row = IncidentRow(
        id=facts.incident_id,
        type=facts.type.value,
        priority=facts.priority.value,
        status=facts.status.value,
        alert_status=facts.alert_status.value,
        is_exercise=facts.is_exercise,
        source=facts.source.value,
        severity=facts.severity,
        urgency=facts.urgency,
        certainty=facts.certainty,
        texts=[text.model_dump(mode="json") for text in facts.texts],
        area=from_shape(area, srid=4326),
        area_km2=facts.area_km2,
        center=from_shape(Point(facts.center_lon, facts.center_lat), srid=4326),
        region_codes=list(facts.region_codes),
        subject=None,
        opened_at=facts.opened_at,
        updated_at=facts.opened_at,
        expires_at=facts.expires_at,
        version=facts.version,
    )
    async with async_sessionmaker(engine)() as session, session.begin():
        session.add(row)


async def insert_mobilization(
    engine: AsyncEngine,
    *,
    region: str = "KZ-39",
    center: tuple[float, float] = (63.6, 53.2),
    needed: str = '{"medic": 1}',
) -> uuid.UUID:
    """An active mobilisation of a new incident (as the mobilizer would have started it): its
    group belongs to `region`, its meeting point is `center`."""
    incident, now = uuid.uuid4(), datetime.now(KAZAKHSTAN_TZ)
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO mobilizations (incident_id, status, playbook, incident_type, priority,"
                " is_exercise, center, region_code, needed, radius_m, wave, started_at,"
                " deadline_at, incident_version, offer_budget, offers_sent) VALUES (:i, 'active',"
                " 'test', 'flood', 'high', false,"
                " ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, :region,"
                " CAST(:needed AS jsonb), 5000, 1, :now, :deadline, 1, 12, 1)"
            ),
            {
                "i": incident,
                "lon": center[0],
                "lat": center[1],
                "region": region,
                "needed": needed,
                "now": now,
                "deadline": now + timedelta(hours=1),
            },
        )
    return incident


def a_phone() -> str:
    return f"+7701{uuid.uuid4().int % 10**7:07d}"


def an_offer(**overrides: Any) -> VolunteerOffered:
    """A medic's offer for a flood, open for half an hour, to a phone of its own."""
    values: dict[str, Any] = {
        "incident_id": uuid.uuid4(),
        "offer_id": uuid.uuid4(),
        "volunteer_id": uuid.uuid4(),
        "role": Role.MEDIC,
        "wave": 1,
        "eta_s": 700,
        "distance_m": 8_500,
        "expires_at": datetime.now(UTC) + timedelta(minutes=30),
        "language": "ru",
        "contact_phone": a_phone(),
        "incident_type": IncidentType.FLOOD,
        "priority": Priority.HIGH,
    }
    values.update(overrides)
    return VolunteerOffered.model_validate(values)


def stand_down_of(offer: VolunteerOffered) -> OfferStoodDown:
    """The offer's stand-down, the group being complete, in the offer's language."""
    return OfferStoodDown(
        incident_id=offer.incident_id,
        offer_id=offer.offer_id,
        volunteer_id=offer.volunteer_id,
        role=offer.role,
        reason=StandDownReason.GROUP_COMPLETE,
        language=offer.language,
        contact_phone=offer.contact_phone,
    )
