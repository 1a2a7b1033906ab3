"""Geometry's one way in and one way out.

Inside the code a geometry is a shapely object in lon/lat order (WGS84); on the wire it is GeoJSON.
CAP writes `lat,lon`, so its text forms are read here and nowhere else. Areas and circles are
geodesic (WGS84 ellipsoid), never planar degrees.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import Geod
from shapely.errors import ShapelyError
from shapely.geometry import GeometryCollection, MultiPolygon, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient
from shapely.ops import unary_union
from shapely.validation import explain_validity

WGS84 = Geod(ellps="WGS84")

MAX_CIRCLE_RADIUS_KM = 1000.0
POINT_ALERT_RADIUS_M = 100.0
"""A CAP circle of radius 0 marks a point; it becomes a circle this wide so it can hold people."""

MAX_POLYGON_POINTS = 20_000
"""Points in one CAP polygon; a district's outline needs a few thousand at most."""

_MIN_POLYGON_POINTS = 4
_NO_AREA_DEG2 = 1e-12  # about 0.01 m²: points on one line leave rounding noise, not an area
_VALIDITY_POSITION = re.compile(r"\[(\S+) (\S+)\]")


class GeometryError(ValueError):
    """A geometry that cannot be used; the message says what is wrong, in a sender's words."""


def cap_tokens(text: str) -> list[str]:
    """The whitespace-separated tokens of a CAP `<polygon>` or `<circle>`, with any space written
    around a comma taken out (`53.2 , 63.6` is the pair `53.2,63.6`).

    Linear in the text whatever it holds: whitespace is collapsed by `str.split` first, so at
    most one space is left on either side of a comma (a regex such as `\\s*,\\s*` backtracks
    over every run of spaces and is quadratic in its length).
    """
    collapsed = " ".join(text.split())
    return collapsed.replace(" ,", ",").replace(", ", ",").split()


def parse_cap_polygon(text: str) -> Polygon:
    """Read a CAP `<polygon>`: whitespace-separated `lat,lon` pairs, the first repeated as the last.

    Returns a valid lon/lat polygon with its exterior counter-clockwise. A closed ring that
    encloses no area — fewer than 4 pairs, or points on one line, as some services write a point
    or a short stretch of road — is read as what it marks: the smallest geodesic circle around its
    points, widened by `POINT_ALERT_RADIUS_M`.
    """
    tokens = cap_tokens(text)
    if not tokens:
        raise GeometryError("polygon is empty")
    if len(tokens) > MAX_POLYGON_POINTS:
        raise GeometryError(
            f"polygon has {len(tokens):,} points; the limit is {MAX_POLYGON_POINTS:,}"
        )
    points = [_parse_lat_lon(token, what=f"polygon point {n}") for n, token in enumerate(tokens, 1)]
    if points[0] != points[-1]:
        raise GeometryError(
            f"polygon does not close: first point {tokens[0]}, last point {tokens[-1]} "
            "(CAP repeats the first point at the end)"
        )
    if len(points) < _MIN_POLYGON_POINTS:
        return _around(points, shown=text)
    polygon = Polygon([(lon, lat) for lat, lon in points])
    if polygon.area < _NO_AREA_DEG2 and _collinear(points):
        return _around(points, shown=text)
    if not polygon.is_valid:
        raise GeometryError(f"polygon is not valid: {_explain(polygon)}")
    return orient(polygon, sign=1.0)


def _collinear(points: list[tuple[float, float]]) -> bool:
    """True when every point lies on one line (so the ring is a point or a stretch, not a
    figure that crosses itself)."""
    (lat0, lon0), (lat1, lon1) = (
        points[0],
        max(points, key=lambda p: abs(p[0] - points[0][0]) + abs(p[1] - points[0][1])),
    )
    return all(
        abs((lat1 - lat0) * (lon - lon0) - (lon1 - lon0) * (lat - lat0)) < 1e-9
        for lat, lon in points
    )


def _around(points: list[tuple[float, float]], *, shown: str) -> Polygon:
    """A circle around points that enclose no area: centred on their middle, reaching the
    farthest of them, and at least `POINT_ALERT_RADIUS_M` wide."""
    lats = np.fromiter((lat for lat, _ in points), dtype=float, count=len(points))
    lons = np.fromiter((lon for _, lon in points), dtype=float, count=len(points))
    lat, lon = float((lats.min() + lats.max()) / 2), float((lons.min() + lons.max()) / 2)
    _, _, distances = WGS84.inv(np.full(len(points), lon), np.full(len(points), lat), lons, lats)
    radius_m = float(np.max(distances)) + POINT_ALERT_RADIUS_M
    if radius_m > MAX_CIRCLE_RADIUS_KM * 1000:
        shown = shown.strip()[:60]
        raise GeometryError(
            f"polygon {shown!r} encloses no area (its points are in a line) and spans more than "
            f"{MAX_CIRCLE_RADIUS_KM:g} km"
        )
    return geodesic_circle(lon, lat, radius_m)


def parse_cap_circle(text: str, *, segments: int = 64) -> Polygon:
    """Read a CAP `<circle>`: `lat,lon radius_km`, as a geodesic polygon.

    A radius of 0 is a point alert and becomes a circle of `POINT_ALERT_RADIUS_M`.
    """
    tokens = cap_tokens(text)
    if len(tokens) != 2:
        raise GeometryError(f"circle {text.strip()!r} is not 'lat,lon radius_km'")
    lat, lon = _parse_lat_lon(tokens[0], what="circle centre")
    radius_km = _parse_float(tokens[1], what="circle radius")
    if radius_km < 0:
        raise GeometryError(f"circle radius {tokens[1]} km is negative")
    if radius_km > MAX_CIRCLE_RADIUS_KM:
        raise GeometryError(
            f"circle radius {tokens[1]} km is larger than {MAX_CIRCLE_RADIUS_KM:g} km"
        )
    radius_m = radius_km * 1000.0 if radius_km > 0 else POINT_ALERT_RADIUS_M
    return geodesic_circle(lon, lat, radius_m, segments=segments)


def geodesic_circle(lon: float, lat: float, radius_m: float, *, segments: int = 64) -> Polygon:
    """The points `radius_m` from (lon, lat) on the WGS84 ellipsoid, as a CCW polygon."""
    if not (math.isfinite(radius_m) and radius_m > 0):
        raise GeometryError(f"circle radius {radius_m} m must be a positive number")
    if segments < 3:
        raise GeometryError(f"a circle needs at least 3 segments, not {segments}")
    _check_lat_lon(lat, lon, what="circle centre", shown=f"{lat},{lon}")
    lons, lats, _ = WGS84.fwd(
        np.full(segments, lon),
        np.full(segments, lat),
        _azimuths(segments),
        np.full(segments, radius_m),
    )
    if float(lons.max() - lons.min()) > 180.0:
        raise GeometryError(
            f"circle of {radius_m / 1000:g} km around {lat},{lon} crosses the antimeridian "
            "or a pole, which is not supported"
        )
    circle = Polygon(np.column_stack((lons, lats)))
    if not circle.is_valid:
        raise GeometryError(f"circle around {lat},{lon} is not valid: {_explain(circle)}")
    return circle


@functools.cache
def _azimuths(segments: int) -> npt.NDArray[np.float64]:
    # Azimuths run clockwise from north; walking them downwards traces the ring counter-clockwise.
    azimuths = np.linspace(360.0, 0.0, segments, endpoint=False)
    azimuths.flags.writeable = False
    return azimuths


def geodesic_area_km2(geom: BaseGeometry) -> float:
    """The area on the WGS84 ellipsoid in km², whatever the ring orientation: each polygon's
    outer ring less its holes, the polygons summed. Polygons and multipolygons; 0 for anything
    else (a line or a point encloses nothing)."""
    area_m2 = 0.0
    for polygon in shapely.get_parts(geom):
        if not isinstance(polygon, Polygon) or polygon.is_empty:
            continue
        area_m2 += _ring_area_m2(polygon.exterior)
        area_m2 -= sum(_ring_area_m2(hole) for hole in polygon.interiors)
    return area_m2 / 1e6


def _ring_area_m2(ring: BaseGeometry) -> float:
    # The coordinates as arrays straight into the geodesic sum (pyproj's own
    # `geometry_area_perimeter` reads them through Python lists: 0.5 ms an alert at the intake).
    coordinates = shapely.get_coordinates(ring)
    area, _perimeter = WGS84.polygon_area_perimeter(coordinates[:, 0], coordinates[:, 1])
    return abs(float(area))


def as_multipolygon(geom: BaseGeometry) -> MultiPolygon:
    """A Polygon, MultiPolygon or a collection of them as one MultiPolygon; nothing else."""
    if geom.is_empty:
        raise GeometryError("geometry is empty")
    if isinstance(geom, MultiPolygon):
        return geom
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    if isinstance(geom, GeometryCollection):
        parts = [part for part in geom.geoms if not part.is_empty]
        strays = sorted({part.geom_type for part in parts} - {"Polygon", "MultiPolygon"})
        if strays:
            raise GeometryError(f"collection holds {', '.join(strays)}, not only polygons")
        return as_multipolygon(unary_union(parts))
    raise GeometryError(f"expected a polygon or multipolygon, got a {geom.geom_type}")


# Decimal places of the degrees in the GeoJSON Jedel sends and serves: ~0.1 m, which RFC 7946
# (section 11.2) deems enough; more only makes every message larger.
GEOJSON_DECIMALS = 6


def to_geojson(geom: BaseGeometry, *, decimals: int | None = None) -> dict[str, Any]:
    """The GeoJSON geometry object (lon/lat), with coordinates rounded to `decimals` places if
    given. A polygon's or multipolygon's coordinates are lists taken from each ring's array at
    once (a third of the time shapely's `mapping` takes, tuple by tuple: an alert storm announces
    thousands a second); other geometries as `mapping` has them (never rounded)."""
    if isinstance(geom, Polygon) and not geom.is_empty:
        return {"type": "Polygon", "coordinates": _rings(geom, decimals)}
    if isinstance(geom, MultiPolygon) and not geom.is_empty:
        return {
            "type": "MultiPolygon",
            "coordinates": [_rings(part, decimals) for part in shapely.get_parts(geom)],
        }
    return dict(mapping(geom))


def _rings(polygon: Polygon, decimals: int | None) -> list[list[list[float]]]:
    interiors = shapely.get_interior_ring(polygon, range(shapely.get_num_interior_rings(polygon)))
    rings = (shapely.get_exterior_ring(polygon), *interiors)
    if decimals is None:
        return [shapely.get_coordinates(ring).tolist() for ring in rings]
    return [np.round(shapely.get_coordinates(ring), decimals).tolist() for ring in rings]


def from_geojson(obj: Mapping[str, Any]) -> BaseGeometry:
    """A shapely geometry from GeoJSON; malformed, invalid or off-Earth geometries are refused."""
    try:
        geom: BaseGeometry = shape(obj)
    except (ShapelyError, KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise GeometryError(f"not a GeoJSON geometry: {exc}") from exc
    if geom.is_empty:
        return geom
    min_lon, min_lat, max_lon, max_lat = geom.bounds
    if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
        raise GeometryError(
            f"coordinates outside lon [-180, 180] / lat [-90, 90]: bounds {geom.bounds} "
            "(GeoJSON is lon,lat)"
        )
    if not geom.is_valid:
        raise GeometryError(f"{geom.geom_type} is not valid: {_explain(geom)}")
    return geom


def _parse_lat_lon(token: str, *, what: str) -> tuple[float, float]:
    parts = token.split(",")
    if len(parts) != 2:
        raise GeometryError(f"{what} {token!r} is not 'lat,lon'")
    lat = _parse_float(parts[0], what=f"{what} latitude")
    lon = _parse_float(parts[1], what=f"{what} longitude")
    _check_lat_lon(lat, lon, what=what, shown=token)
    return lat, lon


def _check_lat_lon(lat: float, lon: float, *, what: str, shown: str) -> None:
    if not -90 <= lat <= 90:
        raise GeometryError(
            f"{what} {shown}: latitude {lat:g} is outside [-90, 90] (CAP is lat,lon)"
        )
    if not -180 <= lon <= 180:
        raise GeometryError(f"{what} {shown}: longitude {lon:g} is outside [-180, 180]")


def _parse_float(text: str, *, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise GeometryError(f"{what} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise GeometryError(f"{what} {text!r} is not a finite number")
    return value


def _explain(geom: BaseGeometry) -> str:
    """GEOS's explanation, its `[lon lat]` position rewritten as the `lat,lon` CAP authors write."""
    reason: str = explain_validity(geom)
    return _VALIDITY_POSITION.sub(lambda m: f" at {m[2]},{m[1]} (lat,lon)", reason)
