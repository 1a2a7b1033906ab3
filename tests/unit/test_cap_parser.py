import codecs
import math
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from lxml import etree

from services.intake.cap import MAX_CAP_BYTES, MAX_CAP_SHAPES, CapAlert, parse_cap, validate_only
from services.intake.cap.parser import (
    _PARSER,
    MAX_CAP_AREAS,
    MAX_CAP_POINTS,
    MAX_CAP_REFERENCES,
    MAX_KEY_CHARS,
    MAX_LINE_CHARS,
    MAX_PROSE_CHARS,
    _refuse_dtd_in_tree,
)
from shared.geo import MAX_POLYGON_POINTS, geodesic_area_km2
from shared.rejections import Rejected

FIXTURES = Path(__file__).parents[1] / "fixtures" / "cap"
ALMATY_TIME = timezone(timedelta(hours=5))
CAP12 = "urn:oasis:names:tc:emergency:cap:1.2"
CAP11 = "urn:oasis:names:tc:emergency:cap:1.1"


def read(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parse(name: str) -> CapAlert:
    return parse_cap(read(name))


def cap_message(
    *,
    namespace: str = CAP12,
    sent: str = "2026-04-02T06:15:00+05:00",
    references: str | None = None,
    info: str = "",
) -> bytes:
    references_xml = f"<references>{references}</references>" if references else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="{namespace}">
  <identifier>KZ-TEST-1</identifier>
  <sender>cap@emer.gov.kz</sender>
  <sent>{sent}</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  {references_xml}
  {info}
</alert>""".encode()


def info_with_area(area_xml: str, *, language: str = "<language>ru-RU</language>") -> str:
    return f"""<info>{language}<category>Met</category><event>Паводок</event>
      <urgency>Expected</urgency><severity>Severe</severity><certainty>Likely</certainty>
      <area>{area_xml}</area></info>"""


def rejection(data: bytes, **kwargs: int) -> Rejected:
    with pytest.raises(Rejected) as caught:
        parse_cap(data, **kwargs)
    return caught.value


# --- what a good message becomes ---------------------------------------------------------------


def test_flood_alert_keeps_its_header() -> None:
    alert = parse("flood_kostanay_12.xml")

    assert alert.version == "1.2"
    assert alert.identifier == "KZ-TZhM-KST-2026-0402-001"
    assert alert.sender == "cap@emer.gov.kz"
    assert alert.sent == datetime(2026, 4, 2, 6, 15, tzinfo=ALMATY_TIME)
    assert (alert.status, alert.msg_type, alert.scope) == ("Actual", "Alert", "Public")
    assert alert.source == "ДЧС Костанайской области"
    assert alert.note is None
    assert alert.references == ()
    assert alert.incidents == ("KST-2026-FLOOD-TOBOL",)
    assert alert.key == (alert.sender, alert.identifier, alert.sent)


def test_every_language_block_is_kept_in_order() -> None:
    alert = parse("flood_kostanay_12.xml")

    assert [info.language for info in alert.infos] == ["kk-KZ", "ru-RU", "en-US"]
    assert [info.event for info in alert.infos] == ["Су тасқыны", "Паводок", "Flood"]


def test_info_fields_are_read() -> None:
    info = parse("flood_kostanay_12.xml").infos[2]

    assert info.categories == ("Met",)
    assert (info.urgency, info.severity, info.certainty) == ("Expected", "Severe", "Likely")
    assert info.event_codes == (("JEDEL", "flood"),)
    assert info.headline == "Flood threat on the Tobol river: Kostanay city"
    assert info.instruction is not None
    assert info.instruction.startswith("Be ready to evacuate")
    assert info.web == "https://jedel.example/alerts/KZ-TZhM-KST-2026-0402-001"
    assert info.contact == "112"
    assert info.effective == datetime(2026, 4, 2, 6, 15, tzinfo=ALMATY_TIME)
    assert info.onset == datetime(2026, 4, 2, 18, 0, tzinfo=ALMATY_TIME)
    assert info.expires == datetime(2026, 4, 5, 18, 0, tzinfo=ALMATY_TIME)
    assert info.areas[0].geocodes == (("ISO3166-2", "KZ-39"),)


def test_absent_optional_fields_are_none() -> None:
    info = parse("blizzard_geocode_12.xml").infos[2]

    assert info.description is None
    assert info.instruction is None
    assert info.web is None
    assert info.sender_name is None
    assert info.effective is None


def test_language_defaults_to_en_us() -> None:
    alert = parse_cap(cap_message(info=info_with_area("<areaDesc>x</areaDesc>", language="")))

    assert alert.infos[0].language == "en-US"


def test_polygon_points_are_read_as_lat_lon() -> None:
    geometry = parse("flood_kostanay_12.xml").infos[0].areas[0].geometry

    assert geometry is not None
    min_lon, min_lat, max_lon, max_lat = geometry.bounds
    assert (min_lon, max_lon) == (63.50, 63.73)  # Kostanay is at 63.6 E
    assert (min_lat, max_lat) == (53.05, 53.40)  # and 53.2 N


def test_flood_polygon_area_is_plausible() -> None:
    geometry = parse("flood_kostanay_12.xml").infos[0].areas[0].geometry

    assert geometry is not None
    assert 350 < geodesic_area_km2(geometry) < 420  # ~39 km of floodplain, 10-14 km wide


def test_circle_area_is_pi_r_squared_within_one_percent() -> None:
    geometry = parse("steppe_fire_11.xml").infos[0].areas[0].geometry

    assert geometry is not None
    assert geodesic_area_km2(geometry) == pytest.approx(math.pi * 15**2, rel=0.01)
    assert geometry.centroid.x == pytest.approx(57.16, abs=0.01)


def test_radius_zero_circle_is_a_point_alert() -> None:
    area = "<areaDesc>точка</areaDesc><circle>50.28,57.16 0</circle>"

    geometry = parse_cap(cap_message(info=info_with_area(area))).infos[0].areas[0].geometry

    assert geometry is not None
    assert geodesic_area_km2(geometry) == pytest.approx(math.pi * 0.1**2, rel=0.01)


def test_all_polygons_and_circles_of_an_area_are_merged() -> None:
    area = parse("flood_update_12.xml").infos[0].areas[0]
    original = parse("flood_kostanay_12.xml").infos[0].areas[0]

    assert area.geometry is not None
    assert original.geometry is not None
    assert area.geometry.is_valid
    assert geodesic_area_km2(area.geometry) > geodesic_area_km2(original.geometry) + 20


def test_polygon_and_circle_in_one_area_become_one_multipolygon() -> None:
    area = (
        "<areaDesc>two places</areaDesc>"
        "<polygon>53.10,63.50 53.10,63.70 53.30,63.70 53.30,63.50 53.10,63.50</polygon>"
        "<circle>50.28,57.16 15</circle>"
    )

    geometry = parse_cap(cap_message(info=info_with_area(area))).infos[0].areas[0].geometry

    assert geometry is not None
    assert geometry.geom_type == "MultiPolygon"
    assert len(geometry.geoms) == 2


def test_geocode_only_area_has_no_geometry() -> None:
    area = parse("blizzard_geocode_12.xml").infos[0].areas[0]

    assert area.description == "Ақмола облысы"
    assert area.geometry is None
    assert area.geocodes == (("ISO3166-2", "KZ-11"),)


def test_cap11_and_cap12_namespaces_both_parse() -> None:
    assert parse("steppe_fire_11.xml").version == "1.1"
    assert parse("flood_kostanay_12.xml").version == "1.2"


def test_datetimes_keep_their_offset() -> None:
    alert = parse("steppe_fire_11.xml")

    assert alert.sent.utcoffset() == timedelta(hours=5)
    assert alert.sent == datetime(2026, 7, 18, 9, 5, tzinfo=UTC)


def test_update_references_the_original_alert() -> None:
    original = parse("flood_kostanay_12.xml")
    update = parse("flood_update_12.xml")

    assert update.msg_type == "Update"
    assert [reference.key for reference in update.references] == [original.key]


def test_cancel_references_every_earlier_message() -> None:
    cancel = parse("flood_cancel_12.xml")
    keys = {parse("flood_kostanay_12.xml").key, parse("flood_update_12.xml").key}

    assert cancel.msg_type == "Cancel"
    assert cancel.infos == ()
    assert {reference.key for reference in cancel.references} == keys


def test_exercise_status_is_kept() -> None:
    alert = parse("exercise_12.xml")

    assert alert.status == "Exercise"
    assert alert.note is not None


def test_alert_is_immutable() -> None:
    alert = parse("flood_kostanay_12.xml")

    with pytest.raises(AttributeError):
        alert.identifier = "changed"  # type: ignore[misc]


def test_a_utf8_byte_order_mark_is_accepted() -> None:
    assert parse_cap(b"\xef\xbb\xbf" + read("flood_kostanay_12.xml")).identifier


# --- what is refused, and why ------------------------------------------------------------------

HOSTILE = [
    ("malformed.xml", "malformed_xml"),
    ("schema_violation.xml", "schema_violation"),
    ("billion_laughs.xml", "forbidden_dtd"),
    ("external_entity.xml", "forbidden_dtd"),
    ("open_polygon.xml", "bad_polygon"),
    ("self_intersecting.xml", "bad_polygon"),
    ("negative_radius.xml", "bad_circle"),
    ("not_cap.xml", "not_cap"),
]


@pytest.mark.parametrize(("name", "code"), HOSTILE)
def test_hostile_message_is_refused_quickly_with_its_code(name: str, code: str) -> None:
    data = read(f"hostile/{name}")
    parse_cap(read("flood_kostanay_12.xml"))  # schemas loaded, so only the refusal is timed

    started = time.perf_counter()
    refused = rejection(data)
    elapsed_s = time.perf_counter() - started

    assert refused.code == code
    assert refused.reason
    assert elapsed_s < 0.1


def test_billion_laughs_is_refused_without_expanding() -> None:
    started = time.perf_counter()
    refused = rejection(read("hostile/billion_laughs.xml"))

    assert refused.code == "forbidden_dtd"
    assert "<!DOCTYPE" in refused.reason
    assert "lol" not in refused.reason
    assert time.perf_counter() - started < 0.01


def test_quadratic_blowup_is_refused_without_expanding() -> None:
    blob = "x" * 50_000
    data = (
        f'<?xml version="1.0"?><!DOCTYPE alert [<!ENTITY a "{blob}">]>'
        f'<alert xmlns="{CAP12}"><identifier>{"&a;" * 20_000}</identifier></alert>'
    ).encode()

    assert rejection(data).code == "forbidden_dtd"


def test_external_entity_is_never_read() -> None:
    refused = rejection(read("hostile/external_entity.xml"))

    assert refused.code == "forbidden_dtd"
    assert "root:" not in refused.reason


def test_external_dtd_is_refused() -> None:
    data = read("flood_kostanay_12.xml").replace(
        b"<alert ", b'<!DOCTYPE alert SYSTEM "http://attacker.example/cap.dtd">\n<alert ', 1
    )

    assert rejection(data).code == "forbidden_dtd"


def test_entity_declaration_without_doctype_is_refused() -> None:
    data = read("flood_kostanay_12.xml").replace(b"<source>", b"<source><!ENTITY x 'y'>")

    assert rejection(data).code == "forbidden_dtd"


def test_dtd_that_slipped_past_the_byte_scan_is_still_refused() -> None:
    root = etree.fromstring(b'<!DOCTYPE alert [<!ENTITY x "y">]><alert>&x;</alert>', _PARSER)

    with pytest.raises(Rejected) as caught:
        _refuse_dtd_in_tree(root)
    assert caught.value.code == "forbidden_dtd"


def test_doctype_in_utf16_cannot_sneak_past_the_scan() -> None:
    data = read("hostile/billion_laughs.xml").decode().replace("UTF-8", "UTF-16").encode("utf-16")

    assert rejection(data).code == "forbidden_dtd"


@pytest.mark.parametrize("codec", ["windows-1251", "koi8-r", "utf-16", "utf-32", "iso-8859-5"])
def test_doctype_in_any_declared_encoding_is_refused(codec: str) -> None:
    text = read("hostile/billion_laughs.xml").decode().replace("UTF-8", codec)

    assert rejection(text.encode(codec)).code == "forbidden_dtd"


@pytest.mark.parametrize("codec", ["windows-1251", "koi8-r", "iso-8859-5", "utf-16", "utf-16-be"])
def test_cyrillic_alert_reads_the_same_in_any_declared_encoding(codec: str) -> None:
    # Russian: the one-byte Cyrillic code pages have no Kazakh letters such as ө or қ.
    original = read("encodings/wind_kostanay_ru_utf8.xml")
    declared = "utf-16" if codec.startswith("utf-16") else codec
    text = original.decode().replace('encoding="UTF-8"', f'encoding="{declared}"')
    bom = codecs.BOM_UTF16_BE if codec == "utf-16-be" else b""

    alert = parse_cap(bom + text.encode(codec))

    assert alert == parse_cap(original)


def test_utf8_byte_order_mark_is_read() -> None:
    original = read("steppe_fire_11.xml")

    assert parse_cap(codecs.BOM_UTF8 + original) == parse_cap(original)


def test_oversized_message_is_refused_before_parsing() -> None:
    data = b"<" * (MAX_CAP_BYTES + 1)  # not even XML: a parser would say malformed

    refused = rejection(data)

    assert refused.code == "too_large"
    assert "1,048,577 bytes" in refused.reason


def test_size_limit_can_be_lowered() -> None:
    data = read("flood_kostanay_12.xml")

    assert rejection(data, max_bytes=1000).code == "too_large"
    assert parse_cap(data, max_bytes=len(data)).identifier


def test_undeclared_message_that_is_not_utf8_is_refused() -> None:
    text = read("steppe_fire_11.xml").decode().replace(' encoding="UTF-8"', "")

    refused = rejection(text.encode("cp1251", errors="replace"))

    assert refused.code == "bad_encoding"
    assert "not valid UTF-8" in refused.reason
    assert "declare its encoding" in refused.reason


def test_declared_utf8_message_that_is_not_utf8_is_refused() -> None:
    data = read("flood_kostanay_12.xml").decode().encode("cp1251", errors="replace")

    refused = rejection(data)

    assert refused.code == "bad_encoding"
    assert "not valid UTF-8" in refused.reason


def test_bytes_invalid_in_the_declared_encoding_are_refused() -> None:
    data = read("steppe_fire_11.xml").replace(b'encoding="UTF-8"', b'encoding="US-ASCII"')
    shift_jis = read("steppe_fire_11.xml").replace(b'encoding="UTF-8"', b'encoding="Shift_JIS"')

    assert rejection(shift_jis + b"\x81").code == "bad_encoding"
    assert parse_cap(data) == parse_cap(read("steppe_fire_11.xml"))  # ASCII is read as UTF-8


@pytest.mark.parametrize(
    ("declared", "says"),
    [
        ("x-klingon", "not one this service can read"),
        ("rot13", "not a character encoding"),
        ("unicode_escape", "not a character encoding"),
        ("punycode", "not a character encoding"),
    ],
)
def test_unknown_or_non_character_encodings_are_refused(declared: str, says: str) -> None:
    data = read("steppe_fire_11.xml").replace(
        b'encoding="UTF-8"', f'encoding="{declared}"'.encode()
    )

    refused = rejection(data)

    assert refused.code == "bad_encoding"
    assert says in refused.reason
    assert declared in refused.reason


def test_byte_order_mark_that_contradicts_the_prolog_is_refused() -> None:
    text = (
        read("steppe_fire_11.xml").decode().replace('encoding="UTF-8"', 'encoding="windows-1251"')
    )

    refused = rejection(text.encode("utf-16"))

    assert refused.code == "bad_encoding"
    assert "UTF-16-LE" in refused.reason


def test_too_many_shapes_are_refused_before_any_is_built() -> None:
    circles = "".join(f"<circle>50.{n:04d},57.16 5</circle>" for n in range(MAX_CAP_SHAPES + 1))
    data = cap_message(info=info_with_area(f"<areaDesc>many</areaDesc>{circles}"))

    started = time.perf_counter()
    refused = rejection(data)

    assert refused.code == "too_complex"
    assert time.perf_counter() - started < 0.1


def test_shapes_repeated_in_each_language_count_once() -> None:
    circles = "".join(f"<circle>50.{n:04d},57.16 5</circle>" for n in range(MAX_CAP_SHAPES // 2))
    info = info_with_area(f"<areaDesc>many</areaDesc>{circles}")

    alert = parse_cap(cap_message(info=info * 3))

    assert len(alert.infos) == 3
    assert alert.infos[0].areas[0].geometry == alert.infos[2].areas[0].geometry


def test_deep_nesting_is_refused_by_the_parser_limits() -> None:
    assert rejection(b"<a>" * 10_000 + b"</a>" * 10_000).code == "malformed_xml"


def test_empty_message_is_malformed() -> None:
    assert rejection(b"").code == "malformed_xml"


def test_malformed_xml_reason_names_the_line() -> None:
    refused = rejection(read("hostile/malformed.xml"))

    assert "line 12" in refused.reason
    assert "<string>" not in refused.reason


def test_schema_violation_names_the_line_and_the_missing_element() -> None:
    refused = rejection(read("hostile/schema_violation.xml"))

    assert refused.reason.startswith("line 5:")
    assert "Expected is ( sender )" in refused.reason


def test_schema_violation_reason_is_trimmed() -> None:
    bad_info = "<info><category>Weather</category></info>" * 50

    refused = rejection(cap_message(info=bad_info))

    assert refused.code == "schema_violation"
    assert len(refused.reason) <= 300


def test_cap11_schema_is_applied_to_cap11_messages() -> None:
    data = read("steppe_fire_11.xml").replace(b"<responseType>Prepare", b"<responseType>AllClear")

    refused = rejection(data)  # AllClear only arrived in CAP 1.2

    assert refused.code == "schema_violation"
    assert "AllClear" in refused.reason


def test_not_cap_reason_names_the_root_element_found() -> None:
    refused = rejection(read("hostile/not_cap.xml"))

    assert "{http://www.w3.org/2005/Atom}feed" in refused.reason


def test_cap10_is_not_cap() -> None:
    refused = rejection(cap_message(namespace="http://www.incident.com/cap/1.0"))

    assert refused.code == "not_cap"


def test_alert_outside_any_namespace_is_not_cap() -> None:
    refused = rejection(b"<alert><identifier>x</identifier></alert>")

    assert refused.code == "not_cap"


def test_bad_polygon_reason_names_the_area() -> None:
    refused = rejection(read("hostile/open_polygon.xml"))

    assert "г. Костанай, пойма реки Тобол" in refused.reason
    assert "does not close" in refused.reason


def test_self_intersecting_polygon_is_refused_naming_the_problem() -> None:
    refused = rejection(read("hostile/self_intersecting.xml"))

    assert "Self-intersection" in refused.reason


@pytest.mark.parametrize(
    "references",
    [
        "cap@emer.gov.kz,KZ-1",
        "cap@emer.gov.kz,,2026-04-02T06:15:00+05:00",
        "cap@emer.gov.kz,KZ-1,yesterday",
        "cap@emer.gov.kz,KZ-1,2026-04-02T06:15:00",
    ],
)
def test_unparsable_reference_is_refused(references: str) -> None:
    refused = rejection(cap_message(references=references))

    assert refused.code == "bad_reference"
    assert references.split(",")[0] in refused.reason


def test_cap11_sent_without_offset_is_refused() -> None:
    refused = rejection(cap_message(namespace=CAP11, sent="2026-04-02T06:15:00"))

    assert refused.code == "bad_datetime"
    assert "no UTC offset" in refused.reason


def test_cap12_sent_in_z_form_breaks_the_schema() -> None:
    assert rejection(cap_message(sent="2026-04-02T01:15:00Z")).code == "schema_violation"


# --- the bare validation path ------------------------------------------------------------------


def test_validate_only_accepts_every_good_fixture() -> None:
    for path in FIXTURES.glob("*.xml"):
        validate_only(path.read_bytes())


@pytest.mark.parametrize(
    ("name", "code"),
    [(name, code) for name, code in HOSTILE if code not in {"bad_polygon", "bad_circle"}],
)
def test_validate_only_refuses_what_the_schema_or_safety_refuse(name: str, code: str) -> None:
    with pytest.raises(Rejected) as caught:
        validate_only(read(f"hostile/{name}"))
    assert caught.value.code == code


def test_validate_only_does_not_look_at_geometry() -> None:
    validate_only(read("hostile/open_polygon.xml"))


KOSTANAY_RING = "53.10,63.50 53.10,63.70 53.30,63.70 53.10,63.50"


def polygon_area(points: str) -> str:
    return f"<areaDesc>Костанай</areaDesc><polygon>{points}</polygon>"


def test_long_runs_of_whitespace_in_a_polygon_are_read() -> None:
    # 300,000 spaces: a backtracking tokeniser would take hours over this, a linear one a blink.
    spaced = " " * 300_000
    points = f"53.10{spaced},{spaced}63.50 53.10,63.70 53.30,63.70 53.10{spaced},63.50"

    alert = parse_cap(cap_message(info=info_with_area(polygon_area(points))))

    geometry = alert.infos[0].areas[0].geometry
    assert geometry is not None and geometry.bounds == pytest.approx((63.5, 53.1, 63.7, 53.3))


def test_a_polygon_with_too_many_points_is_too_complex() -> None:
    points = " ".join(["53.1,63.5"] * (MAX_POLYGON_POINTS + 1))

    refused = rejection(cap_message(info=info_with_area(polygon_area(points))))

    assert refused.code == "too_complex"
    assert "20,001 points; the limit is 20,000" in refused.reason


def test_too_many_points_across_polygons_are_too_complex() -> None:
    one = " ".join(f"53.{n:04d},63.5" for n in range(MAX_POLYGON_POINTS // 2))
    areas = "".join(
        f"<area><areaDesc>{n}</areaDesc><polygon>{one} {n}</polygon></area>"
        for n in range(MAX_CAP_POINTS // (MAX_POLYGON_POINTS // 2) + 1)
    )
    info = info_with_area("<areaDesc>x</areaDesc>").replace("<area>", areas + "<area>")

    refused = rejection(cap_message(info=info), max_bytes=4 * MAX_CAP_BYTES)

    assert refused.code == "too_complex"
    assert "polygon and circle points; the limit is 100,000" in refused.reason


def test_too_many_areas_are_too_complex() -> None:
    areas = "</area><area><areaDesc>Аркалык</areaDesc>" * MAX_CAP_AREAS

    refused = rejection(cap_message(info=info_with_area(f"<areaDesc>x</areaDesc>{areas}")))

    assert refused.code == "too_complex"
    assert "<area> blocks" in refused.reason


def test_an_identifier_too_long_to_be_one_is_refused() -> None:
    data = cap_message(info=info_with_area(polygon_area(KOSTANAY_RING))).replace(
        b"KZ-TEST-1", b"K" * (MAX_KEY_CHARS + 1)
    )

    refused = rejection(data)

    assert refused.code == "too_complex"
    assert "<identifier> is 257 characters" in refused.reason


def test_long_prose_is_cut_and_marked() -> None:
    long = "Вода прибывает. " * 10_000
    headline = "Ш" * 5000
    info = info_with_area(polygon_area(KOSTANAY_RING)).replace(
        "<area>", f"<headline>{headline}</headline><description>{long}</description><area>"
    )

    alert = parse_cap(cap_message(info=info))

    description, cut_headline = alert.infos[0].description, alert.infos[0].headline
    assert description is not None and len(description) == MAX_PROSE_CHARS
    assert description.startswith("Вода прибывает.") and description.endswith("…")
    assert cut_headline is not None and len(cut_headline) == MAX_LINE_CHARS


def test_too_many_references_are_too_complex() -> None:
    one = "cap@emer.gov.kz,KZ-TEST-0,2026-04-02T06:00:00+05:00"
    data = cap_message(references=" ".join([one] * (MAX_CAP_REFERENCES + 1)), info="")

    refused = rejection(data)

    assert refused.code == "too_complex"
    assert "names 101 messages; the limit is 100" in refused.reason
