"""Districts (raions) of Kazakhstan's oblasts, read from the vendored file.

No boundaries: each district is its administrative centre (GeoNames coordinates) and an
approximate radius, its share of the region's area as a circle. See ``NOTICE``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

_DATA = files(__package__).joinpath("data", "districts.csv")


@dataclass(frozen=True)
class District:
    code: str  # stable Jedel id, "<ISO region>-<romanised name>", e.g. "KZ-39-ZHITIKARA"
    region_code: str  # ISO 3166-2 code of the (2022) region the centre lies in
    name_kk: str  # "Жітіқара ауданы"
    name_ru: str  # "Житикаринский район"
    name_en: str  # romanised from the Kazakh name, "Zhitikara District"
    variants: tuple[str, ...]  # further spellings in use (genitive forms, old names)
    centre_geonameid: int  # the administrative centre in GeoNames
    centre_name: str  # its GeoNames name, Latin script
    latitude: float  # of the centre
    longitude: float
    radius_km: float  # sqrt(region area / districts tabled in the region / pi)


@cache
def load_districts() -> tuple[District, ...]:
    """All tabled districts, ordered by code."""
    text = _DATA.read_text(encoding="utf-8")
    return tuple(
        District(
            code=row["code"],
            region_code=row["region_code"],
            name_kk=row["name_kk"],
            name_ru=row["name_ru"],
            name_en=row["name_en"],
            variants=tuple(v for v in row["variants"].split("|") if v),
            centre_geonameid=int(row["centre_geonameid"]),
            centre_name=row["centre_name"],
            latitude=float(row["latitude"]),
            longitude=float(row["longitude"]),
            radius_km=float(row["radius_km"]),
        )
        for row in csv.DictReader(io.StringIO(text, newline=""))
    )
