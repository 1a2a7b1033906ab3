"""What a caller who may not see personal data is shown instead — pure.

A missing-person incident's texts name the person, their age, what they wear and their medical
needs, and its centre is where they were last seen. Only the dispatchers and coordinators of its
regions (and admins) read those; everyone else — the public map, volunteers, analysts, another
region's dispatchers — gets the kind of incident, a centre rounded to about a kilometre and, for
its area, the box around the search circle widened out to a 0.02° grid: the circle itself would
give its centre away to anyone who averages its points.
"""

from __future__ import annotations

import json
import math

from services.api.schemas import IncidentProperties
from shared.events.incidents import IncidentSource, LocalizedText

# The public box's edges fall on this grid (≈2.2 km north–south, ≈1.3 km east–west).
PUBLIC_GRID_DEG = 0.02
# 0.01° is ~1.1 km north–south and ~0.7 km east–west at Kazakhstan's latitudes.
PUBLIC_CENTER_DECIMALS = 2


def public_incident(properties: IncidentProperties) -> IncidentProperties:
    """The incident as someone without access to its people sees it."""
    if properties.source is not IncidentSource.MISSING_PERSON:
        return properties
    lon, lat = properties.center
    return properties.model_copy(
        update={
            "headline": None,
            "texts": [
                LocalizedText(language=text.language, event=text.event) for text in properties.texts
            ],
            "center": (
                round(lon, PUBLIC_CENTER_DECIMALS),
                round(lat, PUBLIC_CENTER_DECIMALS),
            ),
        }
    )


def public_area(properties: IncidentProperties, geometry_json: str) -> str:
    """The geometry someone without access to the incident's people sees (GeoJSON text)."""
    if properties.source is not IncidentSource.MISSING_PERSON:
        return geometry_json
    xs: list[float] = []
    ys: list[float] = []
    _walk(json.loads(geometry_json).get("coordinates", []), xs, ys)
    if not xs:
        return geometry_json
    grid = PUBLIC_GRID_DEG
    west, east = math.floor(min(xs) / grid) * grid, math.ceil(max(xs) / grid) * grid
    south, north = math.floor(min(ys) / grid) * grid, math.ceil(max(ys) / grid) * grid
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    rounded = [[round(x, 2), round(y, 2)] for x, y in ring]
    return json.dumps({"type": "MultiPolygon", "coordinates": [[rounded]]})


def _walk(node: object, xs: list[float], ys: list[float]) -> None:
    """Every position of nested GeoJSON coordinates, iteratively (linear in their number)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if (
            isinstance(item, list)
            and len(item) >= 2
            and all(isinstance(value, int | float) for value in item[:2])
        ):
            xs.append(float(item[0]))
            ys.append(float(item[1]))
        elif isinstance(item, list):
            stack.extend(item)
