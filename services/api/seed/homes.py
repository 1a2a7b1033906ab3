"""Where synthetic volunteers live: around real settlements, weighted by population.

A settlement is drawn weighted by its population and the home is jittered around it: a lognormal
distance whose scale grows with the square root of the population (median ~0.6 km in a village,
~2 km in a city of 300 000, ~5 km in Almaty). The reference settlements are towns and district
centres; the rural population they leave out (about a third of Kazakhstan) is modelled as each
one's hinterland — villages and farms some 10 km out, never more than 30 km.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import shapely
from numpy.typing import NDArray

MAX_HOME_DISTANCE_KM = 30.0
"""No home is farther than this from the settlement it was drawn around."""

CITY_REGIONS = frozenset({"KZ-71", "KZ-75", "KZ-79"})
"""Astana, Almaty and Shymkent: cities of republican significance, regions without a hinterland."""

CITY, TOWN, RURAL = 0, 1, 2
"""Settings of a home, as stored in `Homes.setting`."""

_CITY_POPULATION = 100_000
_TOWN_POPULATION = 10_000
_HINTERLAND_PEOPLE_PER_SETTLEMENT = 24_000
_HINTERLAND_MEDIAN_KM = 10.0
_KM_PER_DEGREE_LAT = 110.574
_KM_PER_DEGREE_LON_AT_EQUATOR = 111.320
_PLACEMENT_ATTEMPTS = 4


class SettlementLike(Protocol):
    """What the generator needs of a settlement (`shared.reference.Settlement` fits)."""

    @property
    def name(self) -> str: ...
    @property
    def name_ru(self) -> str: ...
    @property
    def latitude(self) -> float: ...
    @property
    def longitude(self) -> float: ...
    @property
    def population(self) -> int: ...
    @property
    def region_code(self) -> str: ...


class RegionLike(Protocol):
    """What the generator needs of a region (`shared.reference.Region` fits)."""

    @property
    def code(self) -> str: ...
    @property
    def boundary(self) -> Any: ...


@dataclass(frozen=True)
class Places:
    """The settlements as arrays, ready for vectorised draws."""

    settlements: Sequence[SettlementLike]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    population: NDArray[np.float64]
    region_codes: tuple[str, ...]
    region_index: NDArray[np.intp]
    # Draw u·total and search: below len(settlements) a home in the settlement, above it a home
    # in the hinterland of settlement (index - len(settlements)).
    cumulative_weight: NDArray[np.float64]
    boundaries: tuple[Any, ...]

    @classmethod
    def build(
        cls, settlements: Sequence[SettlementLike], regions: Sequence[RegionLike] | None
    ) -> Places:
        region_codes = tuple(sorted({s.region_code for s in settlements}))
        code_index = {code: i for i, code in enumerate(region_codes)}
        population = np.array([max(s.population, 1) for s in settlements], dtype=np.float64)
        hinterland = np.array(
            [
                0.0 if s.region_code in CITY_REGIONS else _HINTERLAND_PEOPLE_PER_SETTLEMENT
                for s in settlements
            ],
            dtype=np.float64,
        )
        by_code = {r.code: r.boundary for r in regions or ()}
        boundaries = tuple(by_code.get(code) for code in region_codes)
        for boundary in boundaries:
            if boundary is not None:
                shapely.prepare(boundary)
        return cls(
            settlements=settlements,
            lon=np.array([s.longitude for s in settlements], dtype=np.float64),
            lat=np.array([s.latitude for s in settlements], dtype=np.float64),
            population=population,
            region_codes=region_codes,
            region_index=np.array([code_index[s.region_code] for s in settlements], dtype=np.intp),
            cumulative_weight=np.cumsum(np.concatenate([population, hinterland])),
            boundaries=boundaries,
        )


@dataclass(frozen=True)
class Homes:
    settlement: NDArray[np.intp]
    region: NDArray[np.intp]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    setting: NDArray[np.intp]
    """CITY, TOWN or RURAL."""


def draw_homes(places: Places, rng: np.random.Generator, n: int) -> Homes:
    """`n` homes; with region boundaries in `places`, each inside its settlement's region.

    A home that cannot be placed inside after a few draws stays at the settlement itself.
    """
    weight = places.cumulative_weight
    drawn = np.searchsorted(weight, rng.random(n) * weight[-1], side="right")
    drawn = np.minimum(drawn, len(weight) - 1)
    n_settlements = len(places.settlements)
    in_hinterland = drawn >= n_settlements
    settlement = np.where(in_hinterland, drawn - n_settlements, drawn)
    region = places.region_index[settlement]
    population = places.population[settlement]
    median_km = np.where(in_hinterland, _HINTERLAND_MEDIAN_KM, 0.5 + 0.0032 * np.sqrt(population))
    sigma = np.where(in_hinterland, 0.6, 0.7)
    centre_lon, centre_lat = places.lon[settlement], places.lat[settlement]
    lon, lat = centre_lon.copy(), centre_lat.copy()
    pending = np.ones(n, dtype=bool)
    for _ in range(_PLACEMENT_ATTEMPTS):
        distance_km = median_km * np.exp(sigma * rng.standard_normal(n))
        distance_km = np.where(
            distance_km > MAX_HOME_DISTANCE_KM, MAX_HOME_DISTANCE_KM * rng.random(n), distance_km
        )
        bearing = rng.random(n) * (2 * math.pi)
        # Flat-earth offsets are accurate to metres within 30 km.
        candidate_lat = centre_lat + distance_km * np.cos(bearing) / _KM_PER_DEGREE_LAT
        candidate_lon = centre_lon + distance_km * np.sin(bearing) / (
            _KM_PER_DEGREE_LON_AT_EQUATOR * np.cos(np.radians(centre_lat))
        )
        accept = pending & _inside_region(
            places, region=region, lon=candidate_lon, lat=candidate_lat
        )
        lon[accept], lat[accept] = candidate_lon[accept], candidate_lat[accept]
        pending &= ~accept
        if not pending.any():
            break
    setting = np.where(
        in_hinterland | (population < _TOWN_POPULATION),
        RURAL,
        np.where(population < _CITY_POPULATION, TOWN, CITY),
    ).astype(np.intp)
    return Homes(settlement=settlement, region=region, lon=lon, lat=lat, setting=setting)


def _inside_region(
    places: Places,
    *,
    region: NDArray[np.intp],
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
) -> NDArray[np.bool_]:
    inside = np.ones(len(region), dtype=bool)
    for index, boundary in enumerate(places.boundaries):
        if boundary is None:
            continue
        mask = region == index
        if mask.any():
            inside[mask] = shapely.contains_xy(boundary, lon[mask], lat[mask])
    return inside
