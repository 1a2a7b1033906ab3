"""Kazakhstan settlements with at least 500 people (GeoNames), read from the vendored file."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

_DATA = files(__package__).joinpath("data", "settlements.csv")


@dataclass(frozen=True)
class Settlement:
    geonameid: int
    name: str  # GeoNames main name, Latin script
    name_ru: str  # a Cyrillic name, Russian where GeoNames has one; "" when none
    latitude: float
    longitude: float
    population: int
    region_code: str  # ISO 3166-2 code of the region it lies in


@cache
def load_settlements() -> tuple[Settlement, ...]:
    """All settlements, largest population first."""
    text = _DATA.read_text(encoding="utf-8")
    return tuple(
        Settlement(
            geonameid=int(row["geonameid"]),
            name=row["name"],
            name_ru=row["name_ru"],
            latitude=float(row["latitude"]),
            longitude=float(row["longitude"]),
            population=int(row["population"]),
            region_code=row["region_code"],
        )
        for row in csv.DictReader(io.StringIO(text, newline=""))
    )
