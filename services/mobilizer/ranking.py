"""Who to ask first: by estimated time of arrival, then by how likely they are to accept.

ETA comes from a `Router`. `GeodesicRouter` estimates it without a road network: the geodesic
distance (WGS84) × a detour factor ÷ the speed of the volunteer's transport, plus time to get
ready. A road router can replace it behind the same interface. Assumptions and sources:
- detour factor 1.3: road distance over straight-line distance is typically 1.2–1.4 (Ballou,
  Rahardja & Sakai 2002, "Selected country circuity factors for road travel distance
  estimation", Transportation Research A 36:843–848);
- on foot 2.3 m/s: the median travelling speed of smartphone-alerted lay responders (Jonsson et
  al. 2020, "A brisk walk", Resuscitation 151:197–204; Heartrunner, Sweden); bicycle 4.5 m/s
  (~16 km/h); car 13.9 m/s (50 km/h, mixed town and road driving); off-road 11.1 m/s (40 km/h,
  off-road vehicles are used where roads are bad);
- 120 s to get ready: the median turnout of alerted community responders is 1:45 min, 2:22 at
  night ("Turnout time in smartphone alerting systems", Resuscitation 2025, 110772).

The acceptance estimate is the posterior mean of a Beta prior updated with the volunteer's own
offers and accepts. The prior Beta(1, 3) has mean 0.25, inside the published range of responder
apps (about 5–47 %; 17–47 % in the studies reviewed by Khalemsky et al. 2023, JMIR mHealth
11:e41551), and weighs as much as four offers, so a volunteer's own record soon dominates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from math import erf, exp, log, sqrt
from statistics import NormalDist
from typing import Protocol
from uuid import UUID

from pyproj import Geod

from services.mobilizer.eligibility import Candidate
from shared.events.volunteers import TransportMode
from shared.reference import KAZAKHSTAN_TZ

WGS84 = Geod(ellps="WGS84")

DETOUR_FACTOR = 1.3
SPEEDS_M_S: Mapping[TransportMode, float] = {
    TransportMode.FOOT: 2.3,
    TransportMode.BICYCLE: 4.5,
    TransportMode.CAR: 13.9,
    TransportMode.OFFROAD: 11.1,
}
START_DELAY_S: Mapping[TransportMode, int] = dict.fromkeys(TransportMode, 120)
LIVE_POSITION_MAX_AGE = timedelta(minutes=15)
ETA_BUCKET_S = 60
_SQRT2 = sqrt(2.0)


class Router(Protocol):
    def eta_s(
        self,
        from_lon: float,
        from_lat: float,
        to_lon: float,
        to_lat: float,
        mode: TransportMode,
        *,
        distance_m: float | None = None,
    ) -> int:
        """Seconds from the alert until a volunteer leaving from `from_` arrives at `to_`.

        `distance_m` is the geodesic distance between them when the caller knows it already; a
        road router may ignore it.
        """
        ...


def geodesic_distance_m(from_lon: float, from_lat: float, to_lon: float, to_lat: float) -> float:
    _, _, distance_m = WGS84.inv(from_lon, from_lat, to_lon, to_lat)
    return float(distance_m)


def geodesic_distances_m(
    origins: Sequence[tuple[float, float]], to_lon: float, to_lat: float
) -> list[float]:
    """The geodesic distance from each (lon, lat) of `origins` to one point, in one call."""
    if not origins:
        return []
    count = len(origins)
    _, _, distances = WGS84.inv(
        [lon for lon, _ in origins], [lat for _, lat in origins], [to_lon] * count, [to_lat] * count
    )
    return [float(distance) for distance in distances]


@dataclass(frozen=True, slots=True)
class GeodesicRouter:
    """ETA without a road network: geodesic distance × detour ÷ speed, plus time to get ready."""

    detour_factor: float = DETOUR_FACTOR
    speeds_m_s: Mapping[TransportMode, float] = field(default_factory=lambda: dict(SPEEDS_M_S))
    start_delay_s: Mapping[TransportMode, int] = field(default_factory=lambda: dict(START_DELAY_S))

    def eta_s(
        self,
        from_lon: float,
        from_lat: float,
        to_lon: float,
        to_lat: float,
        mode: TransportMode,
        *,
        distance_m: float | None = None,
    ) -> int:
        if distance_m is None:
            distance_m = geodesic_distance_m(from_lon, from_lat, to_lon, to_lat)
        return self.eta_for_distance_s(distance_m, mode)

    def eta_for_distance_s(self, distance_m: float, mode: TransportMode) -> int:
        travel_s = distance_m * self.detour_factor / self.speeds_m_s[mode]
        return round(self.start_delay_s[mode] + travel_s)


def position_of(
    candidate: Candidate, *, now: datetime, max_age: timedelta = LIVE_POSITION_MAX_AGE
) -> tuple[float, float]:
    """(lon, lat): the live position when reported within `max_age` of `now`, else home."""
    live_at, lon, lat = candidate.live_at, candidate.live_lon, candidate.live_lat
    if live_at is not None and lon is not None and lat is not None and now - live_at <= max_age:
        return lon, lat
    return candidate.home_lon, candidate.home_lat


@dataclass(frozen=True, slots=True)
class AcceptanceModel:
    """How likely a volunteer is to accept an offer, learned from their own history.

    Offers that are not urgent are answered less at night (people asleep do not hear an ordinary
    notification); urgent offers are sent as critical alerts that ring through do-not-disturb,
    so they keep the learned rate.
    """

    prior_alpha: float = 1.0
    prior_beta: float = 3.0
    night_factor: float = 0.8
    night_start_hour: int = 0
    night_end_hour: int = 6

    def p_accept(self, candidate: Candidate, *, is_urgent: bool, local_hour: int) -> float:
        accepts = min(candidate.accepts_total, candidate.offers_total)
        declines = candidate.offers_total - accepts
        p = (self.prior_alpha + accepts) / (self.prior_alpha + self.prior_beta + accepts + declines)
        if not is_urgent and self.night_start_hour <= local_hour < self.night_end_hour:
            p *= self.night_factor
        return p


@dataclass(frozen=True, slots=True)
class ResponseModel:
    """How quickly volunteers answer an offer, and what silence says about their answer.

    Answer delays are lognormal (median `median_s`, shape `sigma`); of the people who will not
    accept, `silent_share` never answer at all. The defaults are assumptions (median 90 s, p90
    about 250 s; half the refusals silent) until the service fits them to its own offers.
    """

    median_s: float = 90.0
    sigma: float = 0.8
    silent_share: float = 0.5
    round_share: float = 0.8
    """A round of asking lasts until this share of the people who answer have answered."""

    def round_s(self) -> float:
        """How long a round of asking lasts: the `round_share` quantile of the answer delay
        (176 s with the defaults)."""
        return self.median_s * exp(self.sigma * NormalDist().inv_cdf(self.round_share))

    def answered_by(self, elapsed_s: float) -> float:
        """P(someone who answers has answered within `elapsed_s` of the offer)."""
        if elapsed_s <= 0:
            return 0.0
        return 0.5 * (1.0 + erf(log(elapsed_s / self.median_s) / (self.sigma * _SQRT2)))

    def odds(
        self,
        p_accept: float,
        *,
        elapsed_s: float = 0.0,
        horizon_s: float | None = None,
        timeout_s: float,
    ) -> float:
        """P(an offer out for `elapsed_s` without answer is accepted within `horizon_s` from now).

        Accepts after `timeout_s` do not count (the offer has lapsed); `horizon_s` None means
        "before it lapses". Silence lowers the odds: the longer it lasts, the likelier a refusal.
        """
        end_s = timeout_s if horizon_s is None else min(timeout_s, elapsed_s + horizon_s)
        if end_s <= elapsed_s:
            return 0.0
        answered_now, answered_end = self.answered_by(elapsed_s), self.answered_by(end_s)
        still_silent = p_accept * (1.0 - answered_now) + (1.0 - p_accept) * (
            self.silent_share + (1.0 - self.silent_share) * (1.0 - answered_now)
        )
        if still_silent <= 0.0:
            return 0.0
        return p_accept * (answered_end - answered_now) / still_silent


@dataclass(frozen=True, slots=True)
class Ranked:
    candidate: Candidate
    eta_s: int
    distance_m: int
    p_accept: float
    volunteer_id: UUID = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # A field, not a property: ranking and waves read it millions of times.
        object.__setattr__(self, "volunteer_id", self.candidate.volunteer_id)


def rank(
    candidates: Iterable[Candidate],
    *,
    incident_lon: float,
    incident_lat: float,
    router: Router,
    model: AcceptanceModel,
    now: datetime,
    is_urgent: bool,
    eta_bucket_s: int = ETA_BUCKET_S,
) -> list[Ranked]:
    """Candidates (already eligible for one role) in the order they should be asked."""
    people = list(candidates)
    distances = geodesic_distances_m(
        [position_of(candidate, now=now) for candidate in people], incident_lon, incident_lat
    )
    measured = measure(
        zip(people, distances, strict=True),
        incident_lon=incident_lon,
        incident_lat=incident_lat,
        router=router,
        model=model,
        now=now,
        is_urgent=is_urgent,
    )
    return in_order(measured, eta_bucket_s=eta_bucket_s)


def measure(
    candidates: Iterable[tuple[Candidate, float]],
    *,
    incident_lon: float,
    incident_lat: float,
    router: Router,
    model: AcceptanceModel,
    now: datetime,
    is_urgent: bool,
) -> list[Ranked]:
    """ETA, distance and acceptance estimate of each (candidate, geodesic distance in metres from
    where they are); none of them depends on the role, so a wave measures each person once."""
    local_hour = now.astimezone(KAZAKHSTAN_TZ).hour
    measured = []
    for candidate, distance_m in candidates:
        lon, lat = position_of(candidate, now=now)
        measured.append(
            Ranked(
                candidate=candidate,
                eta_s=router.eta_s(
                    lon,
                    lat,
                    incident_lon,
                    incident_lat,
                    candidate.transport_mode,
                    distance_m=distance_m,
                ),
                distance_m=round(distance_m),
                p_accept=model.p_accept(candidate, is_urgent=is_urgent, local_hour=local_hour),
            )
        )
    return measured


def in_order(ranked: Iterable[Ranked], *, eta_bucket_s: int = ETA_BUCKET_S) -> list[Ranked]:
    """The order to ask in: ETA first, in buckets of `eta_bucket_s` (a minute by default: a router
    is not precise to the second), then whoever was asked least this week (so the nearest people
    are not the only ones ever asked), then the higher acceptance estimate (within a minute the
    one more likely to accept saves a wave), then the exact ETA, then the volunteer id so the
    order is reproducible."""
    return sorted(
        ranked,
        key=lambda r: (
            r.eta_s // eta_bucket_s,
            r.candidate.offers_7d,
            -r.p_accept,
            r.eta_s,
            r.volunteer_id.int,
        ),
    )


def within(ranked: Iterable[Ranked], radius_m: int) -> list[Ranked]:
    """The ranked candidates no farther than `radius_m` in a straight line, order kept."""
    return [r for r in ranked if r.distance_m <= radius_m]
