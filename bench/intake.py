"""How fast does the intake turn CAP alerts into announced incidents, even under hostile input?

Three runs through the real intake (broker → parse → PostGIS → outbox → `incidents.v1`):
  clean   — a burst of valid alerts: throughput;
  hostile — the same burst size with every tenth message hostile (XML bombs, bad polygons, …):
            throughput must stay steady (aim: ≥ 0.8× the clean rate) and every valid alert must
            be announced and every hostile one dead-lettered;
  paced   — alerts at a steady rate (default 5/s, 10 % hostile): alert-to-IncidentOpened
            latency p50/p99.
Baseline measured in the same run: bare XSD validation of the same messages, in process.
Needs `make bench-env` (database jedel_bench and the local broker).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.support.cap_stream import cap_alert, hostile_messages
from services.intake.cap import validate_only
from shared.broker_access import ADMIN, PUBLISHERS
from shared.db import build_engine
from shared.events import topics
from shared.events.base import utc_now
from shared.kafka import build_broker, ensure_topics, tail_from_beginning
from shared.rejections import Rejected
from shared.settings import DatabaseSettings, KafkaSettings, Settings
from tests.broker import LocalBroker

DATABASE_URL = os.environ.get(
    "JEDEL_BENCH_DATABASE_URL",
    make_url(Settings().database.url).set(database="jedel_bench").render_as_string(False),
)
STEADY_AIM = 0.8


@dataclass
class Phase:
    name: str
    messages: list[tuple[str | None, bytes]]  # identifier (None for hostile), payload
    pace_per_s: float | None = None


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def build_phase(name: str, count: int, *, hostile_every: int | None, seed: int = 2026) -> Phase:
    """`count` alerts; the same seed gives the same shapes, so phases differ only by hostility."""
    rng = random.Random(seed)
    hostile = hostile_messages()
    now = utc_now()
    messages: list[tuple[str | None, bytes]] = []
    for index in range(count):
        identifier = f"BENCH-{name}-{uuid.uuid4().hex[:12]}"
        valid = cap_alert(identifier, sent=now, rng=rng)
        if hostile_every and index % hostile_every == hostile_every - 1:
            messages.append((None, hostile[index // hostile_every % len(hostile)]))
        else:
            messages.append((identifier, valid))
    return Phase(name, messages)


def baseline(messages: list[tuple[str | None, bytes]]) -> tuple[float, list[float]]:
    durations = []
    started = time.perf_counter()
    for _, payload in messages:
        began = time.perf_counter()
        with contextlib.suppress(Rejected):
            validate_only(payload)
        durations.append(time.perf_counter() - began)
    return len(messages) / (time.perf_counter() - started), durations


class Watcher:
    """Reads `incidents.v1` and the dead letters while the phase publishes, stamping arrivals."""

    def __init__(self, tail: AIOKafkaConsumer) -> None:
        self.tail = tail
        self.announced: dict[bytes, float] = {}
        self.dead: set[tuple[int, int]] = set()

    async def run(self) -> None:
        while True:
            for records in (await self.tail.getmany(timeout_ms=50)).values():
                arrived = time.perf_counter()
                for record in records:
                    headers = dict(record.headers)
                    if record.topic == topics.ALERTS_DEAD_LETTER:
                        self.dead.add(
                            (
                                int(headers["dead_letter.source_partition"]),
                                int(headers["dead_letter.source_offset"]),
                            )
                        )
                    elif headers.get("event_type") == b"IncidentOpened":
                        self.announced.setdefault(record.key or b"", arrived)


async def run_phase(engine: AsyncEngine, settings: KafkaSettings, phase: Phase) -> dict[str, float]:
    tail = await tail_from_beginning(
        settings, (topics.INCIDENTS, topics.ALERTS_DEAD_LETTER), principal=ADMIN
    )
    await drain(tail)  # what earlier phases produced
    watcher = Watcher(tail)
    watching = asyncio.create_task(watcher.run())
    broker = build_broker(settings, principal=PUBLISHERS[topics.ALERTS_CAP])
    await broker.connect()
    published: dict[str, float] = {}
    hostile_offsets: set[tuple[int, int]] = set()
    began = time.perf_counter()
    for identifier, payload in phase.messages:
        stamp = time.perf_counter()
        metadata = await broker.publish(payload, topics.ALERTS_CAP)
        if identifier is None:
            hostile_offsets.add((metadata.partition, metadata.offset))
        else:
            published[identifier] = stamp
        if phase.pace_per_s:
            due = began + (len(published) + len(hostile_offsets)) / phase.pace_per_s
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
    await broker.stop()

    incident_of: dict[str, str] = {}
    deadline = time.perf_counter() + 600
    while time.perf_counter() < deadline:
        incident_of = await incidents_for(engine, list(published))
        seen = sum(1 for incident in incident_of.values() if incident.encode() in watcher.announced)
        if seen == len(published) and hostile_offsets <= watcher.dead:
            break
        await asyncio.sleep(1.0)
    watching.cancel()
    await tail.stop()
    announced = watcher.announced
    latencies = [
        announced[incident_of[identifier].encode()] - stamp
        for identifier, stamp in published.items()
        if identifier in incident_of and incident_of[identifier].encode() in announced
    ]
    finished = max(
        (announced[i.encode()] for i in incident_of.values() if i.encode() in announced),
        default=time.perf_counter(),
    )
    return {
        "rate": len(phase.messages) / (finished - began),
        "p50_ms": 1000 * statistics.median(latencies or [float("nan")]),
        "p99_ms": 1000 * percentile(latencies or [float("nan")], 0.99),
        "lost": len(published) - len(latencies),
        "undead": len(hostile_offsets - watcher.dead),
    }


async def drain(tail: AIOKafkaConsumer) -> None:
    while any((await tail.getmany(timeout_ms=300)).values()):
        pass


async def incidents_for(engine: AsyncEngine, identifiers: list[str]) -> dict[str, str]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT identifier, incident_id::text FROM alerts "
                "WHERE source = 'cap' AND identifier = ANY(:ids)"
            ),
            {"ids": identifiers},
        )
        return {identifier: incident for identifier, incident in rows if incident}


def start_intake(group_id: str, broker: LocalBroker) -> subprocess.Popen[bytes]:
    """The intake as it runs in production: its own process, configured by the environment."""
    env = {
        **os.environ,
        "JEDEL_DATABASE__URL": DATABASE_URL,
        "JEDEL_KAFKA__BOOTSTRAP_SERVERS": broker.bootstrap,
        "JEDEL_KAFKA__CREDENTIALS_FILE": str(broker.credentials_file),
        "JEDEL_KAFKA__SESSION_TIMEOUT_MS": "6000",
        "JEDEL_KAFKA__HEARTBEAT_INTERVAL_MS": "500",
        "JEDEL_INTAKE__GROUP_ID": group_id,
        "JEDEL_LOG_LEVEL": "ERROR",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "services.cli", "run", "intake"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def main(count: int, paced_rate: float) -> int:
    # A broker of its own: no history from earlier runs for a new consumer group to replay.
    local_broker = LocalBroker(partitions=3).start()
    kafka = KafkaSettings(
        bootstrap_servers=local_broker.bootstrap,
        credentials_file=local_broker.credentials_file,
        session_timeout_ms=6000,
        heartbeat_interval_ms=500,
    )
    await ensure_topics(kafka, principal=ADMIN)
    engine = build_engine(DatabaseSettings(url=DATABASE_URL), application_name="jedel-bench")
    async with engine.begin() as connection:
        await connection.execute(
            text("TRUNCATE incident_areas, alerts, incidents, intake_outbox CASCADE")
        )
    clean = build_phase("clean", count, hostile_every=None)
    hostile = build_phase("hostile", count, hostile_every=10)

    xsd_rate, xsd_durations = baseline(hostile.messages)
    intake = start_intake(f"jedel-intake-bench-{uuid.uuid4().hex[:8]}", local_broker)
    try:
        await run_phase(engine, kafka, build_phase("warmup", 50, hostile_every=None))
        clean_result = await run_phase(engine, kafka, clean)
        hostile_result = await run_phase(engine, kafka, hostile)
        paced = build_phase("paced", max(200, count // 5), hostile_every=10)
        paced.pace_per_s = paced_rate
        paced_result = await run_phase(engine, kafka, paced)
    finally:
        intake.terminate()
        intake.wait(timeout=30)
        local_broker.stop()
        await engine.dispose()

    steady = hostile_result["rate"] / clean_result["rate"]
    print(
        f"baseline  bare XSD validation: {xsd_rate:,.0f} msg/s, p50 {1000 * statistics.median(xsd_durations):.2f} ms, p99 {1000 * percentile(xsd_durations, 0.99):.2f} ms per message"
    )
    for name, result in (
        ("clean", clean_result),
        ("hostile", hostile_result),
        ("paced", paced_result),
    ):
        print(
            f"{name:8} {result['rate']:,.0f} msg/s; alert→IncidentOpened p50 {result['p50_ms']:.0f} ms, "
            f"p99 {result['p99_ms']:.0f} ms; lost {result['lost']:.0f}, hostile not dead-lettered {result['undead']:.0f}"
        )
    print(
        f"ratio     intake/bare-XSD throughput: {hostile_result['rate'] / xsd_rate:.3f}; hostile/clean: {steady:.2f} (aim ≥ {STEADY_AIM})"
    )
    lost = sum(r["lost"] + r["undead"] for r in (clean_result, hostile_result, paced_result))
    ok = steady >= STEADY_AIM and lost == 0
    print(
        f"intake: {hostile_result['rate']:,.0f} CAP msg/s with 10% hostile = {steady:.2f}× the clean rate, "
        f"{hostile_result['rate'] / xsd_rate:.3f}× bare XSD; paced p50 {paced_result['p50_ms']:.0f} ms "
        f"p99 {paced_result['p99_ms']:.0f} ms; {'OK' if ok else 'MISSED AIM'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="messages per burst")
    parser.add_argument(
        "--paced-rate",
        type=float,
        default=5.0,
        help="messages/s for the latency run (a spring-flood day sees a few CAP messages a minute)",
    )
    arguments = parser.parse_args()
    sys.exit(asyncio.run(main(arguments.count, arguments.paced_rate)))
