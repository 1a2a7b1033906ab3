"""GeoJSON (RFC 7946) on the way out: bounding boxes in, features and collections out.

Geometries arrive as GeoJSON text from PostGIS and are spliced into the answer unparsed: a
region-sized area has thousands of positions, and decoding them only to encode them again would
be most of a request's work.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from starlette.responses import JSONResponse

from services.api.errors import InvalidQueryError

MEDIA_TYPE = "application/geo+json"


class GeoJSONResponse(JSONResponse):
    """JSON as `application/geo+json`; a `str` body is taken as already-encoded JSON."""

    media_type = MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        if isinstance(content, str):
            return content.encode("utf-8")
        return super().render(content)


@dataclass(frozen=True)
class BBox:
    """A lon/lat box; boxes across the antimeridian are not supported (Kazakhstan is far from it)."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float


def parse_bbox(text: str) -> BBox:
    """Read `minLon,minLat,maxLon,maxLat`, the order of RFC 7946 and OGC API Features."""
    parts = [part.strip() for part in text.split(",")]
    if len(parts) != 4:
        raise InvalidQueryError(
            f"bbox {text!r} must be four numbers minLon,minLat,maxLon,maxLat, got {len(parts)}"
        )
    values: list[float] = []
    for name, part in zip(("minLon", "minLat", "maxLon", "maxLat"), parts, strict=True):
        try:
            value = float(part)
        except ValueError:
            raise InvalidQueryError(f"bbox {name} {part!r} is not a number") from None
        if not math.isfinite(value):
            raise InvalidQueryError(f"bbox {name} {part!r} is not a finite number")
        values.append(value)
    box = BBox(*values)
    for name, lon in (("minLon", box.min_lon), ("maxLon", box.max_lon)):
        if not -180 <= lon <= 180:
            raise InvalidQueryError(f"bbox {name} {lon:g} is outside [-180, 180] (bbox is lon,lat)")
    for name, lat in (("minLat", box.min_lat), ("maxLat", box.max_lat)):
        if not -90 <= lat <= 90:
            raise InvalidQueryError(f"bbox {name} {lat:g} is outside [-90, 90] (bbox is lon,lat)")
    if box.min_lon >= box.max_lon:
        raise InvalidQueryError(
            f"bbox minLon {box.min_lon:g} must be less than maxLon {box.max_lon:g}"
        )
    if box.min_lat >= box.max_lat:
        raise InvalidQueryError(
            f"bbox minLat {box.min_lat:g} must be less than maxLat {box.max_lat:g}"
        )
    return box


def feature_json(feature_id: object, geometry_json: str, properties: BaseModel) -> str:
    """One Feature; `geometry_json` must be a GeoJSON geometry as PostGIS wrote it."""
    return (
        f'{{"type":"Feature","id":{json.dumps(str(feature_id))},'
        f'"geometry":{geometry_json},"properties":{properties.model_dump_json()}}}'
    )


def collection_json(features: Iterable[str]) -> str:
    """A FeatureCollection of `feature_json` strings, with OGC API Features' `numberReturned`."""
    listed = list(features)
    return (
        f'{{"type":"FeatureCollection","features":[{",".join(listed)}],'
        f'"numberReturned":{len(listed)}}}'
    )
