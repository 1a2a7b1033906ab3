"""How long from `IncidentOpened` to the first wave of offers, with a million volunteers?

The real mobilizer (`jedel run mobilizer`, its own process) against its own Apache Kafka broker and the
`jedel_bench` database seeded with the reference data and `--volunteers` synthetic volunteers
(default 1,000,000; reseeded only when the count differs). Bursts of `IncidentOpened` at
settlements drawn by population, mixed types and priorities (the real playbooks), go to
`incidents.v1`; a watcher reads `mobilization.v1` while they are published and stamps the first
`WaveSent` (wave 1, after its `VolunteerOffered`s) of each incident.

Before the bursts, `--isolated` incidents go one at a time, each after the last one's first wave:
the latency without a queue, next to the same floor.

Floor measured in the same run, after the warm-up and before the bursts (the mobilizer idle), for
the same incident locations: the bare nearest-neighbour query on the same table (`ORDER BY home <->
point LIMIT 50`, asyncpg, warm connection, no parallel workers) plus one broker round trip (publish
a small message, consume it back).
For context (not the aim), the same bursts also go through two bare pipelines (`BarePipeline`): a
bare consumer that runs the floor's query and publishes one message per incident (what the queue
alone costs any matcher on one consumer), and a bare wave that does only what a first wave of the
issue's policy cannot do without: a nearest-holders scan per certificate type the playbook needs
and as many offers published as the playbook's caps allow (any implementation pays at least this).
Apache Kafka answers a waiting fetch as soon as a record arrives, so every consumer here (the
mobilizer's and the bench's own) keeps the default fetch wait.
Aim: IncidentOpened → first wave ≤ 5× the floor at p99, and every incident gets its first wave
within `--budget` seconds (one that does not counts as infinitely late). The latency is also split
where the mobilizer's handler began (`mobilizations.started_at`) and where the outbox relay picked
the WaveSent up (`mobilizer_outbox.published_at`), to show where the time goes.
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
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import IO, Any

import asyncpg
from aiokafka import AIOKafkaConsumer
from faststream.kafka import KafkaBroker
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api.seed import seed_reference, seed_volunteers
from services.mobilizer.dispatch import Matching
from services.mobilizer.main import build_matching
from services.mobilizer.settings import MobilizerSettings
from shared.broker_access import ADMIN
from shared.db import build_engine
from shared.events import topics
from shared.events.base import utc_now
from shared.events.incidents import (
    AlertStatus,
    IncidentOpened,
    IncidentSource,
    IncidentStatus,
    IncidentType,
    LocalizedText,
    Priority,
    SubjectSummary,
)
from shared.kafka import build_broker, ensure_topics, raw_publisher, tail_from_beginning
from shared.outbox import asyncpg_dsn
from shared.reference import Settlement, load_settlements
from shared.settings import DatabaseSettings, KafkaSettings, Settings
from tests.broker import LocalBroker

DATABASE_URL = os.environ.get(
    "JEDEL_BENCH_DATABASE_URL",
    make_url(Settings().database.url).set(database="jedel_bench").render_as_string(False),
)
AIM = 5.0
KNN_LIMIT = 50
ROUND_TRIP_TOPIC = "bench.round_trip.v1"
FLOOR_IN_TOPIC, FLOOR_OUT_TOPIC = "bench.floor_in.v1", "bench.floor_out.v1"
WAVE_IN_TOPIC, WAVE_OUT_TOPIC = "bench.wave_in.v1", "bench.wave_out.v1"
WARMUP_INCIDENTS = 5
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


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


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
    """Reads `mobilization.v1` while incidents are published; stamps each first `WaveSent`."""

    def __init__(self, consumer: AIOKafkaConsumer) -> None:
        self.consumer = consumer
        self.first_wave: dict[str, float] = {}
        self.events = 0

    async def run(self) -> None:
        while True:
            batches = await self.consumer.getmany(timeout_ms=50)
            arrived = time.perf_counter()
            for records in batches.values():
                self.events += len(records)
                for record in records:
                    if dict(record.headers).get("event_type") != b"WaveSent":
                        continue
                    if json.loads(record.value).get("wave") == 1:
                        self.first_wave.setdefault((record.key or b"").decode(), arrived)


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
    mobilizer: subprocess.Popen[bytes],
) -> bool:
    """Until every incident has its first wave (True) or `deadline` (perf_counter) passes."""
    wanted = {p.key for p in published}
    while not wanted <= watcher.first_wave.keys():
        if mobilizer.poll() is not None:
            raise RuntimeError(f"the mobilizer exited with {mobilizer.returncode}")
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
    """The bare work under the same bursts, for context: one consumer that, for each incident it
    reads, does `work` (a query, then N messages to publish) and publishes a last message; stamped
    when that last message is read back.

    - `bare_floor`: the floor's query and one message: what the queue alone costs any matcher on
      one consumer.
    - `bare_wave`: what a first wave of the issue's policy cannot do without, and nothing else:
      the nearest holders of each certificate type the playbook needs (one scan per type off the
      same per-type indexes, as many as matching looks at) and as many offers as the playbook's
      caps allow, published and acknowledged like the relay does. No eligibility, ranking,
      explanations or bookkeeping: any implementation of the policy pays at least this.
    """

    def __init__(
        self,
        work: BareWork,
        connection: Any,
        producer: KafkaBroker,
        inbox: AIOKafkaConsumer,
        outbox: AIOKafkaConsumer,
        topics_in_out: tuple[str, str],
    ) -> None:
        self.work = work
        self.connection = connection
        self.producer = producer
        self.inbox = inbox
        self.outbox = outbox
        self.topic_in, self.topic_out = topics_in_out
        self.arrived: dict[bytes, float] = {}
        self.published: list[int] = []

    @classmethod
    async def open(
        cls,
        work: BareWork,
        kafka: KafkaSettings,
        producer: KafkaBroker,
        topics_in_out: tuple[str, str],
    ) -> BarePipeline:
        connection = await bare_connection()
        inbox = await tail(kafka, (topics_in_out[0],))
        outbox = await tail(kafka, (topics_in_out[1],))
        return cls(work, connection, producer, inbox, outbox, topics_in_out)

    async def serve(self) -> None:
        publish = raw_publisher(self.producer)
        while True:
            for records in (await self.inbox.getmany(timeout_ms=50)).values():
                for record in records:
                    offers = await self.work(self.connection, json.loads(record.value))
                    acknowledgements = [
                        await publish(self.topic_out, record.key, OFFER_SIZED, {})
                        for _ in range(offers)
                    ]
                    await asyncio.gather(*acknowledgements)
                    await self.producer.publish(
                        b"{}", self.topic_out, key=record.key, headers={"last": "1"}
                    )
                    self.published.append(offers)

    async def watch(self) -> None:
        while True:
            batches = await self.outbox.getmany(timeout_ms=50)
            arrived = time.perf_counter()
            for records in batches.values():
                for record in records:
                    if dict(record.headers).get("last") == b"1":
                        self.arrived.setdefault(record.key or b"", arrived)

    async def burst(self, incidents: Sequence[IncidentOpened]) -> list[float]:
        sent = {}
        for incident in incidents:
            key = uuid.uuid4().hex.encode()  # the incidents go to the mobilizer later, as they are
            sent[key] = time.perf_counter()
            await self.producer.publish(incident.model_dump_json().encode(), self.topic_in, key=key)
        deadline = time.perf_counter() + 60
        while time.perf_counter() < deadline:
            if sent.keys() <= self.arrived.keys():
                break
            await asyncio.sleep(0.01)
        return [self.arrived[key] - stamp for key, stamp in sent.items() if key in self.arrived]

    @classmethod
    async def through(
        cls,
        work: BareWork,
        kafka: KafkaSettings,
        producer: KafkaBroker,
        topics_in_out: tuple[str, str],
        bursts: Sequence[Sequence[IncidentOpened]],
    ) -> tuple[list[float], list[int]]:
        """The bursts through a pipeline doing `work`: each incident's latency, and how many
        offers it published for each."""
        pipeline = await cls.open(work, kafka, producer, topics_in_out)
        tasks = [asyncio.create_task(pipeline.serve()), asyncio.create_task(pipeline.watch())]
        try:
            latencies = []
            for incidents in bursts:
                latencies.extend(await pipeline.burst(incidents))
                await asyncio.sleep(0.5)
            return latencies, pipeline.published
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await pipeline.close()

    async def close(self) -> None:
        await self.inbox.stop()
        await self.outbox.stop()
        await self.connection.close()


BareWork = Callable[[Any, dict[str, Any]], Awaitable[int]]
# A VolunteerOffered is about this size on the wire.
OFFER_SIZED = b'{"offer": "' + b"x" * 620 + b'"}'


async def bare_floor(connection: Any, incident: dict[str, Any]) -> int:
    await connection.fetch(KNN, incident["center_lon"], incident["center_lat"])
    return 0


def bare_wave(matching: Matching) -> BareWork:
    playbooks = matching.playbooks

    async def work(connection: Any, incident: dict[str, Any]) -> int:
        playbook = playbooks.for_incident(
            IncidentType(incident["type"]), Priority(incident["priority"])
        )
        per_type = matching.candidates_for(playbook)
        types = sorted(
            {kind for role, _ in playbook.roles for kind in playbooks.roles[role].certifications}
        )
        scans = " UNION ALL ".join(
            f"(SELECT volunteer_id FROM certifications WHERE type = '{kind.value}' "
            f"AND expires_on > CURRENT_DATE - 365 "
            f"ORDER BY home <-> ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography "
            f"LIMIT {per_type})"
            for kind in types
        )
        await connection.fetch(scans, incident["center_lon"], incident["center_lat"])
        return sum(playbook.max_offers_per_role_per_wave for _ in playbook.roles)

    return work


# --- the run ----------------------------------------------------------------------------------


def start_mobilizer(group_id: str, broker: LocalBroker, log: IO[bytes]) -> subprocess.Popen[bytes]:
    """The mobilizer as it runs in production: its own process, configured by the environment."""
    env = {
        **os.environ,
        "JEDEL_DATABASE__URL": DATABASE_URL,
        "JEDEL_KAFKA__BOOTSTRAP_SERVERS": broker.bootstrap,
        "JEDEL_KAFKA__CREDENTIALS_FILE": str(broker.credentials_file),
        "JEDEL_KAFKA__SESSION_TIMEOUT_MS": "6000",
        "JEDEL_KAFKA__HEARTBEAT_INTERVAL_MS": "500",
        "JEDEL_MOBILIZER__GROUP_ID": group_id,
        "JEDEL_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "services.cli", "run", "mobilizer"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )


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


async def main(options: Options) -> int:
    run_began = time.perf_counter()
    engine = build_engine(
        DatabaseSettings(url=DATABASE_URL, statement_timeout_ms=0), application_name="jedel-bench"
    )
    await ensure_population(engine, options.volunteers)
    await truncate_mobilizer(engine)
    rng = random.Random(options.seed)
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
        ),
        principal=ADMIN,
    )
    log = tempfile.NamedTemporaryFile(prefix="jedel-bench-mobilizer-", suffix=".log", delete=False)  # noqa: SIM115
    mobilizer = start_mobilizer(f"jedel-mobilizer-bench-{uuid.uuid4().hex[:8]}", local_broker, log)
    producer = build_broker(kafka, principal=ADMIN)
    watcher_consumer: AIOKafkaConsumer | None = None
    watching: asyncio.Task[None] | None = None
    floor: Floor | None = None
    published: list[Published] = []
    floors: list[tuple[float, float]] = []
    isolated: list[float] = []
    burst_floors: list[float] = []
    bare_waves: list[float] = []
    bare_wave_offers: list[int] = []
    matching = build_matching(MobilizerSettings())
    try:
        await producer.connect()
        watcher_consumer = await tail(kafka, (topics.MOBILIZATION,))
        watcher = Watcher(watcher_consumer)
        watching = asyncio.create_task(watcher.run())
        floor = await Floor.open(kafka, producer)

        # Warm-up: the consumer group forms, pools fill, plans and pages get cached.
        began = time.perf_counter()
        warm = await publish_incidents(producer, warmup)
        await wait_for_waves(watcher, warm, began + WARMUP_TIMEOUT_S, mobilizer)
        done = sum(p.key in watcher.first_wave for p in warm)
        print(
            f"warm-up  {done}/{len(warm)} incidents got their first wave in "
            f"{time.perf_counter() - began:.0f} s",
            flush=True,
        )
        # The floor, for the same locations, with the mobilizer idle: the bare query warms its
        # plan and connection on the warm-up places first.
        for incident in warmup:
            await floor.measure(incident.center_lon, incident.center_lat)
        for incident in (incident for burst in bursts for incident in burst):
            floors.append(await floor.measure(incident.center_lon, incident.center_lat))
        # The same bursts through the bare pipelines (context: the queue's share, and what the
        # wave policy cannot do without).
        burst_floors, _ = await BarePipeline.through(
            bare_floor, kafka, producer, (FLOOR_IN_TOPIC, FLOOR_OUT_TOPIC), bursts
        )
        bare_waves, bare_wave_offers = await BarePipeline.through(
            bare_wave(matching),
            kafka,
            producer,
            (WAVE_IN_TOPIC, WAVE_OUT_TOPIC),
            bursts,
        )

        # One incident at a time, each after the last one's first wave: the latency without a
        # queue, set against the same floor.
        for incident in alone:
            [single] = await publish_incidents(producer, [incident])
            await wait_for_waves(watcher, [single], began + options.budget_s, mobilizer)
            if single.key in watcher.first_wave:
                isolated.append(watcher.first_wave[single.key] - single.stamp)

        deadline = time.perf_counter() + options.budget_s
        for number, incidents in enumerate(bursts, start=1):
            if time.perf_counter() >= deadline:
                print(f"burst {number}  not sent: the {options.budget_s:.0f} s budget ran out")
                continue
            burst = await publish_incidents(producer, incidents)
            published.extend(burst)
            complete = await wait_for_waves(watcher, burst, deadline, mobilizer)
            got = [
                watcher.first_wave[p.key] - p.stamp for p in burst if p.key in watcher.first_wave
            ]
            print(
                f"burst {number}  {len(got)}/{len(burst)} first waves; {summary(got)}",
                flush=True,
            )
            if complete:
                await asyncio.sleep(options.gap_s)
        # Waves still on their way when the budget ran out count as never sent.
        await wait_for_waves(watcher, published, deadline, mobilizer)
    finally:
        if watching is not None:
            watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watching
        if watcher_consumer is not None:
            await watcher_consumer.stop()
        if floor is not None:
            await floor.close()
        await producer.stop()
        stop(mobilizer)
        local_broker.stop()
        log.close()

    facts = await recorded(engine, [p.incident.incident_id for p in published])
    await engine.dispose()
    return report(
        options,
        watcher,
        published,
        floors,
        isolated,
        Bare(burst_floors, bare_waves, bare_wave_offers),
        facts,
        run_began,
        log.name,
    )


@dataclass
class Bare:
    """The bare pipelines' latencies under the same bursts (see BarePipeline)."""

    floor: list[float]
    wave: list[float]
    wave_offers: list[int]


def report(
    options: Options,
    watcher: Watcher,
    published: Sequence[Published],
    floors_split: Sequence[tuple[float, float]],
    isolated: Sequence[float],
    bare: Bare,
    facts: Recorded,
    run_began: float,
    log_name: str,
) -> int:
    latencies: list[float] = []
    inbound: list[float] = []
    handling: list[float] = []
    relaying: list[float] = []
    for p in published:
        if p.key not in watcher.first_wave:
            continue
        latencies.append(watcher.first_wave[p.key] - p.stamp)
        if p.key in facts.started and p.key in facts.relayed:
            # Split where the handler began (the mobilizer's clock) and where the relay's batch
            # holding the WaveSent began (the database's): one machine, one clock.
            arrived = p.wall + latencies[-1]
            inbound.append(facts.started[p.key] - p.wall)
            handling.append(facts.relayed[p.key] - facts.started[p.key])
            relaying.append(arrived - facts.relayed[p.key])
    sent = options.bursts * options.burst_size
    missing = sent - len(latencies)
    floors = [knn + trip for knn, trip in floors_split]
    print(
        f"floor    bare KNN (LIMIT {KNN_LIMIT}) + one broker round trip, {len(floors)} locations: "
        f"{summary(floors)}"
    )
    print(
        f"           the query alone {summary([knn for knn, _ in floors_split])}; "
        f"the round trip alone {summary([trip for _, trip in floors_split])}"
    )
    if isolated:
        print(
            f"alone    IncidentOpened→first WaveSent, {len(isolated)} incidents one at a time "
            f"(no queue): {summary(isolated)}; p99 "
            f"{percentile(isolated, 0.99) / percentile(floors, 0.99):.1f}× the floor"
        )
    if bare.floor:
        print(
            f"floor    the same bursts through a bare consumer (KNN + one publish per incident): "
            f"{summary(bare.floor)}; p99 "
            f"{percentile(bare.floor, 0.99) / percentile(floors, 0.99):.1f}× the floor itself"
        )
    if bare.wave:
        print(
            f"floor    the same bursts through a bare wave (a scan per certificate type, "
            f"median {statistics.median(bare.wave_offers):.0f} offers published): "
            f"{summary(bare.wave)}; p99 "
            f"{percentile(bare.wave, 0.99) / percentile(floors, 0.99):.1f}× the floor itself"
        )
    print(
        f"matching IncidentOpened→first WaveSent, {len(latencies)}/{sent} incidents in "
        f"{options.bursts} bursts of {options.burst_size}: {summary(latencies)}"
    )
    print(f"split    published→handler began (broker in, consumer queue): {summary(inbound)}")
    print(
        "           handler began→relay picked the wave up (matching, explanations, offers, "
        f"commit): {summary(handling)}"
    )
    print(
        f"           relay picked it up→WaveSent seen (relay publishing, broker out): "
        f"{summary(relaying)}"
    )
    offers, explained = list(facts.offers.values()), list(facts.explained.values())
    if offers:
        print(
            f"           first waves: median {statistics.median(offers):.0f} offers (max "
            f"{max(offers):.0f}) and {statistics.median(explained):.0f} explanations; "
            f"{facts.understaffed} flagged understaffed; {watcher.events:,} events on "
            f"{topics.MOBILIZATION}"
        )
    print(f"run      {time.perf_counter() - run_began:.0f} s; mobilizer log {log_name}")
    floor50, floor99 = statistics.median(floors), percentile(floors, 0.99)
    # An incident without a first wave took longer than anything measured: it counts as infinite.
    censored = [*latencies, *[math.inf] * missing]
    p50, p99 = statistics.median(censored), percentile(censored, 0.99)
    print(
        f"ratio    p50 {p50 / floor50:.1f}×, p99 {p99 / floor99:.1f}× the floor "
        f"(aim ≤ {AIM:g}× at p99)"
    )
    if bare.floor and bare.wave:
        print(
            f"           against the bare consumer under the same bursts: p99 "
            f"{p99 / percentile(bare.floor, 0.99):.1f}×; against the bare wave: "
            f"{p99 / percentile(bare.wave, 0.99):.1f}× (context, not the aim)"
        )
    ok = p99 / floor99 <= AIM and missing == 0
    verdict = "OK" if ok else "MISSED AIM"
    if math.isinf(p99):
        print(
            f"matching: IncidentOpened→first wave p99 not reached: {missing} of {sent} incidents "
            f"had no first wave within the {options.budget_s:.0f} s budget (floor "
            f"{ms(floor99)}, {options.volunteers:,} volunteers, aim ≤ {AIM:g}×): {verdict}"
        )
    else:
        lost = f"; {missing} incident(s) never got a first wave" if missing else ""
        print(
            f"matching: IncidentOpened→first wave p99 {ms(p99)} = {p99 / floor99:.1f}× the floor "
            f"({ms(floor99)}) with {options.volunteers:,} volunteers (aim ≤ {AIM:g}×){lost}: "
            f"{verdict}"
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
                )
            )
        )
    )
