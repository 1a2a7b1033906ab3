"""Report values and arithmetic (pure): periods, the volunteer-hours rule, per-region sums."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from types import MappingProxyType
from uuid import UUID

from shared.reference import KAZAKHSTAN_TZ

DEFAULT_SHIFT_H: Mapping[str, float] = MappingProxyType(
    {
        "flood": 8.0,
        "wildfire": 8.0,
        "mudflow": 8.0,
        "blizzard": 6.0,
        "earthquake": 12.0,
        "building_collapse": 12.0,
        "missing_person": 6.0,
        "other": 4.0,
    }
)


@dataclass(frozen=True)
class Period:
    """Kazakhstan calendar days, `first_day` to `last_day` inclusive."""

    first_day: date
    last_day: date

    def __post_init__(self) -> None:
        if self.last_day < self.first_day:
            raise ValueError(f"the period ends ({self.last_day}) before it starts")

    @classmethod
    def day(cls, day: date) -> Period:
        return cls(day, day)

    @property
    def starts_at(self) -> datetime:
        return datetime.combine(self.first_day, time(), KAZAKHSTAN_TZ)

    @property
    def ends_at(self) -> datetime:
        """The first moment after the period."""
        return datetime.combine(self.last_day + timedelta(days=1), time(), KAZAKHSTAN_TZ)


@dataclass(frozen=True)
class HoursRule:
    shift_h: Mapping[str, float] = field(default_factory=lambda: DEFAULT_SHIFT_H)
    fallback_shift_h: float = 4.0
    # Nobody's single deployment counts for more than a day without a recorded end.
    max_h: float = 24.0

    def hours(
        self,
        *,
        accepted_at: datetime,
        ended_at: datetime | None,
        incident_type: str | None,
        as_of: datetime,
    ) -> float:
        """The volunteer-hours one deployment counts for (see the module docstring)."""
        if ended_at is not None:
            worked_h = _hours_between(accepted_at, ended_at)
        else:
            shift_h = self.shift_h.get(incident_type or "", self.fallback_shift_h)
            worked_h = min(shift_h, _hours_between(accepted_at, as_of))
        return min(worked_h, self.max_h)


@dataclass(frozen=True)
class Deployment:
    region_code: str | None
    incident_type: str | None
    volunteer_id: UUID
    accepted_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True)
class RegionCounts:
    region_code: str | None
    incidents_opened: int = 0
    offers_sent: int = 0
    offers_declined: int = 0
    offers_timed_out: int = 0
    offers_stood_down: int = 0
    groups_completed: int = 0
    groups_understaffed: int = 0


@dataclass(frozen=True)
class Registration:
    """Volunteers whose home is the region: registered by the period's end, and active in it."""

    region_code: str
    registered: int
    active: int


@dataclass(frozen=True)
class RegionActivity:
    region_code: str | None
    period: Period
    exercises_included: bool
    incidents_opened: int
    offers_sent: int
    deployments: int
    offers_declined: int
    offers_timed_out: int
    offers_stood_down: int
    groups_completed: int
    groups_understaffed: int
    volunteer_hours: float
    unique_active_volunteers: int
    registered_volunteers: int
    active_registered_volunteers: int

    @property
    def active_share(self) -> float | None:
        """Active among registered in the region; None when nobody is registered there."""
        if not self.registered_volunteers:
            return None
        return self.active_registered_volunteers / self.registered_volunteers


def summarise(
    period: Period,
    *,
    counts: Iterable[RegionCounts],
    deployments: Iterable[Deployment],
    registrations: Iterable[Registration],
    rule: HoursRule,
    as_of: datetime,
    include_exercises: bool = False,
    region_codes: Sequence[str] | None = None,
) -> list[RegionActivity]:
    """One row per region: the requested ones, or every region with activity or volunteers."""
    counts_by = {row.region_code: row for row in counts}
    registered_by: dict[str | None, Registration] = {row.region_code: row for row in registrations}
    deployed_by: dict[str | None, list[Deployment]] = {}
    for deployment in deployments:
        deployed_by.setdefault(deployment.region_code, []).append(deployment)
    regions: list[str | None] = (
        list(dict.fromkeys(region_codes))
        if region_codes is not None
        else sorted(
            {*counts_by, *deployed_by, *registered_by}, key=lambda code: (code is None, code or "")
        )
    )
    rows = []
    for region in regions:
        counted = counts_by.get(region) or RegionCounts(region)
        deployed = deployed_by.get(region, [])
        registered = registered_by.get(region)
        hours = sum(
            rule.hours(
                accepted_at=d.accepted_at,
                ended_at=d.ended_at,
                incident_type=d.incident_type,
                as_of=as_of,
            )
            for d in deployed
        )
        rows.append(
            RegionActivity(
                region_code=region,
                period=period,
                exercises_included=include_exercises,
                incidents_opened=counted.incidents_opened,
                offers_sent=counted.offers_sent,
                deployments=len(deployed),
                offers_declined=counted.offers_declined,
                offers_timed_out=counted.offers_timed_out,
                offers_stood_down=counted.offers_stood_down,
                groups_completed=counted.groups_completed,
                groups_understaffed=counted.groups_understaffed,
                volunteer_hours=round(hours, 2),
                unique_active_volunteers=len({d.volunteer_id for d in deployed}),
                registered_volunteers=registered.registered if registered else 0,
                active_registered_volunteers=registered.active if registered else 0,
            )
        )
    return rows


def _hours_between(start: datetime, end: datetime) -> float:
    return max((end - start).total_seconds(), 0.0) / 3600
