"""The 20 first-level regions of Kazakhstan with their boundaries, read from the vendored file."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Point, shape

_DATA = files(__package__).joinpath("data", "regions.geojson")

# GeoNames admin1 codes that are not a region of their own: Baikonur ("08") lies inside
# Kyzylorda Region.
_EXTRA_GEONAMES_ADMIN1 = {"08": "KZ-43"}


@dataclass(frozen=True)
class Region:
    """A first-level region: 17 oblasts and the cities of Astana, Almaty and Shymkent."""

    code: str  # ISO 3166-2, e.g. "KZ-39"
    name_kk: str
    name_ru: str
    name_en: str
    geonames_admin1: str
    boundary: MultiPolygon = field(compare=False, repr=False)  # lon/lat, WGS 84

    def name(self, lang: str) -> str:
        """The name in "kk", "ru" or "en"; any other language gets the Kazakh name."""
        if lang == "ru":
            return self.name_ru
        if lang == "en":
            return self.name_en
        return self.name_kk

    def contains(self, *, latitude: float, longitude: float) -> bool:
        """Whether the point lies in the region or on its border."""
        return bool(self.boundary.covers(Point(longitude, latitude)))


def _region(feature: dict[str, Any]) -> Region:
    props = feature["properties"]
    boundary = shape(feature["geometry"])
    if not isinstance(boundary, MultiPolygon):
        raise ValueError(f"{props['code']}: expected a MultiPolygon, got {boundary.geom_type}")
    shapely.prepare(boundary)
    return Region(
        code=str(props["code"]),
        name_kk=str(props["name_kk"]),
        name_ru=str(props["name_ru"]),
        name_en=str(props["name_en"]),
        geonames_admin1=str(props["geonames_admin1"]),
        boundary=boundary,
    )


@cache
def load_regions() -> tuple[Region, ...]:
    """All 20 regions, ordered by ISO code."""
    collection = json.loads(_DATA.read_text(encoding="utf-8"))
    regions = tuple(_region(feature) for feature in collection["features"])
    return tuple(sorted(regions, key=lambda region: region.code))


@cache
def region_by_code() -> dict[str, Region]:
    """Regions keyed by ISO 3166-2 code ("KZ-75")."""
    return {region.code: region for region in load_regions()}


@cache
def region_by_geonames_admin1() -> dict[str, Region]:
    """Regions keyed by GeoNames admin1 code, including Baikonur ("08") → Kyzylorda."""
    by_code = region_by_code()
    mapping = {region.geonames_admin1: region for region in load_regions()}
    for admin1, code in _EXTRA_GEONAMES_ADMIN1.items():
        mapping[admin1] = by_code[code]
    return mapping


def region_at(*, latitude: float, longitude: float) -> Region | None:
    """The region containing the point, or None outside Kazakhstan.

    Borders are simplified to within about a kilometre, so points right on a border may land
    in the neighbouring region.
    """
    for region in load_regions():
        if region.contains(latitude=latitude, longitude=longitude):
            return region
    return None
