"""Real CAP from national services, and Jedel's own Kazakhstan alerts in legacy encodings.

Each file is listed by name with what a person reading the alert would notice, so an empty or
renamed folder fails here rather than passing silently. Provenance: fixtures/cap/thirdparty/NOTICE.
"""

from dataclasses import dataclass
from pathlib import Path

import pytest
from shapely.geometry import Point

from services.intake.cap import classify_alert, parse_cap
from shared.events.incidents import IncidentType

FIXTURES = Path(__file__).parents[1] / "fixtures" / "cap"
THIRD_PARTY = FIXTURES / "thirdparty"
ENCODINGS = FIXTURES / "encodings"


@dataclass(frozen=True)
class Expected:
    path: str
    version: str
    msg_type: str
    areas_per_info: tuple[int, ...]
    type: IncidentType


READABLE = [
    Expected("ims-israel/il-488abaaf-cad5-4d2b-93b2-703016878453.xml", "1.2", "Alert", (3, 3),
             IncidentType.FLOOD),
    Expected("smg-macao/mo-cap_monsoon.xml", "1.2", "Update", (1, 1, 1), IncidentType.WIND),
    Expected("meteo-france/multi-area.xml", "1.2", "Alert", (4, 4), IncidentType.THUNDERSTORM),
    Expected("inmet-brazil/polygon-trailing-space.xml", "1.2", "Alert", (1,), IncidentType.WIND),
    Expected("ntwc/tsunami.xml", "1.2", "Alert", (1,), IncidentType.FLOOD),
    Expected("nws/blizzard-warning-cap11.xml", "1.1", "Alert", (1,), IncidentType.BLIZZARD),
]  # fmt: skip

DEGENERATE_POLYGON = [
    Expected("dwd/dwd-update.xml", "1.2", "Update", (2,), IncidentType.THUNDERSTORM),
]
"""Real and schema-valid, with one area a 3-point polygon: a point written as a closed ring,
read as a small circle around it."""

LEGACY_ENCODINGS = [
    Expected("thirdparty/usgs/earthquake-iso8859-1.xml", "1.2", "Alert", (1,),
             IncidentType.EARTHQUAKE),
    Expected("encodings/wind_kostanay_ru_windows1251.xml", "1.2", "Alert", (1,), IncidentType.WIND),
    Expected("encodings/wind_kostanay_ru_koi8r.xml", "1.2", "Alert", (1,), IncidentType.WIND),
]  # fmt: skip
"""Messages in the encodings legacy systems still send, each read as its prolog declares."""


def test_the_corpus_is_every_file_on_disk() -> None:
    listed = {e.path for e in READABLE + DEGENERATE_POLYGON}
    on_disk = {str(p.relative_to(THIRD_PARTY)) for p in THIRD_PARTY.rglob("*.xml")}
    legacy = {e.path.removeprefix("thirdparty/") for e in LEGACY_ENCODINGS}

    assert len(listed) == 7
    assert on_disk == listed | (legacy & on_disk)
    services = {path.split("/")[0] for path in on_disk}
    assert len(services) >= 4


@pytest.mark.parametrize("expected", READABLE, ids=lambda e: e.path)
def test_real_message_parses_and_classifies(expected: Expected) -> None:
    alert = parse_cap((THIRD_PARTY / expected.path).read_bytes())

    assert alert.version == expected.version
    assert alert.msg_type == expected.msg_type
    assert tuple(len(info.areas) for info in alert.infos) == expected.areas_per_info
    assert classify_alert(alert).type is expected.type


def test_real_messages_cover_both_versions_updates_geocodes_and_polygons() -> None:
    alerts = [parse_cap((THIRD_PARTY / e.path).read_bytes()) for e in READABLE]

    assert {a.version for a in alerts} == {"1.1", "1.2"}
    assert "Update" in {a.msg_type for a in alerts}
    areas = [area for a in alerts for info in a.infos for area in info.areas]
    assert any(area.geocodes for area in areas)
    assert any(area.geometry is not None for area in areas)
    languages = {info.language.split("-")[0].lower() for a in alerts for info in a.infos}
    assert languages == {"en", "fr", "he", "pt", "zh"}


def test_nws_empty_polygon_leaves_the_area_to_its_geocodes() -> None:
    alert = parse_cap((THIRD_PARTY / "nws/blizzard-warning-cap11.xml").read_bytes())

    (area,) = alert.infos[0].areas
    assert area.geometry is None
    assert ("UGC", "MNZ020") in area.geocodes


def test_kazakh_and_russian_utf8_versions_of_the_legacy_alert_read_alike() -> None:
    kk = parse_cap((ENCODINGS / "wind_kostanay_kk_utf8.xml").read_bytes())
    ru = parse_cap((ENCODINGS / "wind_kostanay_ru_utf8.xml").read_bytes())

    assert kk.infos[0].event == "Қатты жел, дауыл"
    assert ru.infos[0].event == "Сильный ветер"
    assert kk.infos[0].areas[0].geometry == ru.infos[0].areas[0].geometry
    assert classify_alert(kk).type is classify_alert(ru).type is IncidentType.WIND


@pytest.mark.parametrize("name", ["windows1251", "koi8r"])
def test_legacy_encoded_files_hold_the_same_text_as_the_utf8_one(name: str) -> None:
    """The fixtures themselves: bytes in the declared encoding, text equal to the UTF-8 file's."""
    codec = {"windows1251": "windows-1251", "koi8r": "koi8-r"}[name]
    legacy = (ENCODINGS / f"wind_kostanay_ru_{name}.xml").read_bytes()
    utf8 = (ENCODINGS / "wind_kostanay_ru_utf8.xml").read_text(encoding="utf-8")

    with pytest.raises(UnicodeDecodeError):
        legacy.decode("utf-8")
    declared = {"windows1251": "windows-1251", "koi8r": "KOI8-R"}[name]
    assert legacy.decode(codec) == utf8.replace("UTF-8", declared).replace("-utf8<", f"-{name}<")


def test_usgs_fixture_is_iso_8859_1_bytes() -> None:
    data = (THIRD_PARTY / "usgs/earthquake-iso8859-1.xml").read_bytes()

    assert data.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>')
    assert b"Usulut\xe1n" in data


@pytest.mark.parametrize("expected", DEGENERATE_POLYGON, ids=lambda e: e.path)
def test_real_message_with_a_degenerate_polygon(expected: Expected) -> None:
    alert = parse_cap((THIRD_PARTY / expected.path).read_bytes())

    assert alert.msg_type == expected.msg_type
    assert tuple(len(info.areas) for info in alert.infos) == expected.areas_per_info
    point_area = next(a for a in alert.infos[0].areas if a.description == "polygonal event area")
    assert point_area.geometry is not None
    assert point_area.geometry.contains(Point(13.32218, 51.437717))
    assert classify_alert(alert).type is expected.type


@pytest.mark.parametrize("expected", LEGACY_ENCODINGS, ids=lambda e: e.path)
def test_legacy_encoded_message_parses_and_classifies(expected: Expected) -> None:
    alert = parse_cap((FIXTURES / expected.path).read_bytes())

    assert alert.version == expected.version
    assert alert.msg_type == expected.msg_type
    assert tuple(len(info.areas) for info in alert.infos) == expected.areas_per_info
    assert classify_alert(alert).type is expected.type
