"""A synthetic but plausible population of volunteers, generated without any I/O.

Homes follow where people live (`homes`), training follows the regions' hazards (`training`),
names follow the regions' traditions (`names`). About 5 % of volunteers are 16 or 17 and about 15 %
of certificates have expired on `today`, so the eligibility rules downstream have work to do.

The output is deterministic for a seed and prefix-stable: the first k volunteers of a run of n are
the k volunteers of a run of k. Draws are vectorised per chunk with numpy; only assembling the
frozen drafts is a Python loop, which keeps a million volunteers well under a minute.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, time
from uuid import UUID

import numpy as np
from numpy.typing import NDArray

from services.api.seed.homes import (
    CITY,
    RURAL,
    TOWN,
    Places,
    RegionLike,
    SettlementLike,
    draw_homes,
)
from services.api.seed.names import Tradition, compose_name, ethnic_mix
from services.api.seed.training import CertificationDraft, draw_certifications
from shared.events.volunteers import Availability, CertificationType, TransportMode

ADULT_AGE_YEARS = 18
MIN_AGE_YEARS = 16
MAX_AGE_YEARS = 70

KAZAKH_MOBILE_PREFIXES = (700, 701, 702, 705, 707, 708, 747, 771, 775, 776, 777, 778)

_CHUNK = 8192
_MINOR_SHARE = 0.05
_FEMALE_SHARE = 0.52
_DAYS_PER_YEAR = 365.2425

_PHONE_SPACE = len(KAZAKH_MOBILE_PREFIXES) * 10_000_000
_PHONE_STRIDE = 73_939_133  # a prime: i ↦ (stride·i + offset) mod space is a bijection

_TRANSPORT_MODES = tuple(TransportMode)
_OFFROAD = _TRANSPORT_MODES.index(TransportMode.OFFROAD)
_TRANSPORT_SHARES = {  # (foot, bicycle, car, offroad) by setting
    CITY: (0.30, 0.12, 0.48, 0.10),
    TOWN: (0.22, 0.15, 0.45, 0.18),
    RURAL: (0.10, 0.12, 0.40, 0.38),
}
_TRANSPORT_CUMULATIVE = np.cumsum(
    [_TRANSPORT_SHARES[setting] for setting in range(len(_TRANSPORT_SHARES))], axis=1
)
_TRADITIONS = tuple(Tradition)
_LANGUAGE_SETS = tuple(
    tuple(lang for lang, bit in (("kk", 4), ("ru", 2), ("en", 1)) if c & bit) for c in range(8)
)
_QUIET_HOURS_SHARE = 0.3
_QUIET_HOURS = (
    (time(22, 0), time(7, 0)),
    (time(23, 0), time(6, 0)),
    (time(23, 0), time(7, 0)),
    (time(0, 0), time(6, 0)),
    (time(21, 0), time(6, 0)),
    (time(22, 0), time(6, 0)),
)
_RED_CRESCENT = "Қазақстан Қызыл Жарты Ай қоғамы"
_UNIVERSITY_CLUBS: dict[str, str] = {
    "KZ-75": "Әл-Фараби атындағы ҚазҰУ еріктілер клубы",
    "KZ-71": "Л. Н. Гумилев атындағы ЕҰУ еріктілер клубы",
    "KZ-39": "А. Байтұрсынов атындағы Қостанай өңірлік университетінің еріктілер клубы",
    "KZ-59": "М. Қозыбаев атындағы Солтүстік Қазақстан университетінің еріктілер клубы",
    "KZ-35": "Бөкетов университетінің еріктілер клубы",
    "KZ-79": "М. Әуезов атындағы Оңтүстік Қазақстан университетінің еріктілер клубы",
    "KZ-55": "Торайғыров университетінің еріктілер клубы",
    "KZ-15": "Қ. Жұбанов атындағы Ақтөбе өңірлік университетінің еріктілер клубы",
}
_DEFAULT_UNIVERSITY_CLUB = "Студенческий волонтёрский клуб"


@dataclass(frozen=True, slots=True)
class VolunteerDraft:
    id: UUID
    full_name: str
    phone: str
    birth_date: date
    languages: tuple[str, ...]
    organisation: str | None
    region_code: str
    home_lon: float
    home_lat: float
    transport_mode: TransportMode
    availability: Availability
    quiet_hours_start: time | None
    quiet_hours_end: time | None
    certifications: tuple[CertificationDraft, ...]

    def age_on(self, day: date) -> int:
        had_birthday = (day.month, day.day) >= (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - (0 if had_birthday else 1)

    def is_adult_on(self, day: date) -> bool:
        return self.age_on(day) >= ADULT_AGE_YEARS

    def holds_valid(self, certification: CertificationType, day: date) -> bool:
        return any(c.type is certification and c.is_valid_on(day) for c in self.certifications)


def phone_for_index(index: int, *, seed: int) -> str:
    """The index-th phone number of a seeded population: a bijection, so unique by construction."""
    prefix, subscriber = divmod(_phone_value(index, seed), 10_000_000)
    return f"+7{KAZAKH_MOBILE_PREFIXES[prefix]}{subscriber:07d}"


def _phone_value(index: int, seed: int) -> int:
    return (_PHONE_STRIDE * index + seed * 2_654_435_761) % _PHONE_SPACE


def generate_volunteers(
    count: int,
    *,
    settlements: Sequence[SettlementLike],
    regions: Sequence[RegionLike] | None = None,
    today: date,
    seed: int = 7,
) -> Iterator[VolunteerDraft]:
    """`count` volunteers living around `settlements`, as they stand on `today`.

    With `regions`, homes are kept inside the boundary of their settlement's region. `seed` must
    be ≥ 0.
    """
    if count < 0:
        raise ValueError(f"count must be ≥ 0, not {count}")
    if count > _PHONE_SPACE:
        raise ValueError(f"at most {_PHONE_SPACE} volunteers have distinct phone numbers")
    if seed < 0:
        raise ValueError(f"seed must be ≥ 0, not {seed}")
    if not settlements:
        raise ValueError("no settlements to place volunteers around")
    places = Places.build(settlements, regions)
    for start in range(0, count, _CHUNK):
        yield from _chunk(
            places, start=start, size=min(_CHUNK, count - start), today=today, seed=seed
        )


def _chunk(
    places: Places, *, start: int, size: int, today: date, seed: int
) -> Iterator[VolunteerDraft]:
    # Every chunk draws _CHUNK people from its own stream, whatever `size`: that is what makes a
    # shorter run a prefix of a longer one.
    rng = np.random.default_rng(np.random.SeedSequence([seed, start // _CHUNK]))
    n = _CHUNK
    ids_high = rng.integers(0, 2**64, size=n, dtype=np.uint64).tolist()
    ids_low = rng.integers(0, 2**64, size=n, dtype=np.uint64).tolist()
    homes = draw_homes(places, rng, n)
    transport = _draw_transport(rng, homes.setting)
    age_years = _draw_ages(rng, n)
    birth_ordinal = today.toordinal() - np.floor(age_years * _DAYS_PER_YEAR).astype(np.int64)
    tradition = _draw_traditions(rng, places.region_codes, homes.region)
    female = (rng.random(n) < _FEMALE_SHARE).tolist()
    name_draws = rng.random((n, 4)).tolist()
    languages = _draw_languages(
        rng, tradition=tradition, age_years=age_years, setting=homes.setting
    )
    organisation_u = rng.random(n).tolist()
    availability_u = rng.random(n).tolist()
    quiet_u = rng.random(n).tolist()
    certifications = draw_certifications(
        rng,
        today=today,
        region_codes=places.region_codes,
        region=homes.region,
        birth_ordinal=birth_ordinal,
        age_years=age_years,
        drives_offroad=transport == _OFFROAD,
        keep=size,
    )

    settlements, region_codes = places.settlements, places.region_codes
    settlement_l, region_l = homes.settlement.tolist(), homes.region.tolist()
    lon_l, lat_l = np.round(homes.lon, 6).tolist(), np.round(homes.lat, 6).tolist()
    transport_l, tradition_l = transport.tolist(), tradition.tolist()
    birth_l, age_l = birth_ordinal.tolist(), age_years.tolist()
    for i in range(size):
        home = settlements[settlement_l[i]]
        code = region_codes[region_l[i]]
        quiet_start, quiet_end = _quiet_hours(quiet_u[i])
        u_name = name_draws[i]
        yield VolunteerDraft(
            id=UUID(int=(ids_high[i] << 64) | ids_low[i], version=4),
            full_name=compose_name(
                _TRADITIONS[tradition_l[i]],
                female=female[i],
                style=u_name[0],
                u1=u_name[1],
                u2=u_name[2],
                u3=u_name[3],
            ),
            phone=phone_for_index(start + i, seed=seed),
            birth_date=date.fromordinal(birth_l[i]),
            languages=languages[i],
            organisation=_organisation(organisation_u[i], home=home, code=code, age=age_l[i]),
            region_code=code,
            home_lon=lon_l[i],
            home_lat=lat_l[i],
            transport_mode=_TRANSPORT_MODES[transport_l[i]],
            availability=_availability(availability_u[i]),
            quiet_hours_start=quiet_start,
            quiet_hours_end=quiet_end,
            certifications=certifications[i],
        )


def _draw_ages(rng: np.random.Generator, n: int) -> NDArray[np.float64]:
    # Adults peak around 30 (Beta(1.6, 3.2) over 18–70); the 0.02 keeps clear of birthdays.
    minor = rng.random(n) < _MINOR_SHARE
    ages: NDArray[np.float64] = np.where(
        minor,
        MIN_AGE_YEARS + 0.02 + rng.random(n) * 1.96,
        ADULT_AGE_YEARS + 0.02 + (MAX_AGE_YEARS - ADULT_AGE_YEARS - 0.04) * rng.beta(1.6, 3.2, n),
    )
    return ages


def _draw_traditions(
    rng: np.random.Generator, region_codes: tuple[str, ...], region: NDArray[np.intp]
) -> NDArray[np.intp]:
    mixes = np.array([ethnic_mix(code) for code in region_codes])
    kazakh, russian = mixes[region, 0], mixes[region, 1]
    u = rng.random(len(region))
    chosen: NDArray[np.intp] = np.where(
        u < kazakh,
        int(Tradition.KAZAKH),
        np.where(u < kazakh + russian, int(Tradition.RUSSIAN), int(Tradition.OTHER)),
    ).astype(np.intp)
    return chosen


def _draw_transport(rng: np.random.Generator, setting: NDArray[np.intp]) -> NDArray[np.intp]:
    u = rng.random(len(setting))[:, None]
    chosen: NDArray[np.intp] = (u >= _TRANSPORT_CUMULATIVE[setting]).sum(axis=1).astype(np.intp)
    return np.minimum(chosen, len(_TRANSPORT_MODES) - 1)


def _draw_languages(
    rng: np.random.Generator,
    *,
    tradition: NDArray[np.intp],
    age_years: NDArray[np.float64],
    setting: NDArray[np.intp],
) -> list[tuple[str, ...]]:
    n = len(tradition)
    kk_share = np.choose(tradition, [0.95, 0.18, 0.35])
    ru_share = np.choose(tradition, [0.80, 1.00, 0.92])
    en_share = 0.10 + 0.18 * (age_years < 30) + 0.07 * (setting == CITY)
    speaks_kk = rng.random(n) < kk_share
    speaks_ru = rng.random(n) < ru_share
    speaks_en = rng.random(n) < en_share
    neither = ~(speaks_kk | speaks_ru)
    speaks_kk |= neither & (tradition == int(Tradition.KAZAKH))
    speaks_ru |= neither & (tradition != int(Tradition.KAZAKH))
    code = speaks_kk.astype(np.int64) * 4 + speaks_ru * 2 + speaks_en
    return [_LANGUAGE_SETS[c] for c in code.tolist()]


def _quiet_hours(u: float) -> tuple[time, time] | tuple[None, None]:
    if u >= _QUIET_HOURS_SHARE:
        return None, None
    return _QUIET_HOURS[int(u / _QUIET_HOURS_SHARE * len(_QUIET_HOURS))]


def _availability(u: float) -> Availability:
    if u < 0.85:
        return Availability.AVAILABLE
    if u < 0.97:
        return Availability.OFF_DUTY
    return Availability.INACTIVE


def _organisation(u: float, *, home: SettlementLike, code: str, age: float) -> str | None:
    place = home.name_ru or home.name
    if u < 0.35:
        return None
    if u < 0.52:
        return _RED_CRESCENT
    if u < 0.72:
        return f"Волонтёрский корпус «{place}»"
    if u < 0.80:
        return f"Добровольная пожарная дружина «{place}»"
    if u < 0.90 and age < 26:
        return _UNIVERSITY_CLUBS.get(code, _DEFAULT_UNIVERSITY_CLUB)
    if u < 0.95:
        return "Ассоциация волонтёров Казахстана"
    return None
