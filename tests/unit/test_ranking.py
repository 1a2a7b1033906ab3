"""Ranking: estimated time of arrival first, then how likely a volunteer is to accept."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from services.mobilizer.eligibility import Candidate
from services.mobilizer.ranking import (
    AcceptanceModel,
    GeodesicRouter,
    ResponseModel,
    geodesic_distance_m,
    position_of,
    rank,
    within,
)
from shared.events.volunteers import Availability, TransportMode
from shared.reference import KAZAKHSTAN_TZ

NOW = datetime(2026, 4, 2, 14, 0, tzinfo=KAZAKHSTAN_TZ)
# Kostanay's centre; 0.009° of latitude is about 1 km.
INCIDENT_LON, INCIDENT_LAT = 63.62, 53.21
KM_NORTH = 0.008994


def volunteer(*, km_north: float = 1.0, **overrides: Any) -> Candidate:
    values: dict[str, Any] = {
        "volunteer_id": uuid4(),
        "birth_date": date(1990, 5, 17),
        "availability": Availability.AVAILABLE,
        "transport_mode": TransportMode.CAR,
        "home_lon": INCIDENT_LON,
        "home_lat": INCIDENT_LAT + km_north * KM_NORTH,
        "region_code": "KZ-39",
        "phone": "+77011234567",
    }
    values.update(overrides)
    return Candidate(**values)


def ranked_ids(candidates: list[Candidate], **overrides: Any) -> list[UUID]:
    args: dict[str, Any] = {
        "incident_lon": INCIDENT_LON,
        "incident_lat": INCIDENT_LAT,
        "router": GeodesicRouter(),
        "model": AcceptanceModel(),
        "now": NOW,
        "is_urgent": True,
    }
    args.update(overrides)
    return [r.volunteer_id for r in rank(candidates, **args)]


def test_car_driver_30_km_away_arrives_before_walker_5_km_away() -> None:
    router = GeodesicRouter()

    def eta_s(km_north: float, mode: TransportMode) -> int:
        lat = INCIDENT_LAT + km_north * KM_NORTH
        return router.eta_s(INCIDENT_LON, lat, INCIDENT_LON, INCIDENT_LAT, mode)

    assert eta_s(30, TransportMode.CAR) < eta_s(5, TransportMode.FOOT)
    car = volunteer(km_north=30, transport_mode=TransportMode.CAR)
    foot = volunteer(km_north=5, transport_mode=TransportMode.FOOT)
    assert ranked_ids([foot, car]) == [car.volunteer_id, foot.volunteer_id]


def test_eta_is_getting_ready_plus_detoured_distance_over_speed() -> None:
    router = GeodesicRouter()
    assert router.eta_for_distance_s(10_000, TransportMode.CAR) == round(120 + 13_000 / 13.9)
    assert router.eta_for_distance_s(0, TransportMode.FOOT) == 120
    slow_roads = GeodesicRouter(detour_factor=2.0, start_delay_s=dict.fromkeys(TransportMode, 0))
    assert slow_roads.eta_for_distance_s(2_300, TransportMode.FOOT) == 2_000


def test_geodesic_distance_is_on_the_ellipsoid() -> None:
    one_degree_north = geodesic_distance_m(63.62, 53.0, 63.62, 54.0)
    assert one_degree_north == pytest.approx(111_280, abs=100)


def test_fresh_live_position_is_used_and_a_stale_one_is_not() -> None:
    travelling = volunteer(live_lon=71.45, live_lat=51.17, live_at=NOW - timedelta(minutes=5))
    stale = volunteer(live_lon=71.45, live_lat=51.17, live_at=NOW - timedelta(hours=2))
    assert position_of(travelling, now=NOW) == (71.45, 51.17)
    assert position_of(stale, now=NOW) == (stale.home_lon, stale.home_lat)


def test_a_newcomer_is_estimated_at_the_prior_mean_of_a_quarter() -> None:
    assert AcceptanceModel().p_accept(volunteer(), is_urgent=True, local_hour=14) == 0.25


def test_history_moves_the_estimate_towards_the_volunteers_own_rate() -> None:
    model = AcceptanceModel()
    keen = volunteer(offers_total=20, accepts_total=16)
    reluctant = volunteer(offers_total=20, accepts_total=0)
    assert model.p_accept(keen, is_urgent=True, local_hour=14) == pytest.approx(17 / 24)
    assert model.p_accept(reluctant, is_urgent=True, local_hour=14) == pytest.approx(1 / 24)


def test_night_lowers_the_estimate_for_non_urgent_offers_only() -> None:
    model = AcceptanceModel()
    someone = volunteer()
    assert model.p_accept(someone, is_urgent=False, local_hour=3) == pytest.approx(0.2)
    assert model.p_accept(someone, is_urgent=True, local_hour=3) == 0.25
    assert model.p_accept(someone, is_urgent=False, local_hour=6) == 0.25


def test_within_the_same_minute_the_likelier_to_accept_goes_first() -> None:
    near_reluctant = volunteer(km_north=1.0, offers_total=10, accepts_total=0)
    slightly_farther_keen = volunteer(km_north=1.2, offers_total=10, accepts_total=9)
    much_farther_keen = volunteer(km_north=8.0, offers_total=10, accepts_total=10)
    assert ranked_ids([much_farther_keen, near_reluctant, slightly_farther_keen]) == [
        slightly_farther_keen.volunteer_id,
        near_reluctant.volunteer_id,
        much_farther_keen.volunteer_id,
    ]


def test_within_the_same_minute_whoever_was_asked_least_this_week_goes_first() -> None:
    asked_often = volunteer(km_north=1.0, offers_7d=4, offers_total=10, accepts_total=9)
    rested = volunteer(km_north=1.2, offers_7d=0, offers_total=10, accepts_total=2)
    far_rested = volunteer(km_north=8.0, offers_7d=0)
    assert ranked_ids([far_rested, asked_often, rested]) == [
        rested.volunteer_id,
        asked_often.volunteer_id,
        far_rested.volunteer_id,
    ]


def test_exact_ties_are_broken_by_volunteer_id() -> None:
    low = volunteer(volunteer_id=UUID(int=1))
    high = volunteer(volunteer_id=UUID(int=2))
    assert ranked_ids([high, low]) == [low.volunteer_id, high.volunteer_id]


def test_a_road_router_can_replace_the_geodesic_one() -> None:
    class EveryoneTenMinutes:
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
            return 600 if mode is TransportMode.FOOT else 1200

    far_walker = volunteer(km_north=20, transport_mode=TransportMode.FOOT)
    near_driver = volunteer(km_north=1, transport_mode=TransportMode.CAR)
    assert ranked_ids([near_driver, far_walker], router=EveryoneTenMinutes()) == [
        far_walker.volunteer_id,
        near_driver.volunteer_id,
    ]


def test_within_keeps_only_candidates_inside_the_radius_in_order() -> None:
    near, far = volunteer(km_north=3), volunteer(km_north=12)
    ranked = rank(
        [far, near],
        incident_lon=INCIDENT_LON,
        incident_lat=INCIDENT_LAT,
        router=GeodesicRouter(),
        model=AcceptanceModel(),
        now=NOW,
        is_urgent=True,
    )
    assert [r.volunteer_id for r in within(ranked, 10_000)] == [near.volunteer_id]
    assert ranked[0].distance_m == pytest.approx(3_000, abs=10)


def test_half_the_answers_come_within_the_median_delay() -> None:
    response = ResponseModel(median_s=90, sigma=0.8)
    assert response.answered_by(0) == 0.0
    assert response.answered_by(90) == pytest.approx(0.5)
    assert response.answered_by(250) == pytest.approx(0.9, abs=0.01)


def test_silence_makes_an_accept_less_likely_and_a_lapsed_offer_worthless() -> None:
    response = ResponseModel()
    fresh = response.odds(0.4, timeout_s=300)
    after_two_minutes = response.odds(0.4, elapsed_s=120, timeout_s=300)
    assert fresh == pytest.approx(0.4 * response.answered_by(300))
    assert 0 < after_two_minutes < fresh
    assert response.odds(0.4, elapsed_s=300, timeout_s=300) == 0.0
    within_a_minute = response.odds(0.4, horizon_s=60, timeout_s=300)
    assert within_a_minute == pytest.approx(0.4 * response.answered_by(60))
