"""How long from `IncidentOpened` to the first person asked, with a million volunteers?

The real mobilizer (`jedel run mobilizer`, its own process) against its own Apache Kafka broker and the
`jedel_bench` database seeded with the reference data and `--volunteers` synthetic volunteers
(default 1,000,000; reseeded only when the count differs). `--isolated` incidents go one at a time,
each after the last one's first wave (no queue); then bursts of `IncidentOpened` at settlements
drawn by population, mixed types and priorities (the real playbooks), go to `incidents.v1`. A
watcher reads `mobilization.v1` and stamps each incident's first `VolunteerOffered`. Before the
run the mobilizer's tables are given a year of past call-outs (`seed_history`), since every wave
reads its candidates' offers and deployments so far.

The floor, measured in the same run for the same incidents: each incident one at a time, and each
burst, goes through it just after the mobilizer's first waves for them (the mobilizer idle by
then), so a machine that slows down for a while slows both. It is a bare pipeline with as many
lanes as the mobilizer that does only what a first wave cannot do without — one nearest-holders
scan per certificate type the playbook needs, the wave's offers and outbox rows written in one
transaction, and the offers published — with as many offers as Jedel's first wave actually sent
for that incident (`BarePipeline`).
For context: the bare nearest-neighbour query plus one broker round trip, and the bursts through a
bare queue (one query, one message per incident).
Aim: IncidentOpened → first offer ≤ 3× the floor at p99 under bursts of 20, and ≤ 2× it one
incident at a time; an incident whose first wave asked someone but which never showed an offer
within `--budget` seconds counts as infinitely late. The latency is also split where the
mobilizer's handler began (`mobilizations.started_at`) and where the outbox relay picked the
WaveSent up (`mobilizer_outbox.published_at`), to show where the time goes.
Run: .venv/bin/python -m bench.matching [--volunteers N] [--bursts N] [--burst-size N] [--budget S]
         [--isolated N]
Needs `make bench-env` (database jedel_bench and the broker binary).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer
from faststream.kafka import KafkaBroker
from lxml import etree
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.policies import MOBILISED_SHARE, REGISTERED_PER_REGION_PER_DAY
from bench.support.cap_stream import cap_alert
from bench.support.cpu import CpuMeter, pids_named
from bench.support.services import DATABASE_URL, incidents_of, percentile, start_service
from services.api.seed import seed_reference, seed_volunteers
from services.mobilizer.dispatch import Matching
from services.mobilizer.main import build_matching
from services.mobilizer.settings import MobilizerSettings
from shared.broker_access import ADMIN, PUBLISHERS
from shared.db import build_engine
from shared.events import topics
from shared.events.base import utc_now
from shared.events.incidents import (
    AlertStatus,
    IncidentCancelled,
    IncidentOpened,
    IncidentSource,
    IncidentStatus,
    IncidentType,
    LocalizedText,
    Priority,
    SubjectSummary,
)
from shared.events.volunteers import CertificationType
from shared.kafka import build_broker, ensure_topics, raw_publisher, tail_from_beginning
from shared.outbox import asyncpg_dsn
from shared.reference import Settlement, load_settlements
from shared.settings import DatabaseSettings, KafkaSettings
from tests.broker import LocalBroker

AIM_BURSTS, AIM_ALONE, AIM_E2E = 3.0, 2.0, 3.0
KNN_LIMIT = 50
ROUND_TRIP_TOPIC = "bench.round_trip.v1"
FLOOR_IN_TOPIC, FLOOR_OUT_TOPIC = "bench.floor_in.v1", "bench.floor_out.v1"
WAVE_IN_TOPIC, WAVE_OUT_TOPIC = "bench.wave_in.v1", "bench.wave_out.v1"
# A burst as large as the measured ones, so that each lane's database connection has prepared and
# planned the waves' statements (as in a service that has run a while) for the mobilizer and the bare
# wave alike: with five, the bursts met connections planning a wave's statement afresh (2–18 ms each
# in PostgreSQL's log).
WARMUP_INCIDENTS = 20
WARMUP_TIMEOUT_S = 120.0
MOBILIZER_TABLES = (
    "commitments, offers, mobilizations, explanations, mobilizer_outbox, mobilizer_inbox"
)
SEEDED_TABLES = ("volunteers", "certifications", "mobile_groups", "mobile_group_members")
KNN = (
    "SELECT id FROM volunteers "
    "ORDER BY home <-> ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography "
    f"LIMIT {KNN_LIMIT}"
)
PRIORITY_WEIGHTS = (
    (Priority.CRITICAL, 0.2),
    (Priority.HIGH, 0.35),
    (Priority.MEDIUM, 0.3),
    (Priority.LOW, 0.15),
)


def ms(seconds: float) -> str:
    return f"{1000 * seconds:,.0f} ms" if seconds >= 0.01 else f"{1000 * seconds:.1f} ms"


def summary(values: Sequence[float]) -> str:
    if not values:
        return "no samples"
    return (
        f"p50 {ms(statistics.median(values))}, p99 {ms(percentile(values, 0.99))}, "
        f"max {ms(max(values))}"
    )


# --- the population -------------------------------------------------------------------------


async def ensure_population(engine: AsyncEngine, volunteers: int) -> None:
    """Reference data and exactly `volunteers` volunteers; reseeds only when the count differs."""
    async with engine.connect() as connection:
        settlements = await connection.scalar(text("SELECT count(*) FROM settlements"))
        regions = await connection.scalar(text("SELECT count(*) FROM regions"))
    if settlements != len(load_settlements()) or not regions:
        began = time.perf_counter()
        await seed_reference(engine)
        print(f"seeded   reference data in {time.perf_counter() - began:.1f} s", flush=True)
    async with engine.connect() as connection:
        present = await connection.scalar(text("SELECT count(*) FROM volunteers"))
    if present == volunteers:
        print(f"seed     {volunteers:,} volunteers already in jedel_bench", flush=True)
        return
    print(f"seeding  {volunteers:,} volunteers (jedel_bench held {present:,}) …", flush=True)
    report = await seed_volunteers(engine, count=volunteers, today=date.today(), seed=7)
    print(
        f"seeded   {report.volunteers:,} volunteers, {report.certifications:,} certificates, "
        f"{report.groups:,} mobile groups in {report.seconds:.0f} s",
        flush=True,
    )
    # Freshly copied rows have no hint bits or visibility map yet: the first queries would pay for
    # writing them, so the run right after a seed would be slower than every other.
    began = time.perf_counter()
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text(f"VACUUM (ANALYZE) {', '.join(SEEDED_TABLES)}"))
    print(f"vacuumed the new population in {time.perf_counter() - began:.0f} s", flush=True)


async def truncate_mobilizer(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {MOBILIZER_TABLES} CASCADE"))


# A year of call-outs at bench.policies' rate (about 1,100 mobilisations over the 20 regions), each
# having asked a first wave's worth of the nearest people and deployed a group's worth of them:
# waves read every candidate's offers and last deployment, which an empty history hides (without
# its index, the last deployment was a scan of all deployments per candidate, ~440 ms a wave).
HISTORY_REGIONS = 20
HISTORY_ASKED, HISTORY_ACCEPT_SHARE = 30, 1 / 3
_HISTORY = f"""
    WITH past AS (
        SELECT * FROM unnest($1::uuid[], $2::float8[], $3::float8[], $4::timestamptz[])
            AS p(id, lon, lat, at)
    ), mobilised AS (
        INSERT INTO mobilizations (incident_id, status, playbook, incident_type, priority,
                                   is_exercise, center, needed, radius_m, wave, started_at,
                                   deadline_at, incident_version)
        SELECT id, 'closed', 'history', 'flood', 'high', false,
               ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography, '{{}}'::jsonb, 10000, 3, at,
               at + interval '1 hour', 1
        FROM past
    ), offered AS (
        INSERT INTO offers (id, incident_id, volunteer_id, role, wave, status, eta_s, distance_m,
                            p_accept, offered_at, expires_at, language, contact_phone)
        SELECT gen_random_uuid(), p.id, near.volunteer_id, 'searcher', 1,
               CASE WHEN random() < {HISTORY_ACCEPT_SHARE} THEN 'accepted' ELSE 'declined' END,
               900, 3000, 0.3, p.at, p.at + interval '5 minutes', 'ru', '+77000000000'
        FROM past p CROSS JOIN LATERAL (
            SELECT DISTINCT c.volunteer_id FROM (
                SELECT c.volunteer_id FROM certifications c
                WHERE c.type = 'first_aid'
                ORDER BY c.home <-> ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326)::geography
                LIMIT {HISTORY_ASKED}
            ) c
        ) near
        RETURNING id, incident_id, volunteer_id, status, offered_at
    )
    INSERT INTO commitments (volunteer_id, incident_id, offer_id, role, eta_s, committed_at,
                             released_at)
    SELECT volunteer_id, incident_id, id, 'searcher', 900, offered_at,
           offered_at + interval '4 hours'
    FROM offered WHERE status = 'accepted'
"""


async def seed_history(rng: random.Random) -> tuple[int, int, int]:
    """A year of past call-outs (see `_HISTORY`): (mobilisations, offers, deployments)."""
    count = round(REGISTERED_PER_REGION_PER_DAY * MOBILISED_SHARE * HISTORY_REGIONS * 365)
    settlements = load_settlements()
    places = rng.choices(settlements, weights=[s.population for s in settlements], k=count)
    now = utc_now()
    ats = [now - timedelta(days=rng.uniform(1 / 24, 365)) for _ in places]
    connection = await asyncpg.connect(asyncpg_dsn(DATABASE_URL))
    try:
        async with connection.transaction():
            await connection.execute(
                _HISTORY,
                [uuid.uuid4() for _ in places],
                [p.longitude + rng.uniform(-0.03, 0.03) for p in places],
                [p.latitude + rng.uniform(-0.02, 0.02) for p in places],
                ats,
            )
        await connection.execute("ANALYZE mobilizations, offers, commitments")
        offers = await connection.fetchval("SELECT count(*) FROM offers")
        deployments = await connection.fetchval("SELECT count(*) FROM commitments")
    finally:
        await connection.close()
    return count, offers, deployments


# --- incidents --------------------------------------------------------------------------------


def draw_incidents(count: int, rng: random.Random, tag: str) -> list[IncidentOpened]:
    """Incidents at settlements drawn by population (so mostly where people live), a few km off
    the centre, of every type and priority."""
    settlements = load_settlements()
    places = rng.choices(settlements, weights=[s.population for s in settlements], k=count)
    return [incident_at(place, rng, tag) for place in places]


def incident_at(place: Settlement, rng: random.Random, tag: str) -> IncidentOpened:
    now = utc_now()
    lon = place.longitude + rng.uniform(-0.03, 0.03)
    lat = place.latitude + rng.uniform(-0.02, 0.02)
    kind = rng.choice(list(IncidentType))
    priority = rng.choices(
        [p for p, _ in PRIORITY_WEIGHTS], weights=[w for _, w in PRIORITY_WEIGHTS]
    )[0]
    half = 0.02
    ring = [
        [lon - half, lat - half],
        [lon + half, lat - half],
        [lon + half, lat + half],
        [lon - half, lat + half],
        [lon - half, lat - half],
    ]
    missing = kind is IncidentType.MISSING_PERSON
    return IncidentOpened(
        incident_id=uuid.uuid4(),
        type=kind,
        priority=priority,
        status=IncidentStatus.OPEN,
        alert_status=AlertStatus.ACTUAL,
        is_exercise=False,
        source=IncidentSource.MISSING_PERSON if missing else IncidentSource.CAP,
        severity="Severe",
        urgency="Immediate",
        certainty="Observed",
        texts=(
            LocalizedText(
                language="ru",
                event=kind.value,
                headline=f"{kind.value} near {place.name_ru or place.name} ({tag})",
            ),
        ),
        area={"type": "MultiPolygon", "coordinates": [[ring]]},
        area_km2=round((2 * half * 111) ** 2 * 0.7, 1),
        center_lon=lon,
        center_lat=lat,
        region_codes=(place.region_code,),
        opened_at=now,
        expires_at=now + timedelta(hours=12),
        subject=SubjectSummary(
            category="child",
            age_years=9,
            last_seen_at=now - timedelta(hours=2),
            last_seen_lon=lon,
            last_seen_lat=lat,
        )
        if missing
        else None,
    )


# --- the watcher ------------------------------------------------------------------------------


async def tail(kafka: KafkaSettings, names: Sequence[str]) -> AIOKafkaConsumer:
    """A group-less consumer from the first offset (as the broker's admin)."""
    return await tail_from_beginning(kafka, names, principal=ADMIN)


class Watcher:
    """Reads `mobilization.v1` while incidents are published; stamps each incident's first
    `VolunteerOffered` (the first person asked) and its first `WaveSent`."""

    def __init__(self, consumer: AIOKafkaConsumer) -> None:
        self.consumer = consumer
        self.first_offer: dict[str, float] = {}
        self.first_wave: dict[str, float] = {}
        self.opened: dict[str, float] = {}
        """When each IncidentOpened was seen on `incidents.v1` (the intake's part of the way)."""
        self.events = 0

    async def run(self) -> None:
        while True:
            batches = await self.consumer.getmany(timeout_ms=50)
            arrived = time.perf_counter()
            for records in batches.values():
                for record in records:
                    kind = dict(record.headers).get("event_type")
                    key = (record.key or b"").decode()
                    if record.topic == topics.INCIDENTS:
                        if kind == b"IncidentOpened":
                            self.opened.setdefault(key, arrived)
                        continue
                    self.events += 1
                    if kind == b"VolunteerOffered":
                        self.first_offer.setdefault(key, arrived)
                    elif kind == b"WaveSent" and json.loads(record.value).get("wave") == 1:
                        self.first_wave.setdefault(key, arrived)


@dataclass
class Published:
    incident: IncidentOpened
    stamp: float  # perf_counter, just before the publish
    wall: float  # time.time() then, to compare with the mobilizer's own clock

    @property
    def key(self) -> str:
        return str(self.incident.incident_id)


async def publish_incidents(
    producer: KafkaBroker, incidents: Sequence[IncidentOpened]
) -> list[Published]:
    """Publish as fast as the broker takes them, keyed by incident id like the intake does."""
    published = []
    for incident in incidents:
        stamp, wall = time.perf_counter(), time.time()
        await producer.publish(
            incident.model_dump_json().encode(),
            topics.INCIDENTS,
            key=str(incident.incident_id).encode(),
            headers={
                "event_id": str(incident.event_id),
                "event_type": "IncidentOpened",
                "content-type": "application/json",
            },
        )
        published.append(Published(incident, stamp, wall))
    return published


async def wait_for_waves(
    watcher: Watcher,
    published: Sequence[Published],
    deadline: float,
    mobilizers: Sequence[subprocess.Popen[bytes]],
) -> bool:
    """Until every incident has its first wave (True) or `deadline` (perf_counter) passes."""
    wanted = {p.key for p in published}
    while not wanted <= watcher.first_wave.keys():
        for mobilizer in mobilizers:
            if mobilizer.poll() is not None:
                raise RuntimeError(f"a mobilizer exited with {mobilizer.returncode}")
        if time.perf_counter() >= deadline:
            return False
        await asyncio.sleep(0.05)
    return True


# --- the floor --------------------------------------------------------------------------------


async def bare_connection() -> Any:
    """One asyncpg connection to the bench database, as the services configure theirs."""
    return await asyncpg.connect(
        asyncpg_dsn(DATABASE_URL), server_settings={"max_parallel_workers_per_gather": "0"}
    )


class Floor:
    """The bare work: the nearest-neighbour query plus one broker round trip."""

    def __init__(self, connection: Any, producer: KafkaBroker, consumer: AIOKafkaConsumer) -> None:
        self.connection = connection
        self.producer = producer
        self.consumer = consumer

    @classmethod
    async def open(cls, kafka: KafkaSettings, producer: KafkaBroker) -> Floor:
        connection = await bare_connection()
        consumer = await tail(kafka, (ROUND_TRIP_TOPIC,))
        return cls(connection, producer, consumer)

    async def measure(self, lon: float, lat: float) -> tuple[float, float]:
        """(query, round trip) in seconds, one after the other."""
        began = time.perf_counter()
        rows = await self.connection.fetch(KNN, lon, lat)
        found = time.perf_counter()
        assert len(rows) == KNN_LIMIT
        key = uuid.uuid4().hex.encode()
        await self.producer.publish(b'{"ping": true}', ROUND_TRIP_TOPIC, key=key)
        while not any(
            record.key == key
            for records in (await self.consumer.getmany(timeout_ms=1000)).values()
            for record in records
        ):
            pass
        return found - began, time.perf_counter() - found

    async def close(self) -> None:
        await self.consumer.stop()
        await self.connection.close()


class BarePipeline:
    """The floor: the same incidents through a bare consumer with as many lanes as the mobilizer
    (`MobilizerOptions.concurrency`, one database connection each, an incident's records always
    in the same lane), each incident doing only `work`; stamped when its first published message
    is read back.

    - `bare_wave` (the aim's floor): what a first wave cannot do without — one nearest-holders
      scan per certificate type the playbook needs (the same per-type indexes, as many as matching
      looks at), the wave's offers and their outbox rows written in one transaction, and the
      offers published and acknowledged like the relay does — with as many offers as Jedel's first
      wave for that incident actually sent. No eligibility, ranking, explanations or bookkeeping.
    - `bare_floor` (context): the bare nearest-neighbour query and one message per incident: what
      the queue alone costs any matcher.
    """

    def __init__(
        self,
        work: BareWork,
        connections: Sequence[Any],
        producer: KafkaBroker,
        inbox: AIOKafkaConsumer,
        outbox: AIOKafkaConsumer,
        topics_in_out: tuple[str, str],
    ) -> None:
        self.work = work
        self.connections = connections
        self.producer = producer
        self.inbox = inbox
        self.outbox = outbox
        self.topic_in, self.topic_out = topics_in_out
        self.arrived: dict[bytes, float] = {}
        self.lanes: list[asyncio.Queue[Any]] = [asyncio.Queue() for _ in connections]

    @classmethod
    async def open(
        cls,
        work: BareWork,
        kafka: KafkaSettings,
        producer: KafkaBroker,
        topics_in_out: tuple[str, str],
        *,
        lanes: int,
    ) -> BarePipeline:
        connections = [await bare_connection() for _ in range(lanes)]
        await prepare_floor_tables(connections[0])
        inbox = await tail(kafka, (topics_in_out[0],))
        outbox = await tail(kafka, (topics_in_out[1],))
        return cls(work, connections, producer, inbox, outbox, topics_in_out)

    async def serve(self) -> None:
        while True:
            for records in (await self.inbox.getmany(timeout_ms=50)).values():
                for record in records:
                    lane = zlib.crc32(record.key or b"") % len(self.lanes)
                    self.lanes[lane].put_nowait(record)

    async def lane(self, index: int) -> None:
        publish = raw_publisher(self.producer)
        connection, queue = self.connections[index], self.lanes[index]
        while True:
            record = await queue.get()
            messages = await self.work(connection, json.loads(record.value))
            acknowledgements = [
                await publish(self.topic_out, record.key, message, {}) for message in messages
            ]
            await asyncio.gather(*acknowledgements)

    async def watch(self) -> None:
        while True:
            batches = await self.outbox.getmany(timeout_ms=50)
            arrived = time.perf_counter()
            for records in batches.values():
                for record in records:
                    self.arrived.setdefault(record.key or b"", arrived)

    async def send(self, incidents: Sequence[dict[str, Any]]) -> list[float]:
        """Publish `incidents` as fast as the broker takes them; each one's latency to its first
        message back (those without one within a minute are left out)."""
        sent = {}
        for incident in incidents:
            key = uuid.uuid4().hex.encode()  # fresh keys: the incidents went to the mobilizer too
            sent[key] = time.perf_counter()
            await self.producer.publish(json.dumps(incident).encode(), self.topic_in, key=key)
        deadline = time.perf_counter() + 60
        while time.perf_counter() < deadline:
            if sent.keys() <= self.arrived.keys():
                break
            await asyncio.sleep(0.005)
        return [self.arrived[key] - stamp for key, stamp in sent.items() if key in self.arrived]

    @classmethod
    @contextlib.asynccontextmanager
    async def running(
        cls,
        work: BareWork,
        kafka: KafkaSettings,
        producer: KafkaBroker,
        topics_in_out: tuple[str, str],
        *,
        lanes: int,
    ) -> AsyncIterator[BarePipeline]:
        """The pipeline serving, its lanes and watcher running, until the block ends."""
        pipeline = await cls.open(work, kafka, producer, topics_in_out, lanes=lanes)
        tasks = [
            asyncio.create_task(pipeline.serve()),
            asyncio.create_task(pipeline.watch()),
            *(asyncio.create_task(pipeline.lane(index)) for index in range(lanes)),
        ]
        try:
            yield pipeline
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await pipeline.close()

    async def burst(
        self, incidents: Sequence[dict[str, Any]], meter: CpuMeter | None = None
    ) -> tuple[list[float], dict[str, float]]:
        """The incidents sent at once: their latencies and, with `meter`, the CPU seconds each of
        its groups spent meanwhile."""
        before = meter.read() if meter else {}
        latencies = await self.send(incidents)
        return latencies, CpuMeter.spent(before, meter.read()) if meter else {}

    async def close(self) -> None:
        await self.inbox.stop()
        await self.outbox.stop()
        for connection in self.connections:
            await connection.close()


BareWork = Callable[[Any, dict[str, Any]], Awaitable[list[bytes]]]


def add_cpu(total: dict[str, float], spent: Mapping[str, float]) -> None:
    for name, seconds in spent.items():
        total[name] = total.get(name, 0.0) + seconds


def with_offers(
    incidents: Sequence[IncidentOpened], offers: Mapping[str, float]
) -> list[dict[str, Any]]:
    """The incidents as the floor reads them, each with the offers Jedel's first wave sent for it
    (those where it sent none are left out: nobody to ask)."""
    return [
        {**incident.model_dump(mode="json"), "offers": int(count)}
        for incident in incidents
        if (count := offers.get(str(incident.incident_id), 0))
    ]


# A VolunteerOffered is about this size on the wire.
OFFER_SIZED = b'{"offer": "' + b"x" * 620 + b'"}'
FLOOR_TABLES = ("bench_floor_offers", "bench_floor_outbox")


async def prepare_floor_tables(connection: Any) -> None:
    """Empty tables shaped like the mobilizer's offers and outbox, for the floor to write."""
    await connection.execute(
        "CREATE TABLE IF NOT EXISTS bench_floor_offers (LIKE offers INCLUDING DEFAULTS "
        "INCLUDING INDEXES)"
    )
    await connection.execute(
        "CREATE TABLE IF NOT EXISTS bench_floor_outbox (LIKE mobilizer_outbox INCLUDING DEFAULTS "
        "INCLUDING INDEXES)"
    )
    await connection.execute(f"TRUNCATE {', '.join(FLOOR_TABLES)}")


async def bare_floor(connection: Any, incident: dict[str, Any]) -> list[bytes]:
    await connection.fetch(KNN, incident["center_lon"], incident["center_lat"])
    return [b"{}"]


def bare_wave(matching: Matching) -> BareWork:
    playbooks = matching.playbooks

    async def work(connection: Any, incident: dict[str, Any]) -> list[bytes]:
        playbook = playbooks.for_incident(
            IncidentType(incident["type"]), Priority(incident["priority"])
        )
        # As many of each type's nearest holders as the mobilizer's first wave looks at.
        per_type: dict[CertificationType, int] = {}
        for role, limit in matching.first_wave_candidates(playbook).items():
            for kind in playbooks.roles[role].certifications:
                per_type[kind] = max(per_type.get(kind, 0), limit)
        scans = " UNION ALL ".join(
            f"(SELECT volunteer_id FROM certifications WHERE type = '{kind.value}' "
            f"AND expires_on > CURRENT_DATE - 365 "
            f"ORDER BY home <-> ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography "
            f"LIMIT {limit})"
            for kind, limit in sorted(per_type.items())
        )
        found = await connection.fetch(scans, incident["center_lon"], incident["center_lat"])
        people = list(dict.fromkeys(row["volunteer_id"] for row in found))[: incident["offers"]]
        now = utc_now()
        count = len(people)
        incident_id = uuid.UUID(incident["incident_id"])
        async with connection.transaction():
            await connection.execute(
                "INSERT INTO bench_floor_offers (id, incident_id, volunteer_id, role, wave, "
                "status, eta_s, distance_m, p_accept, offered_at, expires_at, language, "
                "contact_phone) SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], "
                "$4::text[], $5::int[], $6::text[], $7::int[], $8::int[], $9::float8[], "
                "$10::timestamptz[], $11::timestamptz[], $12::text[], $13::text[])",
                [uuid.uuid4() for _ in people],
                [incident_id] * count,
                people,
                ["searcher"] * count,
                [1] * count,
                ["pending"] * count,
                [600] * count,
                [5_000] * count,
                [0.25] * count,
                [now] * count,
                [now + timedelta(seconds=playbook.offer_timeout_s)] * count,
                ["kk"] * count,
                ["+77010000000"] * count,
            )
            await connection.execute(
                "INSERT INTO bench_floor_outbox (topic, key, payload, headers) "
                "SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::jsonb[])",
                [topics.MOBILIZATION] * count,
                [str(incident_id)] * count,
                [OFFER_SIZED] * count,
                ['{"event_type": "VolunteerOffered"}'] * count,
            )
        return [OFFER_SIZED] * count

    return work


# --- end to end: a CAP alert through the intake to the first offer ---------------------------

CAP_NS = "{urn:oasis:names:tc:emergency:cap:1.2}"
E2E_IN_TOPIC, E2E_MID_TOPIC, E2E_OUT_TOPIC = (
    "bench.e2e_in.v1",
    "bench.e2e_mid.v1",
    "bench.e2e_out.v1",
)


def cap_alerts(count: int, rng: random.Random) -> list[tuple[str, bytes]]:
    """(identifier, CAP 1.2 bytes) at settlements, circles and polygons, like the senders'."""
    tag = uuid.uuid4().hex[:8]
    return [
        (identifier, cap_alert(identifier, sent=utc_now(), rng=rng))
        for identifier in (f"bench-e2e-{tag}-{n}" for n in range(count))
    ]


async def publish_alerts(
    producer: KafkaBroker, topic: str, alerts: Sequence[tuple[str, bytes]], *, pace_per_s: float
) -> dict[str, float]:
    """Each alert published at `pace_per_s`, keyed by its identifier; when each went out."""
    stamps: dict[str, float] = {}
    began = time.perf_counter()
    for index, (identifier, payload) in enumerate(alerts):
        stamps[identifier] = time.perf_counter()
        await producer.publish(payload, topic, key=identifier.encode())
        await asyncio.sleep(max(0.0, began + (index + 1) / pace_per_s - time.perf_counter()))
    return stamps


async def until_calm(engine: AsyncEngine, *, timeout_s: float, active: bool = True) -> None:
    """Until the mobilizer's outbox is empty and (with `active`) no mobilisation is active, or
    `timeout_s` has passed."""
    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        async with engine.connect() as connection:
            busy = await connection.scalar(
                text(
                    "SELECT (SELECT count(*) FROM mobilizer_outbox WHERE published_at IS NULL)"
                    + (
                        " + (SELECT count(*) FROM mobilizations WHERE status = 'active')"
                        if active
                        else ""
                    )
                )
            )
        if not busy:
            return
        await asyncio.sleep(0.5)


async def incident_facts(
    engine: AsyncEngine, incidents: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """What the bare wave needs of each incident: type, priority, centre."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT incident_id::text, incident_type, priority, "
                "ST_X(center::geometry), ST_Y(center::geometry) FROM mobilizations "
                "WHERE incident_id = ANY(CAST(:ids AS uuid[]))"
            ),
            {"ids": list(incidents)},
        )
        return {
            incident: {
                "incident_id": incident,
                "type": kind,
                "priority": priority,
                "center_lon": lon,
                "center_lat": lat,
            }
            for incident, kind, priority, lon, lat in rows
        }


class BareIntake:
    """The intake's unavoidable work, for the end-to-end floor: parse the CAP message, write it
    down in one transaction, and hand the incident on (to a bare wave) — no validation, geometry
    or classification: those are looked up from what the real intake made of the same alert."""

    def __init__(
        self,
        connection: Any,
        producer: KafkaBroker,
        inbox: AIOKafkaConsumer,
        incidents: dict[str, dict[str, Any]],
    ) -> None:
        self.connection, self.producer, self.inbox = connection, producer, inbox
        self.incidents = incidents

    @classmethod
    async def open(
        cls, kafka: KafkaSettings, producer: KafkaBroker, incidents: dict[str, dict[str, Any]]
    ) -> BareIntake:
        connection = await bare_connection()
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS bench_floor_alerts "
            "(id bigserial PRIMARY KEY, identifier text, payload bytea, received_at timestamptz)"
        )
        await connection.execute("TRUNCATE bench_floor_alerts")
        return cls(connection, producer, await tail(kafka, (E2E_IN_TOPIC,)), incidents)

    async def serve(self) -> None:
        while True:
            for records in (await self.inbox.getmany(timeout_ms=50)).values():
                for record in records:
                    root = etree.fromstring(record.value)
                    identifier = root.findtext(f"{CAP_NS}identifier") or ""
                    async with self.connection.transaction():
                        await self.connection.execute(
                            "INSERT INTO bench_floor_alerts (identifier, payload, received_at) "
                            "VALUES ($1, $2, now())",
                            identifier,
                            record.value,
                        )
                    await self.producer.publish(
                        json.dumps(self.incidents[identifier]).encode(),
                        E2E_MID_TOPIC,
                        key=record.key,
                    )

    async def close(self) -> None:
        await self.inbox.stop()
        await self.connection.close()


async def bare_end_to_end(
    kafka: KafkaSettings,
    producer: KafkaBroker,
    matching: Matching,
    alerts: Sequence[tuple[str, bytes]],
    incidents: dict[str, dict[str, Any]],
    *,
    lanes: int,
    pace_per_s: float,
) -> list[float]:
    """The same alerts through a bare intake into a bare wave: CAP published → first offer."""
    intake = await BareIntake.open(kafka, producer, incidents)
    wave = await BarePipeline.open(
        bare_wave(matching), kafka, producer, (E2E_MID_TOPIC, E2E_OUT_TOPIC), lanes=lanes
    )
    tasks = [
        asyncio.create_task(intake.serve()),
        asyncio.create_task(wave.serve()),
        asyncio.create_task(wave.watch()),
        *(asyncio.create_task(wave.lane(index)) for index in range(lanes)),
    ]
    try:
        stamps = await publish_alerts(producer, E2E_IN_TOPIC, alerts, pace_per_s=pace_per_s)
        deadline = time.perf_counter() + 60
        keys = {identifier.encode() for identifier in stamps}
        while not keys <= wave.arrived.keys() and time.perf_counter() < deadline:  # noqa: ASYNC110 - polling a deadline
            await asyncio.sleep(0.01)
        return [
            wave.arrived[identifier.encode()] - stamp
            for identifier, stamp in stamps.items()
            if identifier.encode() in wave.arrived
        ]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await intake.close()
        await wave.close()


# --- the run ----------------------------------------------------------------------------------


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class Recorded:
    """What the mobilizer wrote down: when it began each incident, each first wave's size."""

    started: dict[str, float]  # incident id → epoch seconds, on the mobilizer's clock
    relayed: dict[str, float]  # … when the outbox relay's batch holding the first WaveSent began
    offers: dict[str, float]
    explained: dict[str, float]
    understaffed: int


async def recorded(engine: AsyncEngine, incidents: Sequence[uuid.UUID]) -> Recorded:
    ids = {"ids": [str(incident) for incident in incidents]}
    async with engine.connect() as connection:

        async def per_incident(query: str) -> dict[str, float]:
            rows = await connection.execute(text(query), ids)
            return {str(incident): float(value) for incident, value in rows}

        return Recorded(
            started=await per_incident(
                "SELECT incident_id, extract(epoch FROM started_at) FROM mobilizations "
                "WHERE incident_id = ANY(CAST(:ids AS uuid[]))"
            ),
            relayed=await per_incident(
                "SELECT key, extract(epoch FROM published_at) FROM mobilizer_outbox "
                "WHERE headers->>'event_type' = 'WaveSent' AND published_at IS NOT NULL "
                "AND (convert_from(payload, 'UTF8')::jsonb->>'wave')::int = 1 "
                "AND key = ANY(CAST(:ids AS text[]))"
            ),
            offers=await per_incident(
                "SELECT incident_id, count(*) FROM offers "
                "WHERE wave = 1 AND incident_id = ANY(CAST(:ids AS uuid[])) "
                "GROUP BY incident_id"
            ),
            explained=await per_incident(
                "SELECT incident_id, count(*) FROM explanations "
                "WHERE incident_id = ANY(CAST(:ids AS uuid[])) GROUP BY incident_id"
            ),
            understaffed=int(
                await connection.scalar(
                    text(
                        "SELECT count(*) FROM mobilizations "
                        "WHERE understaffed_at IS NOT NULL "
                        "AND incident_id = ANY(CAST(:ids AS uuid[]))"
                    ),
                    ids,
                )
                or 0
            ),
        )


@dataclass
class Options:
    volunteers: int
    bursts: int
    burst_size: int
    gap_s: float
    budget_s: float
    seed: int
    isolated: int = 20
    e2e_alerts: int = 50
    e2e_rate: float = 5.0
    replicas: int = 1


async def main(options: Options) -> int:
    run_began = time.perf_counter()
    engine = build_engine(
        DatabaseSettings(url=DATABASE_URL, statement_timeout_ms=0), application_name="jedel-bench"
    )
    await ensure_population(engine, options.volunteers)
    await truncate_mobilizer(engine)
    rng = random.Random(options.seed)
    began = time.perf_counter()
    mobilised, offered, deployed = await seed_history(random.Random(options.seed + 1))
    print(
        f"history  a year of call-outs: {mobilised:,} mobilisations, {offered:,} offers, "
        f"{deployed:,} deployments ({time.perf_counter() - began:.1f} s)",
        flush=True,
    )
    warmup = draw_incidents(WARMUP_INCIDENTS, rng, "warm-up")
    bursts = [
        draw_incidents(options.burst_size, rng, f"burst {number + 1}")
        for number in range(options.bursts)
    ]
    alone = draw_incidents(options.isolated, rng, "alone")

    # A broker of its own: no history from earlier runs for a new consumer group to replay.
    local_broker = LocalBroker(partitions=3).start()
    kafka = KafkaSettings(
        bootstrap_servers=local_broker.bootstrap,
        credentials_file=local_broker.credentials_file,
        session_timeout_ms=6000,
        heartbeat_interval_ms=500,
    )
    await ensure_topics(
        kafka,
        (
            *topics.ALL,
            ROUND_TRIP_TOPIC,
            FLOOR_IN_TOPIC,
            FLOOR_OUT_TOPIC,
            WAVE_IN_TOPIC,
            WAVE_OUT_TOPIC,
            E2E_IN_TOPIC,
            E2E_MID_TOPIC,
            E2E_OUT_TOPIC,
        ),
        principal=ADMIN,
    )
    log = tempfile.NamedTemporaryFile(prefix="jedel-bench-mobilizer-", suffix=".log", delete=False)  # noqa: SIM115
    group = f"jedel-mobilizer-bench-{uuid.uuid4().hex[:8]}"
    mobilizers = [
        start_service("mobilizer", group, local_broker, log=log) for _ in range(options.replicas)
    ]
    producer = build_broker(kafka, principal=ADMIN)
    watcher_consumer: AIOKafkaConsumer | None = None
    watching: asyncio.Task[None] | None = None
    floor: Floor | None = None
    published: list[Published] = []
    singles: list[Published] = []
    floors: list[tuple[float, float]] = []
    bare_alone: list[float] = []
    bare_bursts: list[float] = []
    bare_cpu: dict[str, float] = {}
    settings = MobilizerSettings()
    matching = build_matching(settings)
    lanes = settings.mobilizer.concurrency * options.replicas
    broker_pid = local_broker.pid
    # Where the CPU of the bursts goes, the mobilizer's and the bare wave's (whose lanes run in
    # this process, the bench's).
    meter = CpuMeter(
        {
            "mobilizer": lambda: [m.pid for m in mobilizers if m.poll() is None],
            "PostgreSQL": lambda: pids_named("postgres"),
            "broker": lambda: [broker_pid] if broker_pid else [],
            "bench": lambda: [os.getpid()],
        }
    )
    # The bare wave serves beside the mobilizer: each incident goes through it just after the
    # mobilizer's first wave for it (the mobilizer idle by then), so a machine that slows down for
    # a while slows both, not one of them.
    bare_serving = contextlib.AsyncExitStack()
    try:
        await producer.connect()
        watcher_consumer = await tail(kafka, (topics.MOBILIZATION, topics.INCIDENTS))
        watcher = Watcher(watcher_consumer)
        watching = asyncio.create_task(watcher.run())
        floor = await Floor.open(kafka, producer)
        bare_pipeline = await bare_serving.enter_async_context(
            BarePipeline.running(
                bare_wave(matching), kafka, producer, (WAVE_IN_TOPIC, WAVE_OUT_TOPIC), lanes=lanes
            )
        )

        async def through_the_bare_wave(
            incidents: Sequence[IncidentOpened], meter: CpuMeter | None = None
        ) -> tuple[list[float], dict[str, float]]:
            """The incidents through the bare wave once the mobilizer's deferred work (a batch's
            explanations, at most 2 s after it) is done, as many offers each as it sent."""
            await asyncio.sleep(options.gap_s)
            asked = await recorded(engine, [incident.incident_id for incident in incidents])
            return await bare_pipeline.burst(with_offers(incidents, asked.offers), meter)

        # Warm-up: the consumer group forms, pools fill, plans and pages get cached.
        began = time.perf_counter()
        warm = await publish_incidents(producer, warmup)
        await wait_for_waves(watcher, warm, began + WARMUP_TIMEOUT_S, mobilizers)
        done = sum(p.key in watcher.first_wave for p in warm)
        print(
            f"warm-up  {done}/{len(warm)} incidents got their first wave in "
            f"{time.perf_counter() - began:.0f} s",
            flush=True,
        )
        await through_the_bare_wave(warmup)
        # For context: the bare query plus one broker round trip, the mobilizer idle.
        for incident in warmup:
            await floor.measure(incident.center_lon, incident.center_lat)
        for incident in (incident for burst in bursts for incident in burst):
            floors.append(await floor.measure(incident.center_lon, incident.center_lat))

        # One incident at a time, each after the last one's first wave: no queue.
        for incident in alone:
            [single] = await publish_incidents(producer, [incident])
            await wait_for_waves(watcher, [single], began + options.budget_s, mobilizers)
            singles.append(single)
            bare_alone.extend((await through_the_bare_wave([incident]))[0])

        deadline = time.perf_counter() + options.budget_s
        cpu_bursts: dict[str, float] = {}
        for number, incidents in enumerate(bursts, start=1):
            if time.perf_counter() >= deadline:
                print(f"burst {number}  not sent: the {options.budget_s:.0f} s budget ran out")
                continue
            cpu_before = meter.read()
            burst = await publish_incidents(producer, incidents)
            published.extend(burst)
            complete = await wait_for_waves(watcher, burst, deadline, mobilizers)
            add_cpu(cpu_bursts, CpuMeter.spent(cpu_before, meter.read()))
            got = [
                watcher.first_offer[p.key] - p.stamp for p in burst if p.key in watcher.first_offer
            ]
            bare_got, spent = await through_the_bare_wave(incidents, meter)
            bare_bursts.extend(bare_got)
            add_cpu(bare_cpu, spent)
            print(
                f"burst {number}  {len(got)}/{len(burst)} first offers; {summary(got)}; "
                f"the bare wave: {summary(bare_got)}",
                flush=True,
            )
            if complete:
                await asyncio.sleep(options.gap_s)
        await bare_serving.aclose()
        # Waves still on their way when the budget ran out count as never sent.
        await wait_for_waves(watcher, published, deadline, mobilizers)

        # End to end on a calm service, as a dispatcher's first alert of the day: the bursts' and
        # the single incidents' mobilisations are called off, so their waves stop.
        for incident in (p.incident for p in (*published, *singles)):
            facts_of = incident.model_dump(exclude={"event_id", "occurred_at", "kind", "status"})
            cancel = IncidentCancelled(**facts_of, status=IncidentStatus.CANCELLED)
            await producer.publish(
                cancel.model_dump_json().encode(),
                topics.INCIDENTS,
                key=str(incident.incident_id).encode(),
                headers={"event_id": str(cancel.event_id), "event_type": "IncidentCancelled"},
            )
        await until_calm(engine, timeout_s=60)

        # End to end: CAP alerts through the real intake, paced as senders send them.
        intake = start_service(
            "intake", f"jedel-intake-bench-{uuid.uuid4().hex[:8]}", local_broker, log=log
        )
        cap_producer = build_broker(kafka, principal=PUBLISHERS[topics.ALERTS_CAP])
        await cap_producer.connect()
        try:
            # Warm-up: the intake's consumer group forms, its caches fill; until it has opened
            # the warm-up alerts' incidents and the mobilizer has asked for them.
            warm_alerts = await publish_alerts(
                cap_producer, topics.ALERTS_CAP, cap_alerts(5, rng), pace_per_s=options.e2e_rate
            )
            warm_deadline = time.perf_counter() + WARMUP_TIMEOUT_S
            while time.perf_counter() < warm_deadline:
                warm_incidents = await incidents_of(engine, list(warm_alerts))
                if len(warm_incidents) == len(warm_alerts) and all(
                    i in watcher.first_offer for i in warm_incidents.values()
                ):
                    break
                await asyncio.sleep(0.5)
            await until_calm(engine, timeout_s=30, active=False)
            alerts = cap_alerts(options.e2e_alerts, rng)
            stamps = await publish_alerts(
                cap_producer, topics.ALERTS_CAP, alerts, pace_per_s=options.e2e_rate
            )
            e2e_deadline = time.perf_counter() + 60
            while time.perf_counter() < e2e_deadline:
                incident_of = await incidents_of(engine, list(stamps))
                if len(incident_of) == len(stamps) and all(
                    i in watcher.first_offer for i in incident_of.values()
                ):
                    break
                await asyncio.sleep(0.5)
        finally:
            await cap_producer.stop()
            stop(intake)
        for mobilizer in mobilizers:  # the floor runs on a quiet machine, as the services did
            stop(mobilizer)

        facts = await recorded(
            engine,
            [
                *(p.incident.incident_id for p in (*published, *singles)),
                *(uuid.UUID(i) for i in incident_of.values()),
            ],
        )
        asked_alerts = {
            identifier: incident
            for identifier, incident in incident_of.items()
            if facts.offers.get(incident)
        }
        e2e = [
            watcher.first_offer[incident] - stamps[identifier]
            for identifier, incident in asked_alerts.items()
            if incident in watcher.first_offer
        ]
        e2e_missing = len(stamps) - len(e2e)
        e2e_intake = [
            watcher.opened[incident] - stamps[identifier]
            for identifier, incident in asked_alerts.items()
            if incident in watcher.opened
        ]
        known = await incident_facts(engine, list(asked_alerts.values()))
        bare_e2e = await bare_end_to_end(
            kafka,
            producer,
            matching,
            [(identifier, payload) for identifier, payload in alerts if identifier in asked_alerts],
            {
                identifier: {**known[incident], "offers": int(facts.offers[incident])}
                for identifier, incident in asked_alerts.items()
                if incident in known
            },
            lanes=lanes,
            pace_per_s=options.e2e_rate,
        )

        async with BarePipeline.running(
            bare_floor, kafka, producer, (FLOOR_IN_TOPIC, FLOOR_OUT_TOPIC), lanes=lanes
        ) as queue:
            bare_queue = []
            for incidents in bursts:
                bare_queue.extend(await queue.send(with_offers(incidents, facts.offers)))
                await asyncio.sleep(0.5)
    finally:
        if watching is not None:
            watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watching
        if watcher_consumer is not None:
            await watcher_consumer.stop()
        if floor is not None:
            await floor.close()
        await bare_serving.aclose()
        await producer.stop()
        for mobilizer in mobilizers:
            stop(mobilizer)
        local_broker.stop()
        log.close()

    await engine.dispose()
    return report(
        options,
        Measured(
            watcher=watcher,
            published=published,
            singles=singles,
            floors=floors,
            bare=Bare(
                alone=bare_alone,
                bursts=bare_bursts,
                queue=bare_queue,
                e2e=bare_e2e,
                cpu=bare_cpu,
            ),
            cpu=cpu_bursts,
            facts=facts,
            lanes=lanes,
            e2e=e2e,
            e2e_missing=e2e_missing,
            e2e_intake=e2e_intake,
        ),
        run_began,
        log.name,
    )


@dataclass
class Bare:
    """The floor's latencies (see BarePipeline): one at a time, under the bursts, and the bare
    queue (one query, one message) under the bursts."""

    alone: list[float]
    bursts: list[float]
    queue: list[float]
    e2e: list[float]
    cpu: dict[str, float]
    """CPU seconds by process group from each burst sent to its last first offer seen."""


@dataclass
class Measured:
    watcher: Watcher
    published: Sequence[Published]
    singles: Sequence[Published]
    floors: Sequence[tuple[float, float]]
    bare: Bare
    facts: Recorded
    lanes: int
    e2e: list[float]
    """CAP alert published → first offer, through the intake and the mobilizer."""
    e2e_missing: int
    e2e_intake: list[float]
    """… of which CAP alert published → IncidentOpened seen (the intake's part)."""
    cpu: dict[str, float]
    """CPU seconds by process group from each burst's first incident published to its last
    first wave seen (what the waves left to do after that, explanations, is not counted)."""

    def first_offers(self, published: Sequence[Published]) -> tuple[list[float], int]:
        """IncidentOpened → first offer seen, for the incidents whose first wave asked anyone;
        and how many of those never got one (they count as infinitely late)."""
        asked = [p for p in published if self.facts.offers.get(p.key)]
        got = [
            self.watcher.first_offer[p.key] - p.stamp
            for p in asked
            if p.key in self.watcher.first_offer
        ]
        return got, len(asked) - len(got)


def cpu_per_incident(spent: dict[str, float], incidents: int) -> str:
    """CPU milliseconds per incident by process group, and their sum."""
    if not incidents:
        return "not measured"
    shares = {name: 1000 * seconds / incidents for name, seconds in spent.items() if seconds}
    parts = ", ".join(f"{name} {value:.1f}" for name, value in shares.items())
    return f"{parts} = {sum(shares.values()):.1f} ms"


def split(
    incidents: Sequence[Published], watcher: Watcher, facts: Recorded
) -> tuple[list[float], list[float], list[float]]:
    """Each first wave's time until its handler began (the mobilizer's clock), until the relay's
    batch holding its WaveSent began (the database's), and until the WaveSent was seen: one
    machine, one clock."""
    inbound: list[float] = []
    handling: list[float] = []
    relaying: list[float] = []
    for p in incidents:
        if p.key in watcher.first_wave and p.key in facts.started and p.key in facts.relayed:
            arrived = p.wall + watcher.first_wave[p.key] - p.stamp
            inbound.append(facts.started[p.key] - p.wall)
            handling.append(facts.relayed[p.key] - facts.started[p.key])
            relaying.append(arrived - facts.relayed[p.key])
    return inbound, handling, relaying


def report(options: Options, measured: Measured, run_began: float, log_name: str) -> int:
    watcher, facts, bare = measured.watcher, measured.facts, measured.bare
    latencies, missing = measured.first_offers(measured.published)
    alone, alone_missing = measured.first_offers(measured.singles)
    floors = [knn + trip for knn, trip in measured.floors]
    offers = [facts.offers[p.key] for p in measured.published if facts.offers.get(p.key)]
    explained = [facts.explained.get(p.key, 0) for p in measured.published]
    print(
        f"context  bare KNN (LIMIT {KNN_LIMIT}) + one broker round trip, {len(floors)} locations: "
        f"{summary(floors)}"
    )
    print(
        f"context  the bursts through a bare queue ({measured.lanes} lanes, one query and one "
        f"message per incident): {summary(bare.queue)}"
    )
    print(
        f"floor    a bare wave ({measured.lanes} lanes as the mobilizer; a scan per certificate "
        f"type, the wave's offers and outbox rows in one transaction, published; as many offers "
        f"as Jedel's first waves: median {statistics.median(offers) if offers else 0:.0f}, max "
        f"{max(offers, default=0):.0f}): one at a time {summary(bare.alone)}; under the bursts "
        f"{summary(bare.bursts)}"
    )
    print(
        f"alone    IncidentOpened→first offer, {len(alone)} incidents one at a time: "
        f"{summary(alone)}"
    )
    print(
        f"matching IncidentOpened→first offer, {len(latencies)} incidents in {options.bursts} "
        f"bursts of {options.burst_size}: {summary(latencies)}"
    )
    for name, incidents in (("bursts", measured.published), ("one at a time", measured.singles)):
        inbound, handling, relaying = split(incidents, watcher, facts)
        print(
            f"split    {name}: published→handler began (broker in, consumer queue) "
            f"{summary(inbound)}"
        )
        print(
            "           handler began→relay picked the wave up (matching, explanations, offers, "
            f"commit) {summary(handling)}"
        )
        print(
            f"           relay picked it up→WaveSent seen (relay publishing, broker out) "
            f"{summary(relaying)}"
        )
    print(
        f"           first waves: median {statistics.median(offers) if offers else 0:.0f} offers "
        f"and {statistics.median(explained) if explained else 0:.0f} explanations; "
        f"{facts.understaffed} flagged understaffed; {watcher.events:,} events on "
        f"{topics.MOBILIZATION}"
    )
    print(
        f"cpu      per incident of the bursts: {cpu_per_incident(measured.cpu, len(measured.published))}; "
        f"the bare wave's: {cpu_per_incident(bare.cpu, len(bare.bursts))}"
    )
    print(f"run      {time.perf_counter() - run_began:.0f} s; mobilizer log {log_name}")
    # An incident without a first offer took longer than anything measured: infinitely late.
    burst_p99 = percentile([*latencies, *[math.inf] * missing], 0.99)
    alone_p99 = percentile([*alone, *[math.inf] * alone_missing], 0.99)
    floor_bursts = percentile(bare.bursts, 0.99) if bare.bursts else math.inf
    floor_alone = percentile(bare.alone, 0.99) if bare.alone else math.inf
    burst_ratio, alone_ratio = burst_p99 / floor_bursts, alone_p99 / floor_alone
    print(
        f"ratio    p50 {statistics.median(latencies) / statistics.median(bare.bursts):.1f}×, "
        f"p99 {burst_ratio:.1f}× the bare wave under bursts (aim ≤ {AIM_BURSTS:g}×); one at a "
        f"time p99 {alone_ratio:.1f}× (aim ≤ {AIM_ALONE:g}×)"
        if latencies and bare.bursts
        else "ratio    not measured"
    )
    e2e_p99 = percentile([*measured.e2e, *[math.inf] * measured.e2e_missing], 0.99)
    e2e_floor = percentile(bare.e2e, 0.99) if bare.e2e else math.inf
    e2e_ratio = e2e_p99 / e2e_floor
    print(
        f"e2e      CAP alert published→first offer, {len(measured.e2e)} alerts at "
        f"{options.e2e_rate:g}/s through the intake and the mobilizer: {summary(measured.e2e)}; "
        f"a bare intake (parse, write, hand on) and bare wave the same way: {summary(bare.e2e)}; "
        f"p99 {e2e_ratio:.1f}× (aim ≤ {AIM_E2E:g}×)"
        + (
            f"; {measured.e2e_missing} alert(s) without a first offer"
            if measured.e2e_missing
            else ""
        )
    )
    print(
        f"           of which CAP alert→IncidentOpened (the intake): {summary(measured.e2e_intake)}"
    )
    ok = burst_ratio <= AIM_BURSTS and alone_ratio <= AIM_ALONE and e2e_ratio <= AIM_E2E
    lost = missing + alone_missing
    print(
        f"matching: IncidentOpened→first offer p99 {ms(burst_p99)} under bursts of "
        f"{options.burst_size} = {burst_ratio:.1f}× the bare wave ({ms(floor_bursts)}), one at a "
        f"time {ms(alone_p99)} = {alone_ratio:.1f}× ({ms(floor_alone)}), "
        f"end to end from CAP {ms(e2e_p99)} = {e2e_ratio:.1f}×; {options.volunteers:,} volunteers "
        f"(aims ≤ {AIM_BURSTS:g}×, ≤ {AIM_ALONE:g}×, ≤ {AIM_E2E:g}×)"
        + (f"; {lost} incident(s) never got a first offer" if lost else "")
        + (": OK" if ok else ": MISSED AIM")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--volunteers", type=int, default=1_000_000, help="volunteers seeded")
    parser.add_argument("--bursts", type=int, default=5)
    parser.add_argument("--burst-size", type=int, default=20, help="incidents per burst")
    parser.add_argument("--gap", type=float, default=2.0, help="seconds between bursts")
    parser.add_argument(
        "--budget", type=float, default=300.0, help="seconds for all bursts and their waves"
    )
    parser.add_argument(
        "--isolated", type=int, default=20, help="incidents sent one at a time before the bursts"
    )
    parser.add_argument("--seed", type=int, default=2026, help="the same seed, the same incidents")
    parser.add_argument("--e2e-alerts", type=int, default=50, help="CAP alerts sent end to end")
    parser.add_argument("--e2e-rate", type=float, default=5.0, help="… at this many a second")
    parser.add_argument(
        "--replicas",
        type=int,
        default=1,
        help="mobilizer processes in one consumer group (the floor gets as many lanes as they all have)",
    )
    arguments = parser.parse_args()
    sys.exit(
        asyncio.run(
            main(
                Options(
                    volunteers=arguments.volunteers,
                    bursts=arguments.bursts,
                    burst_size=arguments.burst_size,
                    gap_s=arguments.gap,
                    budget_s=arguments.budget,
                    seed=arguments.seed,
                    isolated=arguments.isolated,
                    e2e_alerts=arguments.e2e_alerts,
                    e2e_rate=arguments.e2e_rate,
                    replicas=arguments.replicas,
                )
            )
        )
    )
