"""Which regions of Kazakhstan an area touches, and the boundary behind a region code (pure)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from shapely import STRtree
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry

from shared.reference import Region

_ISO_VALUE_NAMES = {"iso31662", "iso3166", "iso31662code", "region"}
_ISO_CODE = re.compile(r"^KZ-?(\d{2})$")


def is_region_geocode(value_name: str) -> bool:
    normalized = re.sub(r"[\s_\-:.]", "", value_name).casefold()
    return normalized in _ISO_VALUE_NAMES


def normalize_region_code(value: str) -> str | None:
    match = _ISO_CODE.match(value.strip().upper())
    return f"KZ-{match.group(1)}" if match else None


class RegionIndex:
    """The 20 first-level regions, indexed for intersection."""

    def __init__(self, regions: Iterable[Region]) -> None:
        self._regions = tuple(regions)
        self._by_code = {region.code: region for region in self._regions}
        self._tree = STRtree([region.boundary for region in self._regions])

    def boundary(self, code: str) -> MultiPolygon | None:
        normalized = normalize_region_code(code)
        region = self._by_code.get(normalized) if normalized else None
        return region.boundary if region else None

    def touched_by(self, area: BaseGeometry) -> tuple[str, ...]:
        """Codes of the regions the area overlaps, the largest share first."""
        shares: list[tuple[float, str]] = []
        for index in self._tree.query(area, predicate="intersects"):
            region = self._regions[int(index)]
            overlap = region.boundary.intersection(area).area
            if overlap > 0 or area.area == 0:
                shares.append((overlap, region.code))
        shares.sort(key=lambda share: (-share[0], share[1]))
        return tuple(code for _, code in shares)
