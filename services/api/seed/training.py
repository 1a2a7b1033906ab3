"""Which certificates synthetic volunteers hold, from whom, and until when.

Shares follow what volunteer organisations in Kazakhstan report (first aid for almost half, the
specialist trainings for a few percent), shaped by the regions' hazards: more water rescuers where
the spring floods come (Kostanay, North Kazakhstan, Akmola, Aktobe), more mountain rescuers near the
Tien Shan and the Altai, and off-road drivers mostly among people who own an off-road vehicle.
About 15 % of certificates have already expired on `today`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
from numpy.typing import NDArray

from shared.events.volunteers import CertificationType

FLOOD_PRONE_REGIONS = frozenset({"KZ-39", "KZ-59", "KZ-11", "KZ-15"})
MOUNTAIN_REGIONS = frozenset({"KZ-75", "KZ-19", "KZ-33", "KZ-63"})

_EXPIRED_SHARE = 0.15
_DAYS_PER_YEAR = 365.2425

_RED_CRESCENT = "Қазақстан Қызыл Жарты Ай қоғамы"
_MINISTRY_RESCUE = "ҚР ТЖМ Республикалық жедел-құтқару жасағы"
_CIVIL_PROTECTION_ACADEMY = "Академия гражданской защиты им. Малика Габдуллина МЧС РК"


@dataclass(frozen=True, slots=True)
class CertificationDraft:
    """A certificate valid from `issued_on` up to, not including, `expires_on`."""

    type: CertificationType
    issued_on: date
    expires_on: date
    issuer: str

    def is_valid_on(self, day: date) -> bool:
        return self.issued_on <= day < self.expires_on


@dataclass(frozen=True, slots=True)
class _Training:
    type: CertificationType
    share: float
    validity_years: int
    min_age_years: int
    issuers: tuple[str, ...]


_TRAININGS = (
    _Training(
        CertificationType.FIRST_AID,
        0.45,
        2,
        16,
        (_RED_CRESCENT, "Kazakhstan Red Crescent", "Республиканский центр скорой помощи"),
    ),
    _Training(
        CertificationType.SEARCH_AND_RESCUE,
        0.15,
        3,
        16,
        (_MINISTRY_RESCUE, "Казспас", _RED_CRESCENT),
    ),
    # The share of off-road drivers is set by transport in `draw_certifications`; 0.10 overall.
    _Training(CertificationType.OFFROAD_DRIVER, 0.0, 5, 18, ("ОСТО РК", "Федерация автоспорта РК")),
    _Training(CertificationType.WATER_RESCUE, 0.05, 3, 16, (_MINISTRY_RESCUE, "ОСВОД Казахстана")),
    _Training(
        CertificationType.DRONE_PILOT,
        0.04,
        2,
        18,
        ("Авиационная администрация Казахстана", "Aviation Administration of Kazakhstan"),
    ),
    _Training(
        CertificationType.PSYCHOLOGIST,
        0.03,
        5,
        22,
        ("Kazakhstan Red Crescent", "Ассоциация психологов Казахстана", _RED_CRESCENT),
    ),
    _Training(
        CertificationType.RADIO_OPERATOR,
        0.05,
        5,
        16,
        ("Казахстанская федерация радиоспорта", "Kazakhstan Amateur Radio League"),
    ),
    _Training(
        CertificationType.MOUNTAIN_RESCUE,
        0.03,
        3,
        18,
        ("Қазселденқорғау", "Федерация альпинизма и скалолазания РК", _MINISTRY_RESCUE),
    ),
    _Training(
        CertificationType.DOG_HANDLER,
        0.01,
        2,
        18,
        ("Кинологический центр МЧС РК", "Кинологическая федерация Казахстана"),
    ),
    _Training(
        CertificationType.FIREFIGHTING,
        0.05,
        3,
        18,
        (_CIVIL_PROTECTION_ACADEMY, "ҚР ТЖМ Өрт сөндіру қызметі"),
    ),
    _Training(
        CertificationType.TEAM_LEADER,
        0.04,
        3,
        21,
        (_CIVIL_PROTECTION_ACADEMY, _RED_CRESCENT),
    ),
)
_COLUMN = {training.type: column for column, training in enumerate(_TRAININGS)}
_SHARE = np.array([t.share for t in _TRAININGS])
_MIN_AGE_YEARS = np.array([t.min_age_years for t in _TRAININGS])
_VALIDITY_DAYS = np.array([t.validity_years * _DAYS_PER_YEAR for t in _TRAININGS])
_MIN_AGE_DAYS = np.ceil(_MIN_AGE_YEARS * _DAYS_PER_YEAR).astype(np.int64)


def draw_certifications(
    rng: np.random.Generator,
    *,
    today: date,
    region_codes: tuple[str, ...],
    region: NDArray[np.intp],
    birth_ordinal: NDArray[np.int64],
    age_years: NDArray[np.float64],
    drives_offroad: NDArray[np.bool_],
    keep: int,
) -> list[tuple[CertificationDraft, ...]]:
    """The certificates of the first `keep` people; all `len(region)` are drawn, so the stream
    does not depend on `keep`. Nobody holds one issued before they were old enough for it.
    """
    n = len(region)
    share = np.tile(_SHARE, (n, 1))
    flood = np.array([code in FLOOD_PRONE_REGIONS for code in region_codes])[region]
    mountain = np.array([code in MOUNTAIN_REGIONS for code in region_codes])[region]
    share[:, _COLUMN[CertificationType.WATER_RESCUE]] *= np.where(flood, 2.2, 1.0)
    share[:, _COLUMN[CertificationType.MOUNTAIN_RESCUE]] *= np.where(mountain, 3.0, 0.6)
    share[:, _COLUMN[CertificationType.OFFROAD_DRIVER]] = np.where(drives_offroad, 0.40, 0.045)
    old_enough = age_years[:, None] >= _MIN_AGE_YEARS
    held = (rng.random((n, len(_TRAININGS))) < share) & old_enough

    rows, columns = np.nonzero(held)
    # Held for a uniform time up to validity / (1 - expired share): that share has lapsed.
    held_days = np.floor(
        rng.random(len(rows)) * _VALIDITY_DAYS[columns] / (1.0 - _EXPIRED_SHARE)
    ).astype(np.int64)
    today_ordinal = today.toordinal()
    issued = np.maximum(today_ordinal - held_days, birth_ordinal[rows] + _MIN_AGE_DAYS[columns])
    issued = np.minimum(issued, today_ordinal)
    issuer_u = rng.random(len(rows))

    kept = rows < keep
    per_person: list[list[CertificationDraft]] = [[] for _ in range(keep)]
    for row, column, issued_ordinal, u in zip(
        rows[kept].tolist(),
        columns[kept].tolist(),
        issued[kept].tolist(),
        issuer_u[kept].tolist(),
        strict=True,
    ):
        training = _TRAININGS[column]
        issued_on = date.fromordinal(issued_ordinal)
        per_person[row].append(
            CertificationDraft(
                type=training.type,
                issued_on=issued_on,
                expires_on=_add_years(issued_on, training.validity_years),
                issuer=training.issuers[int(u * len(training.issuers))],
            )
        )
    return [tuple(certificates) for certificates in per_person]


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)
