"""Records → activity-log entries: everything readable is kept, the unreadable refused."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from services.registry.entries import (
    Entry,
    IncidentSnapshot,
    Stamp,
    decode,
    latest_snapshots,
)
from shared.consumer import Position
from shared.events.incidents import (
    AlertStatus,
    IncidentCancelled,
    IncidentOpened,
    IncidentSource,
    IncidentStatus,
    IncidentType,
    Priority,
)
from shared.events.mobilization import OfferAccepted, RespondToOffer, VolunteerOffered
from shared.events.volunteers import Role
from shared.rejections import Rejected

WHERE = Position("mobilization.v1", 1, 42, b"key")
NOW = datetime(2026, 4, 2, 4, 0, tzinfo=UTC)


def opened(**overrides: object) -> IncidentOpened:
    fields: dict[str, object] = {
        "incident_id": uuid4(),
        "occurred_at": NOW,
        "type": IncidentType.FLOOD,
        "priority": Priority.HIGH,
        "status": IncidentStatus.OPEN,
        "alert_status": AlertStatus.ACTUAL,
        "is_exercise": False,
        "source": IncidentSource.CAP,
        "area": {"type": "MultiPolygon", "coordinates": []},
        "area_km2": 12.5,
        "center_lon": 63.6,
        "center_lat": 53.2,
        "region_codes": ("KZ-39", "KZ-35"),
        "opened_at": NOW,
    }
    fields.update(overrides)
    return IncidentOpened.model_validate(fields)


def test_an_accepted_offer_becomes_an_entry_with_who_and_what() -> None:
    event = OfferAccepted(
        incident_id=uuid4(), offer_id=uuid4(), volunteer_id=uuid4(), role=Role.MEDIC, eta_s=600
    )
    entry = decode(event.model_dump_json().encode(), headers={}, position=WHERE)
    assert (entry.event_id, entry.kind, entry.incident_id) == (
        event.event_id,
        "OfferAccepted",
        event.incident_id,
    )
    assert (entry.offer_id, entry.volunteer_id, entry.role) == (
        event.offer_id,
        event.volunteer_id,
        "medic",
    )
    assert (entry.topic, entry.partition, entry.offset) == ("mobilization.v1", 1, 42)
    assert entry.region_code is None and entry.is_exercise is None
    assert entry.payload == json.loads(event.model_dump_json())


def test_an_incident_stamps_itself_and_describes_the_incident() -> None:
    event = opened(is_exercise=True)
    entry = decode(event.model_dump_json().encode(), headers={}, position=WHERE)
    assert (entry.region_code, entry.is_exercise) == ("KZ-39", True)
    assert entry.incident is not None
    assert (entry.incident.type, entry.incident.status, entry.incident.closed_at) == (
        "flood",
        "open",
        None,
    )


def test_a_cancelled_incident_is_closed_when_the_event_occurred() -> None:
    fields = opened().model_dump(exclude={"kind"})
    fields.update(status=IncidentStatus.CANCELLED, version=2, occurred_at=NOW + timedelta(hours=5))
    event = IncidentCancelled.model_validate(fields)
    entry = decode(event.model_dump_json().encode(), headers={}, position=WHERE)
    assert entry.incident is not None
    assert entry.incident.closed_at == NOW + timedelta(hours=5)


def test_an_offer_knows_by_itself_whether_it_is_a_drill() -> None:
    event = VolunteerOffered(
        incident_id=uuid4(),
        offer_id=uuid4(),
        volunteer_id=uuid4(),
        role=Role.SEARCHER,
        wave=1,
        eta_s=300,
        distance_m=2000,
        expires_at=NOW,
        language="ru",
        contact_phone="+77011234567",
        incident_type=IncidentType.MISSING_PERSON,
        priority=Priority.CRITICAL,
        is_exercise=True,
    )
    entry = decode(event.model_dump_json().encode(), headers={}, position=WHERE)
    assert entry.is_exercise is True
    assert entry.stamped(Stamp("KZ-75", False)).is_exercise is True, "the event's own word wins"


def test_a_stamp_fills_only_what_the_event_did_not_say() -> None:
    answer = RespondToOffer(
        incident_id=uuid4(), offer_id=uuid4(), volunteer_id=uuid4(), answer="accept"
    )
    entry = decode(answer.model_dump_json().encode(), headers={}, position=WHERE)
    stamped = entry.stamped(Stamp("KZ-75", False))
    assert (stamped.region_code, stamped.is_exercise) == ("KZ-75", False)
    assert entry.stamped(None) == entry


def test_an_unknown_kind_is_kept_with_its_envelope_and_the_header_kind() -> None:
    incident_id, volunteer_id = uuid4(), uuid4()
    payload = {
        "event_id": str(uuid4()),
        "occurred_at": "2026-04-02T10:00:00+05:00",
        "incident_id": str(incident_id),
        "volunteer_id": str(volunteer_id),
        "offer_id": "not-a-uuid",
        "sector": "B-4",
    }
    entry = decode(
        json.dumps(payload).encode(), headers={"event_type": "SectorSearched"}, position=WHERE
    )
    assert (entry.kind, entry.incident_id, entry.volunteer_id) == (
        "SectorSearched",
        incident_id,
        volunteer_id,
    )
    assert entry.offer_id is None, "what cannot be read is left out, not guessed"
    assert entry.payload == payload


def test_a_known_kind_breaking_its_contract_is_still_recorded_from_its_envelope() -> None:
    event = OfferAccepted(
        incident_id=uuid4(), offer_id=uuid4(), volunteer_id=uuid4(), role=Role.MEDIC, eta_s=60
    )
    payload = json.loads(event.model_dump_json())
    payload["role"] = "beekeeper"  # a role a newer producer knows and this registry does not
    del payload["eta_s"]
    entry = decode(json.dumps(payload).encode(), headers={}, position=WHERE)
    assert (entry.kind, entry.event_id, entry.volunteer_id, entry.offer_id, entry.role) == (
        "OfferAccepted",
        event.event_id,
        event.volunteer_id,
        event.offer_id,
        "beekeeper",
    )
    assert entry.payload == payload


def test_a_naive_time_is_read_as_utc() -> None:
    payload = {
        "kind": "Something",
        "event_id": str(uuid4()),
        "occurred_at": "2026-04-02T04:00:00",
        "incident_id": str(uuid4()),
    }
    assert decode(json.dumps(payload).encode(), headers={}, position=WHERE).occurred_at == NOW


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (b"not json", "invalid_json"),
        (b"\xff\xfe", "invalid_json"),
        (b"[1, 2]", "invalid_json"),
        (b'{"kind": "X", "n": NaN}', "invalid_json"),
        (b'{"kind": "X", "n": 1e400}', "invalid_json"),
        (b'{"kind": "X", "text": "a\\u0000b"}', "invalid_json"),
        (b'{"kind": "X", "text": "\\ud800"}', "invalid_json"),
        (b"[" * 100_000 + b"]" * 100_000, "invalid_json"),
        (b'{"event_id": "4b1c3f0e-5f7e-4c55-9a43-2f0e8d1f3b11"}', "no_kind"),
        (b'{"kind": "' + b"K" * 101 + b'"}', "no_kind"),
        (b'{"kind": "OfferAccepted", "event_id": "4b1c3f0e-5f7e-4c55-9a43-2f0e8d1f3b11"}', "not_an_event"),
        (b'{"kind": "SectorSearched", "event_id": "4b1c3f0e-5f7e-4c55-9a43-2f0e8d1f3b11"}', "not_an_event"),
    ],
)  # fmt: skip
def test_what_cannot_be_recorded_is_refused_with_a_reason(value: bytes, code: str) -> None:
    with pytest.raises(Rejected) as refused:
        decode(value, headers={}, position=WHERE)
    assert refused.value.code == code
    assert refused.value.reason


def snapshot(
    version: int, *, closed_at: datetime | None = None, minutes: int = 0
) -> IncidentSnapshot:
    incident = opened()
    return IncidentSnapshot(
        incident_id=incident.incident_id,
        region_code="KZ-39",
        region_codes=("KZ-39",),
        type="flood",
        is_exercise=False,
        status="open" if closed_at is None else "expired",
        opened_at=NOW,
        closed_at=closed_at,
        version=version,
        updated_at=NOW + timedelta(minutes=minutes),
    )


def test_one_snapshot_per_incident_the_newest_closed_at_its_first_close() -> None:
    first = snapshot(1)
    closed_early = replace(
        snapshot(2, closed_at=NOW + timedelta(hours=1)), incident_id=first.incident_id
    )
    closed_late = replace(
        snapshot(3, closed_at=NOW + timedelta(hours=2)), incident_id=first.incident_id
    )
    other = snapshot(1)
    latest = {s.incident_id: s for s in latest_snapshots([closed_late, first, closed_early, other])}
    assert latest[first.incident_id].version == 3
    assert latest[first.incident_id].closed_at == NOW + timedelta(hours=1)
    assert latest[other.incident_id] == other


def test_an_entry_becomes_a_row_of_the_log() -> None:
    entry = Entry(
        event_id=uuid4(),
        kind="OfferTimedOut",
        occurred_at=NOW,
        incident_id=uuid4(),
        payload={"kind": "OfferTimedOut"},
        topic="mobilization.v1",
        partition=0,
        offset=7,
    )
    row = entry.as_row()
    assert set(row) == {
        "event_id", "kind", "occurred_at", "incident_id", "offer_id", "volunteer_id", "role",
        "region_code", "is_exercise", "topic", "partition", "offset", "payload",
    }  # fmt: skip
    assert row["offset"] == 7
