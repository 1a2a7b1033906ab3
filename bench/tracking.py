"""How many position updates can the tracker keep, and how fast does the live map hear of changes?

Runs the real services in their own processes, on a broker of its own and a Redis database of its
own (`JEDEL_BENCH_REDIS_URL`, default db 14):
  baseline — `redis-benchmark` GEOADD (pipelined by 16) in the same run: what Redis alone does;
  tracker  — N `VolunteerLocated` reports for many volunteers published first, then the tracker
             started: reports per second from its first kept fix until every volunteer's last
             fix is kept. Aim: ≥ 10,000 updates/s.
  app      — phones through the API: volunteers signed in POST batches of 20 fixes to
             `/api/v1/me/locations` for a few seconds; fixes per second until all are in Redis
             (reported, with each request's p50/p99; the aim is the tracker's).
  fan-out  — 200 browsers' streams on `/api/v1/live` (one API process) while changes are
             published at 20/s: the delay from publishing a change to each stream reading it,
             p50/p99, next to one bare Redis subscriber's. Aim: p99 under 1 s.
Exits 1 when an aim is missed; the last line is the headline. Needs the bench database
(`make bench-env`, or JEDEL_BENCH_DATABASE_URL).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from aiokafka import AIOKafkaProducer
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import async_sessionmaker

from bench.support.services import DATABASE_URL, percentile, start_service, wait_ready
from services.api.auth import accounts
from services.api.auth.principals import AccountRole
from services.api.seed import seed_reference
from shared.broker_access import ADMIN
from shared.db import build_engine
from shared.events import topics
from shared.events.locations import VolunteerLocated
from shared.kafka import client_options, ensure_topics
from shared.live import CHANNEL, Audience, LiveChange
from shared.positions import LivePositions
from shared.settings import DatabaseSettings, KafkaSettings
from tests.accounts import headers_for
from tests.broker import LocalBroker, free_port
from tests.factories import insert_volunteer

REDIS_URL = os.environ.get("JEDEL_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
TRACKER_AIM = 10_000.0  # updates/s
FANOUT_P99_AIM_S = 1.0
STREAMS = 200
KOSTANAY = (63.6246, 53.2144)
BASE = datetime(2026, 4, 2, 2, 0, tzinfo=UTC)


def redis_benchmark(count: int) -> tuple[float, float]:
    """GEOADD through `redis-benchmark` (pipelined by 16): requests/s and p50 ms."""
    db = REDIS_URL.rsplit("/", 1)[-1]
    out = subprocess.run(
        [
            *("redis-benchmark", "-q", "-n", str(count), "-P", "16", "--dbnum", db),
            *("GEOADD", "bench:tracking:geo", "63.62", "53.21", "__rand_int__"),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    found = re.findall(r"([\d.]+) requests per second, p50=([\d.]+) msec", out)
    if not found:
        raise SystemExit(f"redis-benchmark said nothing usable: {out[-300:]}")
    rps, p50 = found[-1]
    return float(rps), float(p50)


async def _fixes_kept(positions: LivePositions, at: datetime) -> int:
    stamp = at.timestamp()
    return int(await positions.redis.zcount(positions.at_key, stamp, stamp))


async def tracker_phase(
    kafka: KafkaSettings,
    broker: LocalBroker,
    positions: LivePositions,
    *,
    volunteers: int,
    rounds: int,
) -> dict[str, float]:
    """Publish `rounds` fixes for each of `volunteers` (round by round), then start the tracker."""
    people = [uuid.uuid4() for _ in range(volunteers)]
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka.servers, linger_ms=20, **client_options(kafka, principal=ADMIN)
    )
    await producer.start()
    try:
        lon, lat = KOSTANAY
        pending = []
        for round_ in range(rounds):
            at = BASE + timedelta(seconds=round_)
            for index, person in enumerate(people):
                fix = VolunteerLocated(
                    volunteer_id=person,
                    longitude=lon + (index % 100) / 1000,
                    latitude=lat + round_ / 10_000,
                    accuracy_m=10,
                    recorded_at=at,
                )
                pending.append(
                    await producer.send(
                        topics.LOCATIONS, fix.model_dump_json().encode(), key=str(person).encode()
                    )
                )
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    last = BASE + timedelta(seconds=rounds - 1)
    tracker = start_service(
        "tracker",
        f"jedel-tracker-bench-{uuid.uuid4().hex[:8]}",
        broker,
        env={"JEDEL_REDIS__URL": REDIS_URL, "JEDEL_TRACKER__FORGET_EVERY_S": "3600"},
    )
    try:
        first: float | None = None
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            seen = int(await positions.redis.zcard(positions.at_key))
            if first is None and seen:
                first = time.monotonic()
            if await _fixes_kept(positions, last) == volunteers:
                break
            await asyncio.sleep(0.02)
        else:
            raise SystemExit("the tracker did not keep every last fix within 300 s")
        assert first is not None
        seconds = max(time.monotonic() - first, 1e-3)
    finally:
        tracker.terminate()
        tracker.wait(timeout=30)
    return {
        "reports": volunteers * rounds,
        "seconds": seconds,
        "rate": volunteers * rounds / seconds,
    }


async def _phones(engine_url: str, count: int) -> list[dict[str, str]]:
    """`count` volunteers with consent to share their location, each with an access token."""
    engine = build_engine(DatabaseSettings(url=engine_url), application_name="jedel-bench")
    try:
        await seed_reference(engine)
        headers = []
        for n in range(count):
            volunteer = await insert_volunteer(engine, f"Bench Phone {n}", phone_prefix="+7709")
            async with async_sessionmaker(engine)() as session, session.begin():
                await accounts.record_consent(
                    session,
                    volunteer,
                    kind="location_sharing",
                    given=True,
                    now=datetime.now(UTC),
                )
            headers.append(await headers_for(engine, AccountRole.VOLUNTEER, volunteer_id=volunteer))
        return headers
    finally:
        await engine.dispose()


async def app_phase(
    url: str, phones: list[dict[str, str]], positions: LivePositions, *, seconds: float
) -> dict[str, float]:
    """Every phone posts batches of 20 fixes back to back for `seconds`."""
    latencies: list[float] = []
    sent = 0
    stop_at = time.monotonic() + seconds
    lon, lat = KOSTANAY
    before = int(await positions.redis.zcard(positions.at_key))
    last_at: datetime = datetime.now(UTC)

    async def phone(http: httpx.AsyncClient, headers: dict[str, str]) -> None:
        nonlocal sent, last_at
        while time.monotonic() < stop_at:
            now = datetime.now(UTC)
            fixes = [
                {
                    "longitude": lon,
                    "latitude": lat,
                    "recorded_at": (now - timedelta(seconds=20 - k)).isoformat(),
                }
                for k in range(20)
            ]
            started = time.perf_counter()
            response = await http.post(
                "/api/v1/me/locations", json={"fixes": fixes}, headers=headers
            )
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise SystemExit(f"the API refused fixes: {response.status_code} {response.text}")
            sent += 20

    started = time.monotonic()
    limits = httpx.Limits(max_connections=len(phones))
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as http:
        await asyncio.gather(*(phone(http, headers) for headers in phones))
    # Every phone's newest fix kept: all are through.
    deadline = time.monotonic() + 120
    while int(await positions.redis.zcard(positions.at_key)) < before + len(phones):
        if time.monotonic() > deadline:
            raise SystemExit("the phones' fixes did not all reach Redis within 120 s")
        await asyncio.sleep(0.05)
    elapsed = time.monotonic() - started
    return {
        "fixes": sent,
        "rate": sent / elapsed,
        "p50_ms": 1000 * percentile(latencies, 0.5),
        "p99_ms": 1000 * percentile(latencies, 0.99),
    }


async def _stream(http: httpx.AsyncClient, delays: list[float], ready: asyncio.Event) -> None:
    async with http.stream("GET", "/api/v1/live") as response:
        ready.set()
        async for line in response.aiter_lines():
            if line.startswith("data:") and "occurred_at" in line:
                said = json.loads(line.removeprefix("data:"))
                sent = datetime.fromisoformat(said["occurred_at"])
                delays.append((datetime.now(UTC) - sent).total_seconds())


async def fanout_phase(url: str, redis: Redis, *, changes: int, per_s: float) -> dict[str, float]:
    delays: list[float] = []
    bare: list[float] = []
    limits = httpx.Limits(max_connections=STREAMS + 10)
    async with httpx.AsyncClient(base_url=url, timeout=None, limits=limits) as http:
        ready = [asyncio.Event() for _ in range(STREAMS)]
        streams = [asyncio.create_task(_stream(http, delays, event)) for event in ready]
        await asyncio.wait_for(asyncio.gather(*(event.wait() for event in ready)), timeout=60)
        await asyncio.sleep(1.0)  # every stream listening, not just connected
        pubsub = redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(CHANNEL)

        async def bare_listener() -> None:
            async for message in pubsub.listen():
                said = LiveChange.model_validate_json(message["data"])
                bare.append((datetime.now(UTC) - said.occurred_at).total_seconds())

        listener = asyncio.create_task(bare_listener())
        for _ in range(changes):
            change = LiveChange(
                event_id=uuid.uuid4(),
                kind="IncidentUpdated",
                incident_id=uuid.uuid4(),
                occurred_at=datetime.now(UTC),
                audience=Audience.PUBLIC,
                region_codes=("KZ-39",),
            )
            await redis.publish(CHANNEL, change.model_dump_json())
            await asyncio.sleep(1 / per_s)
        await asyncio.sleep(2.0)  # the last change's way to every stream
        for task in (*streams, listener):
            task.cancel()
        await asyncio.gather(*streams, listener, return_exceptions=True)
        await pubsub.aclose()  # type: ignore[no-untyped-call]
    return {
        "heard": len(delays),
        "expected": changes * STREAMS,
        "p50_s": percentile(delays, 0.5),
        "p99_s": percentile(delays, 0.99),
        "bare_p50_s": percentile(bare, 0.5),
        "bare_p99_s": percentile(bare, 0.99),
    }


async def main(volunteers: int, rounds: int, phones: int, app_seconds: float) -> int:
    redis = Redis.from_url(REDIS_URL)
    await redis.flushdb()
    positions = LivePositions(redis)
    baseline_rps, baseline_p50 = redis_benchmark(200_000)
    await redis.delete("bench:tracking:geo")
    local_broker = LocalBroker(partitions=3).start()
    kafka = KafkaSettings(
        bootstrap_servers=local_broker.bootstrap,
        credentials_file=local_broker.credentials_file,
        session_timeout_ms=6000,
        heartbeat_interval_ms=500,
    )
    api: subprocess.Popen[bytes] | None = None
    tracker: subprocess.Popen[bytes] | None = None
    try:
        await ensure_topics(kafka, principal=ADMIN)
        burst = await tracker_phase(
            kafka, local_broker, positions, volunteers=volunteers, rounds=rounds
        )
        headers = await _phones(DATABASE_URL, phones)
        port = free_port()
        env = {"JEDEL_REDIS__URL": REDIS_URL, "JEDEL_API__PORT": str(port)}
        api = start_service("api", None, local_broker, env=env)
        tracker = start_service(
            "tracker", f"jedel-tracker-bench-{uuid.uuid4().hex[:8]}", local_broker, env=env
        )
        url = f"http://127.0.0.1:{port}"
        await wait_ready(f"{url}/healthz", api)
        await asyncio.sleep(3)  # the tracker joins its groups
        app = await app_phase(url, headers, positions, seconds=app_seconds)
        fanout = await fanout_phase(url, redis, changes=100, per_s=20)
    finally:
        for process in (api, tracker):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
        local_broker.stop()
        await redis.flushdb()
        await redis.aclose()

    tracker_ok = burst["rate"] >= TRACKER_AIM
    fanout_ok = fanout["p99_s"] < FANOUT_P99_AIM_S and fanout["heard"] == fanout["expected"]
    print(
        f"baseline  redis-benchmark GEOADD -P 16: {baseline_rps:,.0f} updates/s, p50 {baseline_p50:.2f} ms"
    )
    print(
        f"tracker   {burst['reports']:,.0f} reports in {burst['seconds']:.2f} s: "
        f"{burst['rate']:,.0f} updates/s = {burst['rate'] / baseline_rps:.3f}x redis-benchmark "
        f"(aim ≥ {TRACKER_AIM:,.0f}/s) {'ok' if tracker_ok else 'MISSED'}"
    )
    print(
        f"app       {phones} phones, {app['fixes']:,.0f} fixes through POST /api/v1/me/locations: "
        f"{app['rate']:,.0f} fixes/s end to end, request p50 {app['p50_ms']:.0f} ms, "
        f"p99 {app['p99_ms']:.0f} ms"
    )
    print(
        f"fan-out   {STREAMS} streams, {fanout['heard']:,}/{fanout['expected']:,} heard: "
        f"p50 {1000 * fanout['p50_s']:.0f} ms, p99 {1000 * fanout['p99_s']:.0f} ms; bare Redis "
        f"subscriber p50 {1000 * fanout['bare_p50_s']:.1f} ms, p99 {1000 * fanout['bare_p99_s']:.1f} ms "
        f"(ratio p99 {fanout['p99_s'] / max(fanout['bare_p99_s'], 1e-4):.0f}x; aim p99 < 1 s) "
        f"{'ok' if fanout_ok else 'MISSED'}"
    )
    print(
        f"tracking: {burst['rate']:,.0f} updates/s through the tracker (aim 10,000), "
        f"live fan-out p99 {1000 * fanout['p99_s']:.0f} ms to {STREAMS} streams (aim < 1,000)"
    )
    return 0 if tracker_ok and fanout_ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--volunteers", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=10, help="fixes per volunteer")
    parser.add_argument("--phones", type=int, default=50)
    parser.add_argument("--app-seconds", type=float, default=10.0)
    arguments = parser.parse_args()
    sys.exit(
        asyncio.run(
            main(arguments.volunteers, arguments.rounds, arguments.phones, arguments.app_seconds)
        )
    )
