import json
import math

import pytest
from pyproj import Geod
from shapely.geometry import (
    GeometryCollection,
    LineString,
    MultiPolygon,
    Point,
    Polygon,
    box,
    mapping,
)

from shared.geo import (
    GEOJSON_DECIMALS,
    MAX_CIRCLE_RADIUS_KM,
    MAX_POLYGON_POINTS,
    POINT_ALERT_RADIUS_M,
    GeometryError,
    as_multipolygon,
    from_geojson,
    geodesic_area_km2,
    geodesic_circle,
    parse_cap_circle,
    parse_cap_polygon,
    to_geojson,
)

KOSTANAY_SQUARE = "53.10,63.50 53.10,63.70 53.30,63.70 53.30,63.50 53.10,63.50"


def test_polygon_points_are_read_as_lat_lon() -> None:
    polygon = parse_cap_polygon(KOSTANAY_SQUARE)

    min_lon, min_lat, max_lon, max_lat = polygon.bounds
    assert (min_lon, max_lon) == (63.5, 63.7)
    assert (min_lat, max_lat) == (53.1, 53.3)


def test_polygon_comes_back_counter_clockwise_whatever_the_input_order() -> None:
    clockwise = "53.10,63.50 53.30,63.50 53.30,63.70 53.10,63.70 53.10,63.50"

    assert parse_cap_polygon(clockwise).exterior.is_ccw
    assert parse_cap_polygon(KOSTANAY_SQUARE).exterior.is_ccw


def test_spaces_around_commas_and_newlines_are_tolerated() -> None:
    polygon = parse_cap_polygon(" 53.10, 63.50\n53.10 ,63.70\t53.30,63.70 53.30,63.50 53.10,63.50 ")

    assert polygon.bounds == (63.5, 53.1, 63.7, 53.3)


def test_open_polygon_names_its_first_and_last_point() -> None:
    with pytest.raises(
        GeometryError, match=r"does not close: first point 53\.10,63\.50.*53\.30,63\.50"
    ):
        parse_cap_polygon("53.10,63.50 53.10,63.70 53.30,63.70 53.30,63.50")


def test_three_point_ring_is_read_as_the_stretch_it_marks() -> None:
    # As the DWD writes a point event: there and back along one line, 13.3 km of road.
    circle = parse_cap_polygon("53.10,63.50 53.10,63.70 53.10,63.50")

    assert circle.is_valid
    assert circle.contains(Point(63.50, 53.10)) and circle.contains(Point(63.70, 53.10))
    assert 140 < geodesic_area_km2(circle) < 160  # a circle of about 6.8 km: π·6.8² ≈ 145


def test_one_point_ring_is_a_point_alert() -> None:
    circle = parse_cap_polygon("53.10,63.50")

    assert circle.contains(Point(63.50, 53.10))
    assert geodesic_area_km2(circle) == pytest.approx(math.pi * 0.1**2, rel=0.01)


def test_ring_without_area_longer_than_a_circle_may_be_is_refused() -> None:
    with pytest.raises(GeometryError, match="encloses no area"):
        parse_cap_polygon("40.0,50.0 55.0,80.0 40.0,50.0")


def test_polygon_with_too_many_points_is_refused_before_reading_them() -> None:
    text = " ".join(["53.1,63.5"] * (MAX_POLYGON_POINTS + 1))

    with pytest.raises(GeometryError, match="the limit is 20,000"):
        parse_cap_polygon(text)


@pytest.mark.parametrize(
    "text",
    [
        "53.10 , 63.50   53.10,\t63.70 53.30 ,63.70\n53.10,63.50",
        "  53.10,63.50 53.10,63.70 53.30,63.70 53.10,63.50  ",
    ],
)
def test_spaces_around_commas_are_allowed(text: str) -> None:
    assert parse_cap_polygon(text).equals(
        parse_cap_polygon("53.10,63.50 53.10,63.70 53.30,63.70 53.10,63.50")
    )


def test_two_commas_in_a_row_are_not_a_pair() -> None:
    with pytest.raises(GeometryError, match="is not 'lat,lon'"):
        parse_cap_polygon("53.1 , , 63.5 53.1,63.7 53.3,63.7 53.1,63.5")


def test_bow_tie_polygon_is_refused_naming_the_crossing_in_lat_lon() -> None:
    with pytest.raises(GeometryError, match=r"Self-intersection at 53\.2,63\.6 \(lat,lon\)"):
        parse_cap_polygon("53.10,63.50 53.30,63.70 53.30,63.50 53.10,63.70 53.10,63.50")


def test_flat_polygon_is_read_as_a_circle_around_its_points() -> None:
    circle = parse_cap_polygon("53.1,63.5 53.2,63.6 53.3,63.7 53.1,63.5")

    assert all(circle.contains(Point(lon, lat)) for lat, lon in [(53.1, 63.5), (53.3, 63.7)])


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("95,63.5 95,63.7 96,63.7 95,63.5", "latitude 95 is outside"),
        ("53.1,190 53.1,191 53.3,191 53.1,190", "longitude 190 is outside"),
        ("53.1,east 53.1,63.7 53.3,63.7 53.1,east", "is not a number"),
        ("nan,63.5 53.1,63.7 53.3,63.7 nan,63.5", "not a finite number"),
        ("53.1;63.5 53.1,63.7 53.3,63.7 53.1;63.5", "is not 'lat,lon'"),
        ("53.1,63.5,0 53.1,63.7 53.3,63.7 53.1,63.5,0", "is not 'lat,lon'"),
    ],
)
def test_bad_points_are_refused_with_a_reason(text: str, complaint: str) -> None:
    with pytest.raises(GeometryError, match=complaint):
        parse_cap_polygon(text)


def test_circle_area_is_pi_r_squared_within_one_percent() -> None:
    circle = parse_cap_circle("50.28,57.16 15")

    assert geodesic_area_km2(circle) == pytest.approx(math.pi * 15**2, rel=0.01)


def test_circle_centre_is_read_as_lat_lon() -> None:
    centre = parse_cap_circle("50.28,57.16 15").centroid

    assert centre.x == pytest.approx(57.16, abs=0.01)
    assert centre.y == pytest.approx(50.28, abs=0.01)


def test_circle_radius_zero_is_a_point_alert_of_100_m() -> None:
    circle = parse_cap_circle("50.28,57.16 0")

    expected_km2 = math.pi * (POINT_ALERT_RADIUS_M / 1000) ** 2
    assert geodesic_area_km2(circle) == pytest.approx(expected_km2, rel=0.01)


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("50.28,57.16 -5", "negative"),
        ("50.28,57.16 1000.5", "larger than 1000 km"),
        ("50.28,57.16", "is not 'lat,lon radius_km'"),
        ("50.28,57.16 15 km", "is not 'lat,lon radius_km'"),
        ("50.28,57.16 inf", "not a finite number"),
        ("57.16,250 15", "longitude 250 is outside"),
    ],
)
def test_bad_circles_are_refused_with_a_reason(text: str, complaint: str) -> None:
    with pytest.raises(GeometryError, match=complaint):
        parse_cap_circle(text)


def test_largest_circle_is_accepted() -> None:
    circle = parse_cap_circle(f"48.0,67.0 {MAX_CIRCLE_RADIUS_KM:g}")

    assert circle.is_valid


def test_geodesic_circle_points_are_the_radius_away_from_the_centre() -> None:
    circle = geodesic_circle(57.16, 50.28, 2_500.0, segments=16)

    lons, lats = circle.exterior.coords.xy
    _, _, distances_m = Geod(ellps="WGS84").inv(
        [57.16] * len(lons), [50.28] * len(lats), lons, lats
    )
    assert distances_m == pytest.approx([2_500.0] * len(lons), abs=0.01)
    assert circle.exterior.is_ccw
    assert len(circle.exterior.coords) == 17


def test_circle_across_the_antimeridian_is_refused() -> None:
    with pytest.raises(GeometryError, match="antimeridian"):
        geodesic_circle(179.99, 65.0, 5_000.0)


def test_circle_needs_a_positive_radius() -> None:
    with pytest.raises(GeometryError, match="positive"):
        geodesic_circle(57.16, 50.28, 0.0)


def test_geodesic_area_does_not_depend_on_ring_orientation() -> None:
    square = box(63.5, 53.1, 63.7, 53.3)

    assert geodesic_area_km2(square) == pytest.approx(geodesic_area_km2(square.reverse()))
    assert 280 < geodesic_area_km2(square) < 310  # ~22 km north-south by ~13 km east-west


def test_polygon_becomes_a_multipolygon_of_one() -> None:
    result = as_multipolygon(box(0, 0, 1, 1))

    assert isinstance(result, MultiPolygon)
    assert len(result.geoms) == 1


def test_multipolygon_is_kept_as_it_is() -> None:
    multi = MultiPolygon([box(0, 0, 1, 1), box(2, 2, 3, 3)])

    assert as_multipolygon(multi) is multi


def test_collection_of_polygons_is_merged_into_a_multipolygon() -> None:
    collection = GeometryCollection([box(0, 0, 1, 1), box(0.5, 0, 1.5, 1), box(5, 5, 6, 6)])

    result = as_multipolygon(collection)

    assert isinstance(result, MultiPolygon)
    assert len(result.geoms) == 2
    assert result.is_valid


@pytest.mark.parametrize(
    "geom",
    [Point(1, 1), LineString([(0, 0), (1, 1)]), GeometryCollection([box(0, 0, 1, 1), Point(5, 5)])],
)
def test_anything_but_polygons_is_not_a_multipolygon(geom: object) -> None:
    with pytest.raises(GeometryError):
        as_multipolygon(geom)


def test_empty_geometry_is_not_an_area() -> None:
    with pytest.raises(GeometryError, match="empty"):
        as_multipolygon(Polygon())


def test_geojson_round_trip_keeps_lon_lat() -> None:
    polygon = parse_cap_polygon(KOSTANAY_SQUARE)

    wire = to_geojson(polygon)

    assert wire["type"] == "Polygon"
    assert tuple(wire["coordinates"][0][0]) == (63.5, 53.1)
    assert from_geojson(wire).equals(polygon)


@pytest.mark.parametrize(
    ("obj", "complaint"),
    [
        ({"type": "Polygon"}, "not a GeoJSON geometry"),
        ({"type": "Hexagon", "coordinates": []}, "not a GeoJSON geometry"),
        ({"type": "Point", "coordinates": [53.1, 95.0]}, "outside lon"),
        (
            {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},
            "Self-intersection",
        ),
    ],
)
def test_bad_geojson_is_refused(obj: dict[str, object], complaint: str) -> None:
    with pytest.raises(GeometryError, match=complaint):
        from_geojson(obj)


def test_geometry_error_is_a_value_error() -> None:
    assert issubclass(GeometryError, ValueError)


def test_geodesic_area_leaves_out_holes_and_adds_up_parts_however_they_turn() -> None:
    outer = geodesic_circle(63.6, 53.2, 10_000)
    hole = geodesic_circle(63.6, 53.2, 5_000)
    far = geodesic_circle(70.0, 50.0, 3_000)
    donut = Polygon(outer.exterior.coords, [hole.exterior.coords[::-1]])
    same_turn = Polygon(outer.exterior.coords, [hole.exterior.coords])  # hole turning the same way

    ring_km2 = math.pi * (10**2 - 5**2)
    assert geodesic_area_km2(donut) == pytest.approx(ring_km2, rel=0.01)
    assert geodesic_area_km2(same_turn) == pytest.approx(ring_km2, rel=0.01)
    both = MultiPolygon([donut, far.reverse()])
    assert geodesic_area_km2(both) == pytest.approx(ring_km2 + math.pi * 3**2, rel=0.01)
    assert geodesic_area_km2(LineString([(63.0, 53.0), (64.0, 53.0)])) == 0


def test_geojson_of_a_multipolygon_with_a_hole_is_shapely_s_own() -> None:
    outer = Polygon([(63.0, 53.0), (64.0, 53.0), (64.0, 54.0), (63.0, 54.0)])
    holed = Polygon(outer.exterior.coords, [[(63.2, 53.2), (63.4, 53.2), (63.4, 53.4)]])
    area = MultiPolygon([holed, Polygon([(65.0, 53.0), (65.5, 53.0), (65.5, 53.5)])])

    wire = to_geojson(area)

    # The same JSON as shapely's own mapping (lists where it has tuples), and the same shape back.
    assert json.dumps(wire) == json.dumps(mapping(area))
    assert len(wire["coordinates"][0]) == 2  # the exterior and its hole
    assert from_geojson(wire).equals(area)


def test_geojson_rounded_to_six_places_keeps_the_shape_within_a_tenth_of_a_metre() -> None:
    circle = Point(63.623456789123, 53.187654321987).buffer(0.05, 32)

    wire = to_geojson(MultiPolygon([circle]), decimals=GEOJSON_DECIMALS)

    first = wire["coordinates"][0][0][0]
    assert first == [round(value, 6) for value in circle.exterior.coords[0]]
    back = from_geojson(wire)
    assert back.is_valid
    assert back.symmetric_difference(circle).area < 1e-6 * circle.length  # ≤ ~0.1 m a side
