"""Live positions in real Redis, and the tracker that keeps them from `locations.v1`."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from services.tracker.main import TrackerService
from shared.broker_access import ADMIN
from shared.events import topics
from shared.events.alerts import DeadLetter
from shared.events.locations import VolunteerLocated
from shared.kafka import build_broker
from shared.positions import Fix, LivePositions
from shared.settings import DatabaseSettings, KafkaSettings, RedisSettings
from tests.factories import new_run
from tests.kafka_tail import Tail, eventually
from tests.running import running_tracker

pytestmark = pytest.mark.integration

NOON = datetime(2026, 4, 2, 7, 0, tzinfo=UTC)
KOSTANAY = (63.6246, 53.2144)


@pytest.fixture
async def redis(redis_settings: RedisSettings) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_settings.url)
    yield client
    await client.aclose()


@pytest.fixture
async def positions(redis: Redis) -> AsyncIterator[LivePositions]:
    store = LivePositions(redis, prefix=f"test:{new_run()}:positions")
    yield store
    await redis.delete(store.geo_key, store.at_key)


async def test_only_a_newer_fix_replaces_the_kept_one(positions: LivePositions) -> None:
    volunteer = uuid.uuid4()
    lon, lat = KOSTANAY
    assert await positions.record(volunteer, longitude=lon, latitude=lat, recorded_at=NOON)
    older = NOON - timedelta(minutes=5)
    assert not await positions.record(volunteer, longitude=60.0, latitude=50.0, recorded_at=older)
    assert not await positions.record(volunteer, longitude=60.0, latitude=50.0, recorded_at=NOON)

    [(who, fix)] = (await positions.of([volunteer, uuid.uuid4()])).items()

    assert who == volunteer
    assert fix.longitude == pytest.approx(lon, abs=1e-5)
    assert fix.latitude == pytest.approx(lat, abs=1e-5)
    assert fix.recorded_at == NOON


async def test_a_batch_keeps_each_volunteers_newest_fix_in_one_trip(
    positions: LivePositions,
) -> None:
    lon, lat = KOSTANAY
    walking, still = uuid.uuid4(), uuid.uuid4()
    await positions.record(still, longitude=lon, latitude=lat, recorded_at=NOON)
    batch = [
        Fix(walking, lon + 0.02, lat, NOON + timedelta(seconds=20)),
        Fix(walking, lon + 0.01, lat, NOON + timedelta(seconds=10)),  # arrived late, older
        Fix(still, lon + 1, lat, NOON - timedelta(minutes=1)),  # older than the kept one
    ]

    kept = await positions.record_many(batch)
    fixes = await positions.of([walking, still])

    assert kept == 1
    assert fixes[walking].longitude == pytest.approx(lon + 0.02, abs=1e-5)
    assert fixes[walking].recorded_at == NOON + timedelta(seconds=20)
    assert fixes[still].longitude == pytest.approx(lon, abs=1e-5), "an older fix moves no one"
    assert await positions.record_many([]) == 0


async def test_near_finds_fresh_fixes_nearest_first_and_old_ones_are_forgotten(
    positions: LivePositions,
) -> None:
    lon, lat = KOSTANAY
    close, further, stale, away = (uuid.uuid4() for _ in range(4))
    await positions.record(close, longitude=lon + 0.01, latitude=lat, recorded_at=NOON)
    await positions.record(further, longitude=lon + 0.05, latitude=lat, recorded_at=NOON)
    await positions.record(
        stale, longitude=lon, latitude=lat, recorded_at=NOON - timedelta(hours=1)
    )
    await positions.record(away, longitude=lon + 3, latitude=lat, recorded_at=NOON)  # ~200 km

    found = await positions.near(lon, lat, 10_000, since=NOON - timedelta(minutes=15), count=10)
    forgotten = await positions.forget_before(NOON - timedelta(minutes=30))

    assert found == [close, further], "fresh ones within 10 km, nearest first"
    assert forgotten == 1
    assert stale not in await positions.of([stale, close])


async def test_fixes_of_thousands_asked_at_once_are_all_found(positions: LivePositions) -> None:
    """A wave asks for everyone it looks at, in batches: fixes on either side of a batch's edge."""
    asked = [uuid.uuid4() for _ in range(2_500)]
    lon, lat = KOSTANAY
    with_fix = {asked[0]: 0.01, asked[999]: 0.02, asked[1_000]: 0.03, asked[-1]: 0.04}
    for volunteer, east in with_fix.items():
        await positions.record(volunteer, longitude=lon + east, latitude=lat, recorded_at=NOON)

    fixes = await positions.of(asked)

    assert fixes.keys() == with_fix.keys()
    for volunteer, east in with_fix.items():
        assert fixes[volunteer].longitude == pytest.approx(lon + east, abs=1e-5)
        assert fixes[volunteer].recorded_at == NOON


@pytest.fixture
async def tracker(
    database_settings: DatabaseSettings,
    kafka_settings: KafkaSettings,
    redis_settings: RedisSettings,
) -> AsyncIterator[TrackerService]:
    async with running_tracker(
        database_settings, kafka_settings, redis_settings, forget_every_s=3600
    ) as service:
        yield service


async def test_the_tracker_keeps_reported_positions_and_dead_letters_broken_reports(
    tracker: TrackerService, kafka_settings: KafkaSettings
) -> None:
    volunteer = uuid.uuid4()
    fix = VolunteerLocated(
        volunteer_id=volunteer,
        longitude=KOSTANAY[0],
        latitude=KOSTANAY[1],
        accuracy_m=12.0,
        recorded_at=datetime.now(UTC),
    )
    tail = await Tail.open(kafka_settings, (topics.EVENTS_DEAD_LETTER,))
    broker = build_broker(kafka_settings, principal=ADMIN)
    await broker.connect()
    try:
        await broker.publish(
            fix.model_dump_json().encode(), topics.LOCATIONS, key=str(volunteer).encode()
        )
        broken = b'{"kind": "VolunteerLocated", "volunteer_id": "%s", "longitude": 63.6}' % (
            str(volunteer).encode()
        )
        await broker.publish(broken, topics.LOCATIONS, key=str(volunteer).encode())
        ahead = fix.model_copy(update={"recorded_at": datetime.now(UTC) + timedelta(hours=2)})
        await broker.publish(
            ahead.model_dump_json().encode(), topics.LOCATIONS, key=str(volunteer).encode()
        )

        async def kept() -> bool:
            return volunteer in await tracker.positions.of([volunteer])

        assert await eventually(kept)
        [letter] = await tail.wait_for(
            lambda r: (
                r.topic == topics.EVENTS_DEAD_LETTER
                and r.headers.get("dead_letter.source_topic") == topics.LOCATIONS
                and r.value == broken
            )
        )
        [future] = await tail.wait_for(
            lambda r: (
                r.topic == topics.EVENTS_DEAD_LETTER
                and r.headers.get("dead_letter.source_topic") == topics.LOCATIONS
                and r.value == ahead.model_dump_json().encode()
            )
        )
        [kept_fix] = (await tracker.positions.of([volunteer])).values()
    finally:
        await broker.stop()
        await tail.close()
        await tracker.redis.delete(tracker.positions.geo_key, tracker.positions.at_key)
    meta = DeadLetter.from_headers(letter.headers)
    assert meta.code == "invalid_event"
    assert "latitude" in meta.reason and "recorded_at" in meta.reason
    assert DeadLetter.from_headers(future.headers).code == "fix_from_the_future"
    drift = abs(kept_fix.recorded_at - fix.recorded_at)
    assert drift < timedelta(milliseconds=1), "a clock running ahead pins nothing"


async def test_a_batch_larger_than_one_script_call_keeps_every_volunteers_fix(
    positions: LivePositions,
) -> None:
    lon, lat = KOSTANAY
    people = [uuid.uuid4() for _ in range(2_500)]  # three calls of at most a thousand
    batch = [Fix(v, lon + i * 1e-5, lat, NOON) for i, v in enumerate(people)]

    assert await positions.record_many(batch) == 2_500
    assert await positions.record_many(batch) == 0, "the same fixes again change nothing"
    fixes = await positions.of(people)
    assert len(fixes) == 2_500
    assert fixes[people[-1]].longitude == pytest.approx(lon + 2_499e-5, abs=1e-5)
