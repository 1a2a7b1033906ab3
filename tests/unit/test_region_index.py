"""The region index's overlays: the stretch of an outline near an area stands for the whole."""

from __future__ import annotations

import random

import pytest
import shapely
from shapely.geometry import MultiPolygon, box

from services.intake.regions import RegionIndex
from shared.geo import as_multipolygon, geodesic_circle
from shared.reference import load_regions

REGIONS = RegionIndex(load_regions())


def _border_circles(outline: MultiPolygon, count: int, seed: int) -> list[MultiPolygon]:
    """Circles of 0.5–60 km centred on points of the outline: each crosses it."""
    rng = random.Random(seed)
    rings = [shapely.get_exterior_ring(part) for part in shapely.get_parts(outline)]
    rings.sort(key=lambda ring: -ring.length)  # the mainland first, not islands of a few metres
    circles = []
    for _ in range(count):
        at = rings[0].interpolate(rng.random(), normalized=True)
        circles.append(as_multipolygon(geodesic_circle(at.x, at.y, rng.uniform(500, 60_000))))
    return circles


@pytest.mark.parametrize("circle", _border_circles(REGIONS.country, 150, seed=7))
def test_an_area_across_the_border_keeps_exactly_its_part_inside_kazakhstan(
    circle: MultiPolygon,
) -> None:
    clipped = REGIONS.clip_to_country(circle)
    assert clipped is not None and clipped.is_valid
    whole = REGIONS.country.intersection(circle)
    assert clipped.symmetric_difference(whole).area <= 1e-9 * whole.area
    assert clipped.area < circle.area


def test_an_area_inside_kazakhstan_is_kept_as_sent_and_one_outside_is_none() -> None:
    astana = as_multipolygon(geodesic_circle(71.43, 51.13, 10_000))
    assert REGIONS.clip_to_country(astana) is astana
    moscow = as_multipolygon(geodesic_circle(37.62, 55.75, 10_000))
    assert REGIONS.clip_to_country(moscow) is None


def test_regions_an_area_spans_are_named_largest_share_first() -> None:
    # Kostanay (KZ-39) and North Kazakhstan (KZ-59) meet here; the box lies mostly in Kostanay.
    kostanay = REGIONS.boundary("KZ-39")
    north = REGIONS.boundary("KZ-59")
    assert kostanay is not None and north is not None
    seam = kostanay.intersection(north.buffer(1e-6)).representative_point()
    area = as_multipolygon(box(seam.x - 0.6, seam.y - 0.2, seam.x + 0.2, seam.y + 0.2))
    touched = REGIONS.touched_by(area)
    shares = {code: _share(code, area) for code in touched}
    assert set(touched) >= {"KZ-39", "KZ-59"}
    assert list(touched) == sorted(shares, key=lambda code: -shares[code])
    assert all(share > 0 for share in shares.values())


def test_an_area_inside_one_region_touches_that_region_only() -> None:
    astana = as_multipolygon(geodesic_circle(71.43, 51.13, 5_000))
    assert REGIONS.touched_by(astana) == ("KZ-71",)  # the city of Astana is a region of its own


def _share(code: str, area: MultiPolygon) -> float:
    boundary = REGIONS.boundary(code)
    assert boundary is not None
    return float(boundary.intersection(area).area)
