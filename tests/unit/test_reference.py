"""The vendored Kazakhstan reference data: regions, settlements, time zone."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from importlib.resources import files

import pytest
import shapely
from pyproj import Geod
from shapely.geometry import Point
from shapely.ops import nearest_points

from shared.reference import (
    KAZAKHSTAN_TZ,
    load_districts,
    load_regions,
    load_settlements,
    region_at,
    region_by_code,
    region_by_geonames_admin1,
)

ISO_CODES = {
    "KZ-10", "KZ-11", "KZ-15", "KZ-19", "KZ-23", "KZ-27", "KZ-31", "KZ-33", "KZ-35", "KZ-39",
    "KZ-43", "KZ-47", "KZ-55", "KZ-59", "KZ-61", "KZ-62", "KZ-63", "KZ-71", "KZ-75", "KZ-79",
}  # fmt: skip
OFFICIAL_AREA_KM2 = 2_724_900
GEOD = Geod(ellps="WGS84")
CYRILLIC = re.compile(r"^[\u0400-\u04FF][\u0400-\u04FF \-]*$")


def km_outside(region_code: str, latitude: float, longitude: float) -> float:
    boundary = region_by_code()[region_code].boundary
    point = Point(longitude, latitude)
    if boundary.covers(point):
        return 0.0
    nearest = nearest_points(boundary, point)[0]
    return float(GEOD.inv(longitude, latitude, nearest.x, nearest.y)[2]) / 1000


def test_there_are_exactly_the_twenty_iso_regions() -> None:
    codes = [region.code for region in load_regions()]
    assert len(codes) == 20
    assert len(set(codes)) == 20
    assert set(codes) == ISO_CODES
    assert set(region_by_code()) == ISO_CODES


def test_every_boundary_is_a_valid_multipolygon() -> None:
    for region in load_regions():
        assert region.boundary.geom_type == "MultiPolygon", region.code
        assert region.boundary.is_valid, (region.code, shapely.is_valid_reason(region.boundary))
        assert not region.boundary.has_z, region.code


def test_regions_do_not_overlap() -> None:
    assert shapely.coverage_is_valid([region.boundary for region in load_regions()])


def test_total_area_matches_the_official_figure_within_one_percent() -> None:
    # Geodesic area is signed by ring orientation, so this also checks the RFC 7946 winding.
    total_km2 = (
        sum(GEOD.geometry_area_perimeter(region.boundary)[0] for region in load_regions()) / 1e6
    )
    assert total_km2 == pytest.approx(OFFICIAL_AREA_KM2, rel=0.01)


@pytest.mark.parametrize(
    ("city", "latitude", "longitude", "code"),
    [
        ("Kostanay", 53.2144, 63.6246, "KZ-39"),
        ("Almaty", 43.2525, 76.9115, "KZ-75"),
        ("Astana", 51.1801, 71.4460, "KZ-71"),
        ("Shymkent", 42.3099, 69.6004, "KZ-79"),
        ("Baikonur", 45.6167, 63.3167, "KZ-43"),
        ("Semey", 50.4206, 80.2503, "KZ-10"),
    ],
)
def test_cities_lie_in_their_region(
    city: str, latitude: float, longitude: float, code: str
) -> None:
    region = region_at(latitude=latitude, longitude=longitude)
    assert region is not None, city
    assert region.code == code, city


def test_a_point_outside_kazakhstan_has_no_region() -> None:
    assert region_at(latitude=55.7558, longitude=37.6173) is None  # Moscow


def test_region_names_in_three_languages() -> None:
    kostanay = region_by_code()["KZ-39"]
    assert kostanay.name("kk") == "Қостанай облысы"
    assert kostanay.name("ru") == "Костанайская область"
    assert kostanay.name("en") == "Kostanay Region"
    assert kostanay.name("de") == "Қостанай облысы"
    assert region_by_code()["KZ-62"].name("ru") == "Область Ұлытау"


def test_kazakh_names_are_cyrillic_and_distinct() -> None:
    names = [region.name_kk for region in load_regions()]
    assert all(CYRILLIC.match(name) for name in names), names
    assert len(set(names)) == 20
    assert all(CYRILLIC.match(region.name_ru) for region in load_regions())


def test_geonames_admin1_codes_map_to_regions_including_baikonur() -> None:
    by_admin1 = region_by_geonames_admin1()
    assert len({region.geonames_admin1 for region in load_regions()}) == 20
    assert by_admin1["08"].code == "KZ-43"
    assert by_admin1["14"].code == "KZ-43"
    assert by_admin1["1537272"].code == "KZ-79"


def test_vendored_geojson_keeps_its_documented_properties() -> None:
    text = files("shared.reference").joinpath("data", "regions.geojson").read_text("utf-8")
    collection = json.loads(text)
    assert collection["type"] == "FeatureCollection"
    assert "crs" not in collection
    pcodes = {feature["properties"]["pcode"] for feature in collection["features"]}
    assert pcodes == {f"KAZ{n:03d}" for n in range(1, 21)}


def test_settlement_count_and_populations() -> None:
    settlements = load_settlements()
    assert 300 <= len(settlements) <= 400
    assert all(settlement.population > 0 for settlement in settlements)
    assert len({settlement.geonameid for settlement in settlements}) == len(settlements)
    populations = [settlement.population for settlement in settlements]
    assert populations == sorted(populations, reverse=True)
    assert settlements[0].name == "Almaty"
    assert settlements[0].name_ru == "Алматы"


def test_settlements_have_known_regions() -> None:
    assert {settlement.region_code for settlement in load_settlements()} <= ISO_CODES


def test_settlements_lie_in_or_near_their_region() -> None:
    settlements = load_settlements()
    near = sum(
        km_outside(settlement.region_code, settlement.latitude, settlement.longitude) <= 5.0
        for settlement in settlements
    )
    assert near / len(settlements) >= 0.98


def test_russian_settlement_names_are_cyrillic_when_present() -> None:
    names = [settlement.name_ru for settlement in load_settlements() if settlement.name_ru]
    assert len(names) >= 0.95 * len(load_settlements())
    assert all(CYRILLIC.match(name.replace("ё", "е")) for name in names)
    by_name = {settlement.name: settlement.name_ru for settlement in load_settlements()}
    assert by_name["Oral"] == "Уральск"
    assert by_name["Ust-Kamenogorsk"] == "Усть-Каменогорск"


def test_kazakhstan_is_utc_plus_five_all_year() -> None:
    for month in (1, 7):
        moment = datetime(2025, month, 15, 12, tzinfo=KAZAKHSTAN_TZ)
        assert moment.utcoffset() == timedelta(hours=5)


def test_district_count_and_unique_codes() -> None:
    districts = load_districts()
    assert 150 <= len(districts) <= 230
    codes = [district.code for district in districts]
    assert len(set(codes)) == len(codes)
    assert all(code.startswith(district.region_code + "-") for code, district in
               zip(codes, districts, strict=True))  # fmt: skip
    # Only oblasts have tabled districts; the three cities of republican significance do not.
    assert {district.region_code for district in districts} == ISO_CODES - {
        "KZ-71", "KZ-75", "KZ-79"
    }  # fmt: skip


def test_district_names_are_present_in_three_languages() -> None:
    for district in load_districts():
        assert district.name_kk.endswith(" ауданы"), district.code
        assert CYRILLIC.match(district.name_kk), district.code
        assert "район" in district.name_ru, district.code
        assert CYRILLIC.match(district.name_ru.replace("-", " ")), district.code
        assert district.name_en.endswith(" District") and district.name_en.isascii()
        assert district.centre_name, district.code


def test_every_district_centre_lies_in_its_region() -> None:
    for district in load_districts():
        region = region_by_code()[district.region_code]
        assert region.contains(latitude=district.latitude, longitude=district.longitude), (
            district.code
        )


def test_district_radii_are_plausible() -> None:
    for district in load_districts():
        assert 20 <= district.radius_km <= 200, district.code


def test_districts_created_or_moved_in_2022_sit_in_the_new_regions() -> None:
    by_code = {district.code: district for district in load_districts()}
    assert by_code["KZ-10-URZHAR"].region_code == "KZ-10"  # Abai, formerly East Kazakhstan
    assert by_code["KZ-62-ZHANAARKA"].region_code == "KZ-62"  # Ulytau, formerly Karaganda
    assert by_code["KZ-33-SARKAN"].region_code == "KZ-33"  # Jetisu, formerly Almaty Region
    zhitikara = by_code["KZ-39-ZHITIKARA"]
    assert (zhitikara.name_kk, zhitikara.name_ru) == ("Жітіқара ауданы", "Житикаринский район")
