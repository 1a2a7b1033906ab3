"""What an alert says an incident is: shape, regions, type, priority, expiry (pure)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.intake.cap import CapAlert, parse_cap
from services.intake.draft import IncidentDraft
from services.intake.from_cap import draft_from_cap
from services.intake.from_report import draft_from_report, parse_report
from services.intake.gazetteer import Gazetteer
from services.intake.regions import RegionIndex, normalize_region_code
from shared.events.incidents import AlertStatus, IncidentType, Priority
from shared.geo import as_multipolygon, geodesic_area_km2, parse_cap_polygon
from shared.reference import load_regions
from shared.rejections import Rejected
from tests.factories import CAP, FLOOD_DAY, as_json, missing_person_report

REGIONS = RegionIndex(load_regions())
GAZETTEER = Gazetteer.default()


def draft(name: str, transform: bytes | None = None, replace: bytes | None = None):  # type: ignore[no-untyped-def]
    data = (CAP / name).read_bytes()
    if transform is not None and replace is not None:
        data = data.replace(transform, replace)
    return draft_from_cap(parse_cap(data), regions=REGIONS, gazetteer=GAZETTEER)


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


def test_unknown_region_code_beside_a_known_name_is_placed_by_the_name_and_flagged() -> None:
    blizzard = draft("blizzard_geocode_12.xml", b"<value>KZ-11</value>", b"<value>KZ-99</value>")

    assert blizzard.region_codes == ("KZ-11",)
    assert blizzard.area_to_confirm


def test_geocodes_of_an_unsourced_scheme_are_flagged_but_the_name_still_places_it() -> None:
    blizzard = draft(
        "blizzard_geocode_12.xml",
        b"<valueName>ISO3166-2</valueName>",
        b"<valueName>KATO</valueName>",
    )

    assert blizzard.region_codes == ("KZ-11",)
    assert blizzard.area_to_confirm  # no KATO table is vendored: the code is for a person to read


def named_area(area_xml: str, *, sender: str = "dchs-kostanay@emer.gov.kz") -> CapAlert:
    return parse_cap(
        f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>KZ-NAMED-1</identifier><sender>{sender}</sender>
  <sent>2026-04-02T06:15:00+05:00</sent><status>Actual</status><msgType>Alert</msgType>
  <scope>Public</scope>
  <info><language>ru-RU</language><category>Met</category><event>Паводок</event>
    <urgency>Immediate</urgency><severity>Severe</severity><certainty>Observed</certainty>
    {area_xml}
  </info>
</alert>""".encode()
    )


def by_name(area_xml: str, *, home: tuple[str, ...] | None = None) -> IncidentDraft:
    return draft_from_cap(
        named_area(area_xml), regions=REGIONS, gazetteer=GAZETTEER, home_regions=home
    )


@pytest.mark.parametrize(
    "name", ["Костанайская область", "Қостанай облысы", "Kostanay Region", "Qostanay oblysy"]
)
def test_a_region_named_in_kazakh_russian_or_english_is_the_whole_region(name: str) -> None:
    flood = by_name(f"<area><areaDesc>{name}</areaDesc></area>")

    assert flood.region_codes == ("KZ-39",)
    assert not flood.area_to_confirm
    assert flood.area_km2 == pytest.approx(196_000, rel=0.05)


def test_several_names_in_one_description_give_their_union() -> None:
    both = by_name(
        "<area><areaDesc>Костанайская область: г. Костанай, Костанайский и Мендыкаринский "
        "районы</areaDesc></area>"
    )
    one = by_name("<area><areaDesc>Мендыкаринский район Костанайской области</areaDesc></area>")

    assert not both.area_to_confirm and not one.area_to_confirm
    assert both.region_codes == ("KZ-39",)
    assert both.area.contains(one.area.buffer(-0.01))
    assert both.area_km2 > one.area_km2 * 1.5
    assert both.area_km2 < 40_000  # two districts and a city, not the whole region


def test_an_ambiguous_name_is_an_incident_to_confirm_at_the_senders_region() -> None:
    flood = by_name("<area><areaDesc>Костанай</areaDesc></area>", home=("KZ-39",))

    assert flood.area_to_confirm
    assert flood.region_codes == ("KZ-39",)
    assert flood.area_km2 == pytest.approx(196_000, rel=0.05)


def test_an_unknown_place_is_an_incident_to_confirm_at_the_senders_region() -> None:
    flood = by_name("<area><areaDesc>урочище Сорок Ключей</areaDesc></area>", home=("KZ-11",))

    assert flood.area_to_confirm
    assert flood.region_codes == ("KZ-11",)
    assert flood.parts[0].description == "урочище Сорок Ключей"  # the sender's words, to confirm


def test_an_ambiguous_name_from_a_national_sender_is_placed_where_it_could_be() -> None:
    flood = by_name("<area><areaDesc>Костанай</areaDesc></area>", home=None)

    assert flood.area_to_confirm
    assert flood.region_codes == ("KZ-39",)  # every place called Kostanay is in Kostanay Region


def test_an_unknown_place_from_a_national_sender_is_to_confirm_across_kazakhstan() -> None:
    flood = by_name("<area><areaDesc>урочище Сорок Ключей</areaDesc></area>", home=None)

    assert flood.area_to_confirm
    assert len(flood.region_codes) == 20
    assert not flood.outside_service_area


def test_an_alert_without_any_area_is_to_confirm_at_the_senders_region() -> None:
    flood = draft_from_cap(
        named_area(""), regions=REGIONS, gazetteer=GAZETTEER, home_regions=("KZ-39",)
    )

    assert flood.area_to_confirm
    assert flood.region_codes == ("KZ-39",)


def test_a_placed_name_and_an_unknown_one_keep_the_placed_area_and_flag_it() -> None:
    flood = by_name(
        "<area><areaDesc>Мендыкаринский район</areaDesc></area>"
        "<area><areaDesc>урочище Сорок Ключей</areaDesc></area>",
        home=("KZ-39",),
    )

    assert flood.area_to_confirm
    assert flood.area_km2 < 20_000  # the district only, not the whole region


def test_an_alert_wholly_outside_kazakhstan_is_outside_the_service_area() -> None:
    # Over Orenburg, Russia, across the border from Kostanay Region.
    outside = by_name(
        "<area><areaDesc>Оренбург</areaDesc>"
        "<polygon>51.70,55.00 51.70,55.30 51.90,55.30 51.90,55.00 51.70,55.00</polygon></area>"
    )

    assert outside.outside_service_area
    assert outside.region_codes == ()
    assert not outside.area_to_confirm
    assert outside.area_km2 == pytest.approx(460, rel=0.1)  # kept as sent, for the record


def test_an_alert_partly_inside_kazakhstan_is_clipped_to_it() -> None:
    # From Troitsk (Russia) south over the border into Kostanay Region.
    sent = "54.10,61.40 54.10,62.20 53.60,62.20 53.60,61.40 54.10,61.40"
    clipped = by_name(f"<area><areaDesc>граница</areaDesc><polygon>{sent}</polygon></area>")
    whole = geodesic_area_km2(as_multipolygon(parse_cap_polygon(sent)))

    assert not clipped.outside_service_area
    assert clipped.region_codes == ("KZ-39",)
    assert 0.05 * whole < clipped.area_km2 < 0.95 * whole
    kazakhstan = REGIONS.country
    assert kazakhstan.buffer(1e-6).contains(clipped.area)


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


def test_a_region_named_again_is_placed_as_it_was_the_first_time() -> None:
    # What was worked out for a named region is remembered (`from_cap._NamedShapes`): the second
    # alert must come out exactly as the first, and another region must not get the first's.
    first = by_name("<area><areaDesc>Костанайская область</areaDesc></area>")
    again = by_name("<area><areaDesc>Қостанай облысы</areaDesc></area>")
    other = by_name("<area><areaDesc>Акмолинская область</areaDesc></area>")

    assert (again.area_km2, again.center, again.region_codes) == (
        first.area_km2,
        first.center,
        first.region_codes,
    )
    assert again.area.equals(first.area)
    assert other.region_codes == ("KZ-11",)
    assert other.area_km2 != pytest.approx(first.area_km2, rel=0.01)
    assert not other.area.intersection(first.area).area > 0.01 * first.area.area


def test_an_unplaceable_alert_falls_back_to_the_same_home_regions_each_time() -> None:
    unknown = "<area><areaDesc>Нигде-не-найдётся</areaDesc></area>"
    first = by_name(unknown, home=("KZ-39", "KZ-11"))
    again = by_name(unknown, home=("KZ-39", "KZ-11"))
    only_one = by_name(unknown, home=("KZ-39",))

    assert first.area_to_confirm and again.area_to_confirm
    assert again.area.equals(first.area) and again.area_km2 == first.area_km2
    assert set(first.region_codes) == {"KZ-39", "KZ-11"}
    assert only_one.region_codes == ("KZ-39",)
    assert only_one.area_km2 < 0.7 * first.area_km2
