"""The event contracts as other teams see them: the published schema and the dead-letter headers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from shared.events.alerts import DeadLetter, MissingPersonReported
from shared.events.incidents import IncidentOpened
from tests.factories import as_json, missing_person_report

ROOT = Path(__file__).resolve().parents[2]


def test_published_missing_person_schema_matches_the_model() -> None:
    published = json.loads((ROOT / "infra/schemas/alerts.missing_person.v1.json").read_text())
    assert published == MissingPersonReported.model_json_schema(), (
        "regenerate infra/schemas/alerts.missing_person.v1.json from the model"
    )


def test_a_police_report_in_the_documented_shape_is_accepted() -> None:
    report = MissingPersonReported.model_validate_json(as_json(missing_person_report()))
    assert report.person.category == "child"
    assert report.last_seen.at.utcoffset() is not None


def test_dead_letter_headers_survive_the_wire_with_non_latin_reasons() -> None:
    letter = DeadLetter(
        code="invalid_report",
        reason="person.full_name: обязательное поле",
        source_topic="alerts.missing_person.v1",
        source_partition=2,
        source_offset=41,
        received_at=datetime(2026, 4, 2, 1, 0, tzinfo=UTC),
    )
    wire = {name: value.encode() for name, value in letter.to_headers().items()}
    assert DeadLetter.from_headers(wire) == letter


def test_consumers_ignore_fields_they_do_not_know() -> None:
    payload = {
        "incident_id": "6f1c1d1e-8b1a-4c3e-9a55-2f9d7d0c1a11",
        "type": "flood",
        "priority": "high",
        "status": "open",
        "alert_status": "Actual",
        "is_exercise": False,
        "source": "cap",
        "area": {"type": "MultiPolygon", "coordinates": []},
        "area_km2": 1.0,
        "center_lon": 63.6,
        "center_lat": 53.2,
        "region_codes": ["KZ-39"],
        "opened_at": "2026-04-02T01:15:00Z",
        "added_in_a_later_version": 42,
    }
    event = IncidentOpened.model_validate(payload)
    assert event.kind == "IncidentOpened"
    assert event.version == 1
