"""Which regions of Kazakhstan an area touches, and the boundary behind a region code (pure)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable

import shapely
from shapely import STRtree
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry

from shared.geo import GeometryError, as_multipolygon
from shared.reference import Region

_ISO_CODE = re.compile(r"^KZ-?(\d{2})$")


def normalize_region_code(value: str) -> str | None:
    match = _ISO_CODE.match(value.strip().upper())
    return f"KZ-{match.group(1)}" if match else None


class RegionIndex:
    """The 20 first-level regions, indexed for intersection, and the country they make up."""

    def __init__(self, regions: Iterable[Region]) -> None:
        self._regions = tuple(regions)
        self._by_code = {region.code: region for region in self._regions}
        self._tree = STRtree([region.boundary for region in self._regions])
        for region in self._regions:
            shapely.prepare(region.boundary)  # `contains` below, at every message
        self._unions: dict[tuple[str, ...], MultiPolygon | None] = {}
        self._country = as_multipolygon(shapely.union_all([r.boundary for r in self._regions]))
        shapely.prepare(self._country)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(self._by_code)

    @property
    def country(self) -> MultiPolygon:
        """Kazakhstan: every region together (the service area)."""
        return self._country

    def clip_to_country(self, area: MultiPolygon) -> MultiPolygon | None:
        """The part of `area` inside Kazakhstan; None when no part of it is (a border touched
        along a line or at a point is not a part)."""
        if self._country.contains(area):
            return area
        if not self._country.intersects(area):
            return None
        inside = _overlap(self._country, area)
        polygons = [
            part
            for part in getattr(inside, "geoms", [inside])
            if part.geom_type in ("Polygon", "MultiPolygon") and not part.is_empty
        ]
        if not polygons:
            return None
        try:
            return as_multipolygon(shapely.union_all(polygons))
        except GeometryError:
            return None

    def union_of(self, codes: Iterable[str]) -> MultiPolygon | None:
        """The regions named together, or None when none is known; the same object each time
        for the same codes (an alert that cannot be placed falls back to its sender's regions,
        and `from_cap` remembers what it worked out for those by their identity)."""
        key = tuple(codes)
        try:  # one lookup: messages are prepared on several threads
            return self._unions[key]
        except KeyError:
            pass
        boundaries = [b for code in key if (b := self.boundary(code)) is not None]
        union = as_multipolygon(shapely.union_all(boundaries)) if boundaries else None
        if len(self._unions) >= 256:
            self._unions.clear()
        self._unions[key] = union
        return union

    def boundary(self, code: str) -> MultiPolygon | None:
        normalized = normalize_region_code(code)
        region = self._by_code.get(normalized) if normalized else None
        return region.boundary if region else None

    def touched_by(self, area: BaseGeometry) -> tuple[str, ...]:
        """Codes of the regions the area overlaps, the largest share first."""
        shares: list[tuple[float, str]] = []
        # The tree finds the regions whose boxes the area's box meets; each region's own
        # prepared outline then says whether it holds or meets the area (half the time of the
        # tree's `intersects` predicate, which prepares the area at every query instead).
        for index in self._tree.query(area):
            region = self._regions[int(index)]
            if region.boundary.contains(area):  # the usual case, without drawing the overlap
                overlap = area.area
            elif region.boundary.intersects(area):
                overlap = _overlap(region.boundary, area).area
            else:
                continue
            if overlap > 0 or area.area == 0:
                shares.append((overlap, region.code))
        shares.sort(key=lambda share: (-share[0], share[1]))
        return tuple(code for _, code in shares)


def _overlap(outline: BaseGeometry, area: BaseGeometry) -> BaseGeometry:
    """`outline ∩ area`, overlaying only the stretch of the outline near the area: the country's
    is ~6,000 points (0.3 ms an alert on the border, a tenth of that clipped first). The clip is
    a box a little larger than the area's, so its cut edges lie outside the area; GEOS does not
    promise a valid clip, and an invalid one is overlaid whole instead."""
    min_x, min_y, max_x, max_y = area.bounds
    margin = 1e-6 + 1e-3 * max(max_x - min_x, max_y - min_y)
    near = shapely.clip_by_rect(
        outline, min_x - margin, min_y - margin, max_x + margin, max_y + margin
    )
    if near.is_valid:
        with contextlib.suppress(shapely.errors.GEOSException):
            return near.intersection(area)
    return outline.intersection(area)
