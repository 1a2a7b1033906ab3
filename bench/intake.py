"""How fast does the intake turn CAP alerts into announced incidents, even under hostile input?

Runs through the real intake (broker → parse → PostGIS → outbox → `incidents.v1`), in its own
process as in production (`--replicas` for more in one consumer group):
  clean   — a burst of valid alerts: throughput;
  hostile — the same burst size with every tenth message hostile (XML bombs, bad polygons, …):
            throughput must stay steady (aim: ≥ 0.8× the clean rate);
  paced   — alerts offered at a steady 1, 10, 100 and 1,000 a second (10 % hostile): the
            throughput achieved and alert-to-IncidentOpened latency p50/p99 at each rate; aim:
            1,000/s sustained (achieved ≥ 95 % of it) with p99 under 1 s.
In every run every valid alert must be announced and every hostile one dead-lettered.
Throughput is how fast the outcomes came out: settled messages over the time from the first
outcome to the last. Baseline measured in the same run: bare XSD validation of the same
messages, in process. Exits 1 when an aim is missed; the last line is the headline.
Needs the database (`make bench-env`, or JEDEL_BENCH_DATABASE_URL); it starts its own broker.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import sys
import time
import uuid
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import RecordMetadata
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.support.cap_stream import cap_alert, hostile_messages
from bench.support.cpu import CpuMeter, pids_named
from bench.support.services import DATABASE_URL, incidents_of, percentile, start_service
from services.intake.cap import validate_only
from shared.broker_access import ADMIN, PUBLISHERS
from shared.db import build_engine
from shared.events import topics
from shared.events.base import utc_now
from shared.kafka import client_options, ensure_topics, tail_from_beginning
from shared.rejections import Rejected
from shared.settings import DatabaseSettings, KafkaSettings
from tests.broker import LocalBroker

STEADY_AIM = 0.8
SUSTAINED_RATE = 1000.0  # alerts/s offered that the intake must keep up with…
SUSTAINED_SHARE = 0.95  # …coming out at least this share of that rate…
SUSTAINED_P99_MS = 1000.0  # …with alert→IncidentOpened p99 under this
PACE_TICK_S = 0.002
PACED_SECONDS = {1.0: 20.0, 10.0: 10.0, 100.0: 10.0, 1000.0: 10.0}


@dataclass
class Phase:
    name: str
    messages: list[tuple[str | None, bytes]]  # identifier (None for hostile), payload
    pace_per_s: float | None = None


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
        self.dead: dict[tuple[int, int], float] = {}

    async def run(self) -> None:
        while True:
            for records in (await self.tail.getmany(timeout_ms=50)).values():
                arrived = time.perf_counter()
                for record in records:
                    headers = dict(record.headers)
                    if record.topic == topics.ALERTS_DEAD_LETTER:
                        where = (
                            int(headers["dead_letter.source_partition"]),
                            int(headers["dead_letter.source_offset"]),
                        )
                        self.dead.setdefault(where, arrived)
                    elif headers.get("event_type") == b"IncidentOpened":
                        self.announced.setdefault(record.key or b"", arrived)


async def run_phase(
    engine: AsyncEngine, settings: KafkaSettings, phase: Phase, meter: CpuMeter | None = None
) -> dict[str, float]:
    tail = await tail_from_beginning(
        settings, (topics.INCIDENTS, topics.ALERTS_DEAD_LETTER), principal=ADMIN
    )
    await drain(tail)  # what earlier phases produced
    watcher = Watcher(tail)
    watching = asyncio.create_task(watcher.run())
    principal = PUBLISHERS[topics.ALERTS_CAP]
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.servers,
        client_id=principal,
        enable_idempotence=True,
        acks="all",
        # A sender's producer batching for 5 ms, as Kafka 4's own producers do by default: with
        # none, a paced 1,000/s is a thousand produce requests a second, and the broker alone then
        # spends a whole core of this machine on them (0.45 core at 5 ms; measured).
        linger_ms=5,
        max_request_size=settings.max_request_size,
        **client_options(settings, principal),
    )
    await producer.start()
    await producer.partitions_for(topics.ALERTS_CAP)  # connected before the first stamp
    published: dict[str, float] = {}
    hostile: list[tuple[float, asyncio.Future[RecordMetadata]]] = []
    sends: list[asyncio.Future[RecordMetadata]] = []
    cpu_before = meter.read() if meter else {}
    began = time.perf_counter()
    for index, (identifier, payload) in enumerate(phase.messages):
        if phase.pace_per_s:  # each message at its time, however late the ones before it were
            due = began + index / phase.pace_per_s
            if due > time.perf_counter():
                # Waking at most every PACE_TICK_S and sending what has come due since: a
                # wake-up per message cost the bench as much CPU as the database spent (the
                # producer batches for 5 ms anyway); each message is stamped when it is sent.
                await asyncio.sleep(max(due - time.perf_counter(), PACE_TICK_S))
        stamp = time.perf_counter()
        # Handed to the producer without waiting for the broker's answer: the producer batches,
        # so the offered rate is not capped by one round trip per message.
        sent = await producer.send(topics.ALERTS_CAP, payload)
        sends.append(sent)
        if identifier is None:
            hostile.append((stamp, sent))
        else:
            published[identifier] = stamp
    offered_s = time.perf_counter() - began
    await asyncio.gather(*sends)
    await producer.stop()
    hostile_at = {
        (metadata.partition, metadata.offset): stamp
        for stamp, metadata in ((stamp, sent.result()) for stamp, sent in hostile)
    }

    # Done when every alert's incident is announced and every hostile one dead-lettered. The
    # broker says when as many incidents as alerts were announced; only then does the database say
    # which alert became which (asking it for all of them every half second cost PostgreSQL
    # ~170 ms of CPU per ask at 10,000 alerts: a third of a core taken from the intake it measures).
    incident_of: dict[str, str] = {}
    cpu: dict[str, float] = {}
    deadline = time.perf_counter() + 600
    while time.perf_counter() < deadline:
        if len(watcher.announced) >= len(published) and hostile_at.keys() <= watcher.dead.keys():
            if not cpu and meter:
                cpu = CpuMeter.spent(cpu_before, meter.read())
            missing = [identifier for identifier in published if identifier not in incident_of]
            incident_of.update(await incidents_of(engine, missing))
            seen = sum(1 for i in incident_of.values() if i.encode() in watcher.announced)
            if seen == len(published):
                break
        await asyncio.sleep(0.1)
    else:  # out of time: what did come out, to count the rest as lost
        if not cpu and meter:
            cpu = CpuMeter.spent(cpu_before, meter.read())
        missing = [identifier for identifier in published if identifier not in incident_of]
        incident_of.update(await incidents_of(engine, missing))
    watching.cancel()
    await tail.stop()
    announced = watcher.announced
    latencies = [
        announced[incident_of[identifier].encode()] - stamp
        for identifier, stamp in published.items()
        if identifier in incident_of and incident_of[identifier].encode() in announced
    ]
    outcomes = sorted(
        [announced[i.encode()] for i in incident_of.values() if i.encode() in announced]
        + [watcher.dead[where] for where in hostile_at if where in watcher.dead]
    )
    span = outcomes[-1] - outcomes[0] if len(outcomes) > 1 else float("nan")
    return {
        "offered": len(phase.messages) / offered_s if phase.pace_per_s else float("nan"),
        "rate": (len(outcomes) - 1) / span if span > 0 else float("nan"),
        "p50_ms": 1000 * statistics.median(latencies or [float("nan")]),
        "p99_ms": 1000 * percentile(latencies or [float("nan")], 0.99),
        "lost": len(published) - len(latencies),
        "undead": len(hostile_at.keys() - watcher.dead.keys()),
        **{f"cpu_ms:{name}": 1000 * seconds / len(phase.messages) for name, seconds in cpu.items()},
    }


async def drain(tail: AIOKafkaConsumer) -> None:
    while any((await tail.getmany(timeout_ms=300)).values()):
        pass


async def main(count: int, rates: list[float], replicas: int) -> int:
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
    group_id = f"jedel-intake-bench-{uuid.uuid4().hex[:8]}"
    intakes = [
        start_service("intake", group_id, local_broker, log_level="ERROR") for _ in range(replicas)
    ]
    meter = CpuMeter(
        {
            "intake": lambda: [intake.pid for intake in intakes],
            "broker": lambda: [local_broker.pid] if local_broker.pid else [],
            "database": lambda: pids_named("postgres"),
            "bench": lambda: [os.getpid()],
        }
    )
    paced_results: dict[float, dict[str, float]] = {}
    try:
        await run_phase(engine, kafka, build_phase("warmup", 50, hostile_every=None))
        clean_result = await run_phase(engine, kafka, clean, meter)
        hostile_result = await run_phase(engine, kafka, hostile, meter)
        for rate in rates:
            seconds = PACED_SECONDS.get(rate, 10.0)
            paced = build_phase(f"paced{rate:g}", max(10, int(rate * seconds)), hostile_every=10)
            paced.pace_per_s = rate
            paced_results[rate] = await run_phase(engine, kafka, paced, meter)
    finally:
        for intake in intakes:
            intake.terminate()
        for intake in intakes:
            intake.wait(timeout=30)
        local_broker.stop()
        await engine.dispose()

    steady = hostile_result["rate"] / clean_result["rate"]
    print(
        f"baseline  bare XSD validation: {xsd_rate:,.0f} msg/s, p50 {1000 * statistics.median(xsd_durations):.2f} ms, p99 {1000 * percentile(xsd_durations, 0.99):.2f} ms per message"
    )
    runs = [("clean", clean_result), ("hostile", hostile_result)]
    runs += [(f"{rate:g}/s", result) for rate, result in paced_results.items()]
    for name, result in runs:
        offered = (
            ""
            if result["offered"] != result["offered"]
            else f"offered {result['offered']:,.0f}/s, "
        )
        print(
            f"{name:8} {offered}achieved {result['rate']:,.0f} msg/s; alert→IncidentOpened p50 {result['p50_ms']:.0f} ms, "
            f"p99 {result['p99_ms']:.0f} ms; lost {result['lost']:.0f}, hostile not dead-lettered {result['undead']:.0f}"
        )
        spent = {k.split(":", 1)[1]: v for k, v in result.items() if k.startswith("cpu_ms:")}
        print(
            f"{'':8} CPU per alert: "
            + ", ".join(f"{name} {ms:.2f} ms" for name, ms in spent.items())
            + f" = {sum(spent.values()):.2f} ms (this machine has {os.cpu_count()} cores: "
            f"{1000 * (os.cpu_count() or 1) / max(sum(spent.values()), 1e-9):,.0f} alerts/s at most)"
        )
    print(
        f"ratio     intake/bare-XSD throughput: {hostile_result['rate'] / xsd_rate:.3f}; hostile/clean: {steady:.2f} (aim ≥ {STEADY_AIM})"
    )
    lost = sum(result["lost"] + result["undead"] for _, result in runs)
    sustained = paced_results.get(SUSTAINED_RATE)
    kept_up = sustained is not None and (
        sustained["offered"] >= SUSTAINED_SHARE * SUSTAINED_RATE
        and sustained["rate"] >= SUSTAINED_SHARE * SUSTAINED_RATE
        and sustained["p99_ms"] < SUSTAINED_P99_MS
    )
    ok = steady >= STEADY_AIM and lost == 0 and kept_up
    at_rate = (
        f"at {SUSTAINED_RATE:,.0f}/s offered {sustained['rate']:,.0f} alerts/s came out, "
        f"p50 {sustained['p50_ms']:.0f} ms p99 {sustained['p99_ms']:.0f} ms (aim ≥ {SUSTAINED_SHARE * SUSTAINED_RATE:,.0f}/s, p99 < {SUSTAINED_P99_MS:,.0f} ms)"
        if sustained is not None
        else f"{SUSTAINED_RATE:,.0f}/s not offered"
    )
    print(
        f"intake ({replicas} process{'es' if replicas > 1 else ''}): {at_rate}; bursts {clean_result['rate']:,.0f} clean, {hostile_result['rate']:,.0f} with 10% hostile "
        f"= {steady:.2f}× (aim ≥ {STEADY_AIM}); lost {lost:.0f}; {'OK' if ok else 'MISSED AIM'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="messages per burst")
    parser.add_argument(
        "--rates",
        type=float,
        nargs="+",
        default=list(PACED_SECONDS),
        help="alerts/s offered in the paced runs (a spring-flood day sees a few a minute; "
        "the aim is checked at 1,000/s)",
    )
    parser.add_argument(
        "--replicas",
        type=int,
        default=1,
        help="intake processes in one consumer group (at most one per partition: 3; on 2 cores "
        "one is faster: two cost 1.8 ms of the machine's CPU an alert at 1,000/s, one 1.2 ms)",
    )
    arguments = parser.parse_args()
    sys.exit(asyncio.run(main(arguments.count, arguments.rates, arguments.replicas)))
