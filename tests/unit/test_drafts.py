"""What an alert says an incident is: shape, regions, type, priority, expiry (pure)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.intake.cap import parse_cap
from services.intake.from_cap import draft_from_cap
from services.intake.from_report import draft_from_report, parse_report
from services.intake.regions import RegionIndex, normalize_region_code
from shared.events.incidents import AlertStatus, IncidentType, Priority
from shared.reference import load_regions
from shared.rejections import Rejected
from tests.factories import CAP, FLOOD_DAY, as_json, missing_person_report

REGIONS = RegionIndex(load_regions())


def draft(name: str, transform: bytes | None = None, replace: bytes | None = None):  # type: ignore[no-untyped-def]
    data = (CAP / name).read_bytes()
    if transform is not None and replace is not None:
        data = data.replace(transform, replace)
    return draft_from_cap(parse_cap(data), regions=REGIONS)


def test_flood_polygon_lies_in_kostanay_and_keeps_every_language() -> None:
    flood = draft("flood_kostanay_12.xml")
    assert flood.type is IncidentType.FLOOD
    assert flood.region_codes[0] == "KZ-39"
    assert [text.language for text in flood.texts] == ["kk", "ru", "en"]
    assert 63.4 < flood.center.x < 63.8
    assert 53.0 < flood.center.y < 53.5
    assert flood.area.contains(flood.center)


def test_areas_repeated_in_every_language_are_kept_once() -> None:
    flood = draft("flood_kostanay_12.xml")
    assert len(flood.parts) == 1


def test_region_geocode_becomes_the_whole_region() -> None:
    blizzard = draft("blizzard_geocode_12.xml")
    assert blizzard.region_codes == ("KZ-11",)
    akmola = next(region for region in load_regions() if region.code == "KZ-11")
    assert blizzard.area_km2 == pytest.approx(146_000, rel=0.05)
    assert blizzard.area.equals(akmola.boundary)


def test_unknown_region_code_is_refused_with_the_code_named() -> None:
    with pytest.raises(Rejected) as refused:
        draft("blizzard_geocode_12.xml", b"<value>KZ-11</value>", b"<value>KZ-99</value>")
    assert refused.value.code == "unknown_geocode"
    assert "KZ-99" in refused.value.reason


def test_geocodes_of_another_scheme_alone_cannot_place_an_alert() -> None:
    with pytest.raises(Rejected) as refused:
        draft(
            "blizzard_geocode_12.xml",
            b"<valueName>ISO3166-2</valueName>",
            b"<valueName>KATO</valueName>",
        )
    assert refused.value.code == "unknown_geocode"
    assert "KATO" in refused.value.reason


def test_expiry_is_the_latest_of_the_info_blocks() -> None:
    flood = draft("flood_kostanay_12.xml")
    assert flood.expires_at is not None
    assert not flood.is_expired(FLOOD_DAY)
    assert flood.is_expired(FLOOD_DAY + timedelta(days=4))


def test_exercise_is_a_drill_and_test_is_never_announced() -> None:
    exercise = draft("exercise_12.xml")
    assert exercise.alert_status is AlertStatus.EXERCISE
    assert exercise.is_exercise and exercise.announces
    test = draft("steppe_fire_11.xml", b"<status>Actual</status>", b"<status>Test</status>")
    assert not test.announces


@pytest.mark.parametrize("value", ["KZ-39", "kz-39", "KZ39", " KZ-39 "])
def test_region_codes_are_read_leniently(value: str) -> None:
    assert normalize_region_code(value) == "KZ-39"


def test_missing_child_is_critical_with_a_search_circle_around_last_seen() -> None:
    report = parse_report(as_json(missing_person_report()))
    missing = draft_from_report(report, regions=REGIONS)
    assert missing.type is IncidentType.MISSING_PERSON
    assert missing.priority is Priority.CRITICAL
    assert missing.region_codes[0] == "KZ-75"
    assert missing.area_km2 == pytest.approx(3.14159 * 3.0**2, rel=0.02)
    assert missing.subject is not None and missing.subject.category == "child"
    assert {text.language for text in missing.texts} == {"kk", "ru", "en"}


def test_an_adult_hiker_gets_a_wider_circle_and_high_priority() -> None:
    report = missing_person_report()
    report["person"] = {**report["person"], "age_years": 34, "category": "hiker"}
    missing = draft_from_report(parse_report(as_json(report)), regions=REGIONS)
    assert missing.priority is Priority.HIGH
    assert missing.area_km2 == pytest.approx(3.14159 * 10.0**2, rel=0.02)


@pytest.mark.parametrize(
    ("broken", "mentioned"),
    [
        ({"person": None}, "person"),
        ({"last_seen": {"latitude": 43.2, "longitude": 76.9}}, "last_seen.at"),
        ({"reported_at": "2026-04-02T06:30:00"}, "reported_at"),
        ({"contact_phone": "8 777 123 45 67"}, "contact_phone"),
        (
            {"last_seen": {"latitude": 10.0, "longitude": 76.9, "at": "2026-04-02T04:00:00+05:00"}},
            "latitude",
        ),
    ],
)
def test_incomplete_reports_are_refused_naming_the_field(
    broken: dict[str, object], mentioned: str
) -> None:
    with pytest.raises(Rejected) as refused:
        parse_report(as_json(missing_person_report(**broken)))
    assert refused.value.code == "invalid_report"
    assert mentioned in refused.value.reason


def test_a_report_that_is_not_json_is_refused() -> None:
    with pytest.raises(Rejected) as refused:
        parse_report(b"\xff\xfe not json")
    assert refused.value.code == "invalid_report"
