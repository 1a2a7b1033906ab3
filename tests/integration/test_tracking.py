"""Field tracking for real: an accept opens a deployment, the volunteer's fixes become a track in
PostGIS, reaching the meeting point and leaving the area are told on `tracking.v1`, replays tell
nothing twice, and a member stood down is followed no more."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api.auth.principals import AccountRole
from services.api.settings import ApiSettings
from shared.broker_access import ADMIN
from shared.events import topics
from shared.events.locations import VolunteerLocated
from shared.events.mobilization import OfferAccepted, OfferStoodDown, StandDownReason
from shared.events.volunteers import Role
from shared.kafka import build_broker
from shared.settings import DatabaseSettings, KafkaSettings, RedisSettings
from tests.accounts import headers_for
from tests.factories import insert_mobilization, insert_volunteer
from tests.kafka_tail import Record, Tail, eventually
from tests.running import api_client, running_tracker

pytestmark = pytest.mark.integration

MEETING_POINT = (63.6246, 53.2144)


def _fix(volunteer: uuid.UUID, east_m: float, at: datetime) -> VolunteerLocated:
    """A fix `east_m` metres east of the meeting point (1° of longitude ≈ 66.5 km here)."""
    lon, lat = MEETING_POINT
    return VolunteerLocated(
        volunteer_id=volunteer,
        longitude=lon + east_m / 66_500,
        latitude=lat,
        accuracy_m=15,
        recorded_at=at,
    )


async def _deployment(engine: AsyncEngine, incident: uuid.UUID) -> Any:
    async with engine.connect() as connection:
        return (
            await connection.execute(
                text("SELECT * FROM deployments WHERE incident_id = :i"), {"i": incident}
            )
        ).one_or_none()


async def _points(engine: AsyncEngine, incident: uuid.UUID) -> int:
    async with engine.connect() as connection:
        return int(
            await connection.scalar(
                text("SELECT count(*) FROM track_points WHERE incident_id = :i"), {"i": incident}
            )
            or 0
        )


async def test_a_deployed_volunteer_arrives_leaves_and_is_followed_no_more_once_released(
    engine: AsyncEngine,
    database_settings: DatabaseSettings,
    kafka_settings: KafkaSettings,
    redis_settings: RedisSettings,
) -> None:
    incident = await insert_mobilization(engine, center=MEETING_POINT)
    volunteer, offer = uuid.uuid4(), uuid.uuid4()
    accepted = OfferAccepted(
        incident_id=incident, offer_id=offer, volunteer_id=volunteer, role=Role.MEDIC, eta_s=600
    )
    start = datetime.now(UTC) - timedelta(minutes=30)
    trip = [
        _fix(volunteer, east, start + timedelta(minutes=n))
        for n, east in enumerate((12_000, 6_000, 150, 40, 900, 5_000))
    ]
    tail = await Tail.open(kafka_settings, (topics.TRACKING,))
    broker = build_broker(kafka_settings, principal=ADMIN)
    await broker.connect()

    def about_them(record: Record) -> bool:
        return record.key == str(incident).encode()

    try:
        async with running_tracker(database_settings, kafka_settings, redis_settings) as tracker:
            await broker.publish(
                accepted.model_dump_json().encode(), topics.MOBILIZATION, key=str(incident).encode()
            )
            await eventually(lambda: _deployment(engine, incident))
            for fix in trip:
                await broker.publish(
                    fix.model_dump_json().encode(), topics.LOCATIONS, key=str(volunteer).encode()
                )
            arrived, left = await tail.wait_for(about_them, count=2)
            # The same fixes again (a phone resending, a replay): nothing new is told.
            for fix in trip:
                await broker.publish(
                    fix.model_dump_json().encode(), topics.LOCATIONS, key=str(volunteer).encode()
                )
            back = _fix(volunteer, 100, start + timedelta(minutes=10))
            await broker.publish(
                back.model_dump_json().encode(), topics.LOCATIONS, key=str(volunteer).encode()
            )
            told = await tail.wait_for(about_them, count=3)
            points_before_release = await eventually(
                lambda: _points_are(engine, incident, len(trip) + 1)
            )
            stood_down = OfferStoodDown(
                incident_id=incident,
                offer_id=offer,
                volunteer_id=volunteer,
                role=Role.MEDIC,
                reason=StandDownReason.INCIDENT_CANCELLED,
                was_member=True,
            )
            await broker.publish(
                stood_down.model_dump_json().encode(),
                topics.MOBILIZATION,
                key=str(incident).encode(),
            )

            async def released() -> bool:
                row = await _deployment(engine, incident)
                return row is not None and row.released_at is not None

            await eventually(released)
            after = _fix(volunteer, 50, start + timedelta(minutes=11))
            await broker.publish(
                after.model_dump_json().encode(), topics.LOCATIONS, key=str(volunteer).encode()
            )
            await eventually(lambda: _newest_is(tracker.positions, volunteer, after.recorded_at))
            points_after_release = await _points(engine, incident)
            deployment = await _deployment(engine, incident)
    finally:
        await broker.stop()
        await tail.close()

    first, second = json.loads(arrived.value), json.loads(left.value)
    assert first["kind"] == "VolunteerArrived" and first["volunteer_id"] == str(volunteer)
    assert first["arrived_at"].startswith(trip[2].recorded_at.isoformat()[:19])
    assert first["distance_m"] == pytest.approx(150, abs=10)
    assert second["kind"] == "VolunteerLeftArea"
    assert second["left_at"].startswith(trip[5].recorded_at.isoformat()[:19])
    assert [json.loads(r.value)["kind"] for r in told] == [
        "VolunteerArrived",
        "VolunteerLeftArea",
        "VolunteerArrived",
    ], "the replayed fixes told nothing; coming back did"
    assert points_before_release
    assert points_after_release == len(trip) + 1, "no track is kept once released"
    assert deployment.status == "on_scene"
    assert deployment.arrived_at is not None and deployment.left_at is not None


async def _points_are(engine: AsyncEngine, incident: uuid.UUID, count: int) -> bool:
    return await _points(engine, incident) == count


async def _tracks_of(engine: AsyncEngine, incident: uuid.UUID) -> int:
    async with engine.connect() as connection:
        found = await connection.scalar(
            text("SELECT count(*) FROM deployment_tracks WHERE incident_id = :i"), {"i": incident}
        )
    return int(found or 0)


async def _newest_is(positions: Any, volunteer: uuid.UUID, at: datetime) -> bool:
    fixes = await positions.of([volunteer])
    return volunteer in fixes and fixes[volunteer].recorded_at == at


async def test_raw_points_past_their_keeping_become_one_line_and_recent_ones_stay(
    engine: AsyncEngine,
    database_settings: DatabaseSettings,
    kafka_settings: KafkaSettings,
    redis_settings: RedisSettings,
) -> None:
    old, recent, volunteer = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    now = datetime.now(UTC)
    points = [
        (old, now - timedelta(days=40, minutes=m), 63.60 + m / 1000) for m in (30, 20, 10, 0)
    ] + [(recent, now - timedelta(days=40), 63.6), (recent, now - timedelta(days=2), 63.7)]
    async with engine.begin() as connection:
        for incident, at, lon in points:
            await connection.execute(
                text(
                    "INSERT INTO track_points (incident_id, volunteer_id, recorded_at, location)"
                    " VALUES (:i, :v, :at, ST_SetSRID(ST_MakePoint(:lon, 53.2), 4326)::geography)"
                ),
                {"i": incident, "v": volunteer, "at": at, "lon": lon},
            )
    async with running_tracker(database_settings, kafka_settings, redis_settings) as tracker:
        # The tracker's own pass (hourly, and once as it starts) thins what is past keeping.
        await eventually(lambda: _tracks_of(engine, old))
        thinned_again = await tracker.thin_old()
    async with engine.connect() as connection:
        track = (
            await connection.execute(
                text(
                    "SELECT points, ST_NPoints(track::geometry) AS vertices, first_at, last_at"
                    " FROM deployment_tracks WHERE incident_id = :i"
                ),
                {"i": old},
            )
        ).one()
        left = {
            row.incident_id: row.n
            for row in await connection.execute(
                text(
                    "SELECT incident_id, count(*) AS n FROM track_points"
                    " WHERE volunteer_id = :v GROUP BY incident_id"
                ),
                {"v": volunteer},
            )
        }
        assert (
            await connection.scalar(
                text("SELECT count(*) FROM deployment_tracks WHERE incident_id = :i"),
                {"i": recent},
            )
        ) == 0

    assert thinned_again == 0, "a second pass finds nothing left to thin"
    assert track.points == 4
    assert track.vertices == 2, "four points on one straight street are its two ends"
    assert track.last_at - track.first_at == timedelta(minutes=30)
    assert left == {recent: 2}, "a deployment with a point inside the period is kept raw"


async def _offer(engine: AsyncEngine, incident: uuid.UUID, volunteer: uuid.UUID) -> uuid.UUID:
    """An offer the volunteer accepted (as the mobilizer records it)."""
    offer, now = uuid.uuid4(), datetime.now(UTC)
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO offers (id, incident_id, volunteer_id, role, wave, status, eta_s,"
                " distance_m, p_accept, offered_at, expires_at, responded_at, language,"
                " contact_phone) VALUES (:o, :i, :v, 'medic', 1, 'accepted', 600, 4000, 0.5, :now,"
                " :expires, :now, 'kk', '+77070000000')"
            ),
            {"o": offer, "i": incident, "v": volunteer, "now": now, "expires": now},
        )
    return offer


@asynccontextmanager
async def _deployed(
    engine: AsyncEngine,
    settings: tuple[DatabaseSettings, KafkaSettings, RedisSettings],
    *,
    incident: uuid.UUID,
    volunteer: uuid.UUID,
    offer: uuid.UUID,
) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    """The tracker and the API running, and the volunteer deployed on `offer` (the tracker has
    read their accept): the API client and an admin's broker to publish with."""
    database, kafka, redis = settings
    accepted = OfferAccepted(
        incident_id=incident, offer_id=offer, volunteer_id=volunteer, role=Role.MEDIC, eta_s=600
    )
    broker = build_broker(kafka, principal=ADMIN)
    await broker.connect()
    try:
        async with (
            running_tracker(database, kafka, redis),
            api_client(
                ApiSettings(environment="test", database=database, kafka=kafka, redis=redis)
            ) as api,
        ):
            await broker.publish(
                accepted.model_dump_json().encode(), topics.MOBILIZATION, key=str(incident).encode()
            )
            await eventually(lambda: _deployment(engine, incident))
            yield api, broker
    finally:
        await broker.stop()


async def test_a_volunteer_says_where_they_are_and_the_tracker_takes_their_word(
    engine: AsyncEngine,
    database_settings: DatabaseSettings,
    kafka_settings: KafkaSettings,
    redis_settings: RedisSettings,
) -> None:
    """No fix at all (no GPS, no consent to share): "on the way" is kept, "on scene" is an
    arrival (their ETA closes), a slip back to "on the way" changes nothing, "leaving" is told;
    nobody else may say it for them, and nobody says it of a call-out they did not take."""
    incident = await insert_mobilization(engine, center=MEETING_POINT)
    volunteer = await insert_volunteer(engine, "Field Word")
    offer = await _offer(engine, incident, volunteer)
    untaken = await insert_mobilization(engine, center=MEETING_POINT)
    not_deployed = await _offer(engine, untaken, volunteer)
    me = await headers_for(engine, AccountRole.VOLUNTEER, volunteer_id=volunteer)
    stranger = await headers_for(
        engine, AccountRole.VOLUNTEER, volunteer_id=await insert_volunteer(engine, "Other")
    )
    tail = await Tail.open(kafka_settings, (topics.TRACKING,))
    say = f"/api/v1/me/offers/{offer}/field-status"

    def about_them(record: Record) -> bool:
        return record.key == str(incident).encode()

    async def status_is(expected: str) -> bool:
        row = await _deployment(engine, incident)
        return row is not None and row.status == expected

    settings = (database_settings, kafka_settings, redis_settings)
    try:
        async with _deployed(
            engine, settings, incident=incident, volunteer=volunteer, offer=offer
        ) as (api, _):
            on_the_way = await api.post(say, headers=me, json={"status": "en_route"})
            assert on_the_way.status_code == 202, on_the_way.text

            async def heard() -> bool:
                row = await _deployment(engine, incident)
                return row is not None and row.reported_status == "en_route"

            await eventually(heard)
            assert (await api.post(say, headers=me, json={"status": "on_scene"})).status_code == 202
            [arrived] = await tail.wait_for(about_them)
            await eventually(lambda: status_is("on_scene"))
            slip = await api.post(say, headers=me, json={"status": "en_route"})
            assert slip.status_code == 202
            assert (
                await api.post(say, headers=me, json={"status": "left_area"})
            ).status_code == 202
            told = await tail.wait_for(about_them, count=2)
            await eventually(lambda: status_is("left_area"))
            mine = (await api.get("/api/v1/me/offers", headers=me)).json()
            forged = await api.post(say, headers=stranger, json={"status": "on_scene"})
            untaken_answer = await api.post(
                f"/api/v1/me/offers/{not_deployed}/field-status",
                headers={**me, "Accept-Language": "ru"},
                json={"status": "on_scene"},
            )
            nonsense = await api.post(say, headers=me, json={"status": "dancing"})
    finally:
        await tail.close()

    event = json.loads(arrived.value)
    assert event["kind"] == "VolunteerArrived" and event["reported"] is True
    assert event["distance_m"] is None, "no fix showed it: no distance is made up"
    assert [json.loads(r.value)["kind"] for r in told] == [
        "VolunteerArrived",
        "VolunteerLeftArea",
    ], "the slip back to 'on the way' told nothing"
    [shown] = [item for item in mine if item["offer_id"] == str(offer)]
    assert shown["field_status"] == "left_area"
    assert forged.status_code == 403
    assert untaken_answer.status_code == 409
    assert "не в группе" in untaken_answer.json()["detail"]
    assert nonsense.status_code == 422


async def test_the_dispatcher_sees_each_members_track_and_another_region_does_not(
    engine: AsyncEngine,
    database_settings: DatabaseSettings,
    kafka_settings: KafkaSettings,
    redis_settings: RedisSettings,
) -> None:
    incident = await insert_mobilization(engine, center=MEETING_POINT)
    volunteer = await insert_volunteer(engine, "Track Person")
    offer = await _offer(engine, incident, volunteer)
    start = datetime.now(UTC) - timedelta(minutes=20)
    # Straight in from the east: the map's simplified line keeps its two ends.
    trip = [
        _fix(volunteer, east, start + timedelta(minutes=n))
        for n, east in enumerate((9_000, 6_000, 3_000, 1_000, 100))
    ]
    here = await headers_for(engine, AccountRole.DISPATCHER, regions=["KZ-39"])
    elsewhere = await headers_for(engine, AccountRole.DISPATCHER, regions=["KZ-75"])
    settings = (database_settings, kafka_settings, redis_settings)
    async with _deployed(engine, settings, incident=incident, volunteer=volunteer, offer=offer) as (
        api,
        broker,
    ):
        for fix in trip:
            await broker.publish(
                fix.model_dump_json().encode(), topics.LOCATIONS, key=str(volunteer).encode()
            )
        await eventually(lambda: _points_are(engine, incident, len(trip)))
        shown = await api.get(f"/api/v1/incidents/{incident}/tracks", headers=here)
        refused = await api.get(f"/api/v1/incidents/{incident}/tracks", headers=elsewhere)

    assert shown.status_code == 200, shown.text
    [member] = shown.json()["members"]
    assert member["volunteer_id"] == str(volunteer) and member["role"] == "medic"
    assert member["points"] == len(trip)
    assert member["field_status"] == "on_scene", "the last fix is 100 m from the meeting point"
    first, newest = trip[0], trip[-1]
    assert member["track"][0] == pytest.approx([first.longitude, first.latitude], abs=1e-6)
    assert member["track"][-1] == pytest.approx([newest.longitude, newest.latitude], abs=1e-6)
    assert member["newest"] == pytest.approx([newest.longitude, newest.latitude], abs=1e-6)
    assert refused.status_code == 403
    assert str(volunteer) not in refused.text
