"""`make faults`: 1,000 incidents through Jedel while its parts are killed, and an audit of what
survived.

What it does, on this machine only (loopback):
- a three-node Apache Kafka cluster (replication 3, min.insync.replicas 2, SASL/SCRAM, ACLs), a
  database of its own (`jedel_faults`, 50,000 synthetic volunteers), Redis db 14;
- the intake, mobilizer, registry and simulated volunteers as processes, as `jedel run` runs them;
- 250 sample runs published with Debian's kcat as the emergency services and the police: 750 CAP
  alerts and 250 missing-person reports (1,000 incidents) and 250 malformed messages, in five
  batches, a tenth of every batch published twice; during the batches it kills a Kafka broker with
  SIGKILL and starts it again, kills the intake and then the mobilizer with SIGKILL mid-batch and
  starts them again, restarts PostgreSQL and restarts Redis;
- then withdraws every alert (CAP Cancel, police `withdrawn`), also with duplicates.

The audit, from the database and the topics:
- lost: an alert that became neither an incident nor a dead letter; an incident never mobilised or
  never ended; an event on a topic the registry reads that it neither recorded nor dead-lettered;
- doubled: an alert that became two incidents; a volunteer with two commitments at once;
- stuck: an offer still pending, a group not closed, an outbox row never published.
It prints the faults injected and those figures, and exits 1 unless lost, doubled and stuck are 0.
Bounded: every wait has a deadline (the whole run takes ~10 minutes here).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import make_url

from services.cli.samples import Sample, build_samples
from shared.broker_access import ADMIN
from shared.events import topics
from shared.kafka import tail_from_beginning
from shared.outbox import asyncpg_dsn
from shared.settings import KafkaSettings, Settings
from tests.faults.cluster import Cluster

ROOT = Path(__file__).resolve().parents[2]
RUN_DIR = ROOT / ".run" / "faults"
KCAT = ROOT / "infra" / "local" / "kcat"
DATABASE = "jedel_faults"
REDIS_URL = "redis://127.0.0.1:6379/14"
RUNS = 250
BATCHES = 5
VOLUNTEERS = 20_000
# Each wave looks at the nearest 10 per role (the service's default is 100): about a tenth of the
# offers, so 1,000 incidents and their stand-downs fit the time box on two cores. The guarantees
# audited here do not depend on how many are asked.
CANDIDATES_PER_ROLE = 10
SERVICES = ("intake", "mobilizer", "registry", "simulator")
# Topics the registry reads: every event on them must be recorded once (or dead-lettered).
REGISTRY_TOPICS = (topics.INCIDENTS, topics.MOBILIZATION, topics.RESPONSES)
DEADLINE_S = 15 * 60
SETTLE_TIMEOUT_S = 6 * 60


def database_url() -> str:
    url = make_url(Settings().database.url).set(database=DATABASE)
    return url.render_as_string(hide_password=False)


def asyncpg_url() -> str:
    return asyncpg_dsn(database_url())


@dataclass
class Figures:
    faults: list[str] = field(default_factory=list)
    messages: int = 0
    lost: Counter[str] = field(default_factory=Counter)
    doubled: Counter[str] = field(default_factory=Counter)
    stuck: Counter[str] = field(default_factory=Counter)

    def fault(self, what: str) -> None:
        self.faults.append(what)
        print(f"  fault: {what}", flush=True)


class Services:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "JEDEL_DATABASE__URL": database_url(),
            "JEDEL_KAFKA__BOOTSTRAP_SERVERS": self.cluster.bootstrap,
            "JEDEL_KAFKA__CREDENTIALS_FILE": str(self.cluster.credentials_file),
            "JEDEL_KAFKA__SESSION_TIMEOUT_MS": "6000",
            "JEDEL_KAFKA__HEARTBEAT_INTERVAL_MS": "1000",
            "JEDEL_REDIS__URL": REDIS_URL,
            "JEDEL_LOG_LEVEL": "WARNING",
            "JEDEL_MOBILIZER__CANDIDATES_PER_ROLE": str(CANDIDATES_PER_ROLE),
        }

    def start(self, name: str) -> None:
        log = (RUN_DIR / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "run", name],
            env=self.env(),
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def kill(self, name: str) -> None:
        process = self.processes[name]
        process.kill()
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def kcat_publish(
    cluster: Cluster, principal: str, topic: str, messages: Iterable[tuple[bytes, bytes]]
) -> subprocess.Popen[bytes]:
    """Debian's kcat producing `messages` (key, value), one process for the lot; acks from all
    in-sync replicas, retried by librdkafka while a broker is away."""
    process = subprocess.Popen(
        [
            str(KCAT),
            "--as",
            principal,
            "-P",
            "-t",
            topic,
            "-K",
            "\\x1f",
            "-D",
            "\\x1e",
            "-X",
            "acks=all",
            "-X",
            "message.timeout.ms=120000",
        ],
        env={
            **os.environ,
            "JEDEL_BROKER_CREDENTIALS": str(cluster.credentials_file),
            "JEDEL_BROKER_BOOTSTRAP": cluster.bootstrap,
        },
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=(RUN_DIR / "kcat.log").open("ab"),
    )
    assert process.stdin is not None
    for key, value in messages:
        assert b"\x1e" not in value and b"\x1f" not in value
        process.stdin.write(key + b"\x1f" + value + b"\x1e")
    process.stdin.close()
    return process


def wait_for(processes: list[subprocess.Popen[bytes]], what: str) -> None:
    for process in processes:
        if process.wait(timeout=300) != 0:
            raise RuntimeError(f"{what}: kcat exited with {process.returncode} (see kcat.log)")


def withdrawal(sample: Sample, now: datetime) -> bytes:
    cancel = sample.cancel(now)
    if cancel is not None:
        return cancel
    report = json.loads(sample.payload)
    report["reported_at"] = now.isoformat(timespec="seconds")
    report["outcome"] = "withdrawn"
    return json.dumps(report, ensure_ascii=False).encode()


def publish_batch(
    cluster: Cluster, samples: list[Sample], payload: Callable[[Sample], bytes]
) -> tuple[list[subprocess.Popen[bytes]], int]:
    """Every sample once and every tenth twice, each topic as its own outside producer; returns
    the kcat processes and how many messages they send."""
    twice = samples + samples[::10]
    by_topic: dict[str, list[tuple[bytes, bytes]]] = {}
    for sample in twice:
        by_topic.setdefault(sample.topic, []).append((sample.identifier.encode(), payload(sample)))
    principals = {topics.ALERTS_CAP: "emergency-services", topics.ALERTS_MISSING_PERSON: "police"}
    processes = [
        kcat_publish(cluster, principals[topic], topic, messages)
        for topic, messages in by_topic.items()
    ]
    return processes, len(twice)


async def scalar(sql: str, *args: Any) -> Any:
    connection = await asyncpg.connect(asyncpg_url())
    try:
        return await connection.fetchval(sql, *args)
    finally:
        await connection.close()


async def eventually(check: Callable[[], Any], timeout_s: float, what: str) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if await check():
                return True
        except (OSError, asyncpg.PostgresError):
            pass  # the database is restarting
        await asyncio.sleep(1.0)
    print(f"  gave up waiting: {what}", flush=True)
    return False


def restart_postgres() -> None:
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", "15", "main", "restart"],
        check=True,
        capture_output=True,
    )


def restart_redis() -> None:
    subprocess.run(["redis-cli", "shutdown", "nosave"], capture_output=True, check=False)
    subprocess.run(
        [
            "redis-server",
            "--daemonize",
            "yes",
            "--bind",
            "127.0.0.1",
            "--port",
            "6379",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(ROOT / ".run"),
            "--logfile",
            str(ROOT / ".run" / "redis.log"),
        ],
        check=True,
    )


def prepare_database() -> None:
    env = {**os.environ, "JEDEL_DATABASE__URL": database_url()}
    jedel = [sys.executable, "-m", "services.cli"]
    subprocess.run([*jedel, "migrate"], env=env, check=True, capture_output=True)
    subprocess.run([*jedel, "seed", "reference"], env=env, check=True, capture_output=True)
    subprocess.run(
        [*jedel, "seed", "volunteers", "--count", str(VOLUNTEERS)],
        env=env,
        check=True,
        capture_output=True,
    )


async def read_topics(cluster: Cluster, names: Iterable[str]) -> list[Any]:
    """Every record on `names`, from the first offset to the end as it is now."""
    settings = KafkaSettings(
        bootstrap_servers=cluster.bootstrap, credentials_file=cluster.credentials_file
    )
    consumer = await tail_from_beginning(settings, names, principal=ADMIN)
    try:
        ends = await consumer.end_offsets(list(consumer.assignment()))
        records: list[Any] = []

        async def behind() -> bool:
            for partition, end in ends.items():
                if await consumer.position(partition) < end:
                    return True
            return False

        while await behind():
            for batch in (await consumer.getmany(timeout_ms=1000, max_records=5000)).values():
                records.extend(batch)
        return records
    finally:
        await consumer.stop()


async def audit(cluster: Cluster, samples: list[Sample], figures: Figures) -> None:
    connection = await asyncpg.connect(asyncpg_url())
    try:
        identifiers = [s.identifier for s in samples if not s.expect_dead_letter]
        rows = await connection.fetch(
            "SELECT identifier, count(DISTINCT incident_id) AS incidents FROM alerts "
            "WHERE identifier = ANY($1::text[]) GROUP BY identifier",
            identifiers,
        )
        found = {row["identifier"]: row["incidents"] for row in rows}
        figures.lost["alert without an incident"] = sum(1 for i in identifiers if i not in found)
        figures.doubled["alert with two incidents"] = sum(1 for n in found.values() if n > 1)
        figures.lost["incident never mobilised"] = await connection.fetchval(
            "SELECT count(*) FROM incidents i WHERE NOT EXISTS "
            "(SELECT 1 FROM mobilizations m WHERE m.incident_id = i.id)"
        )
        figures.lost["incident not ended by its withdrawal"] = await connection.fetchval(
            "SELECT count(*) FROM incidents WHERE status NOT IN ('cancelled', 'resolved')"
        )
        figures.doubled["volunteer committed twice at once"] = await connection.fetchval(
            "SELECT count(*) FROM commitments a JOIN commitments b "
            "ON a.volunteer_id = b.volunteer_id AND a.id < b.id "
            "AND a.committed_at < coalesce(b.released_at, 'infinity') "
            "AND b.committed_at < coalesce(a.released_at, 'infinity')"
        )
        figures.stuck["offer still pending"] = await connection.fetchval(
            "SELECT count(*) FROM offers WHERE status = 'pending'"
        )
        figures.stuck["group not closed"] = await connection.fetchval(
            "SELECT count(*) FROM mobilizations WHERE status <> 'closed'"
        )
        for table in ("intake_outbox", "mobilizer_outbox"):
            figures.stuck[f"{table} row unpublished"] = await connection.fetchval(
                f"SELECT count(*) FROM {table} WHERE published_at IS NULL"
            )
        recorded = Counter(
            row["event_id"] for row in await connection.fetch("SELECT event_id FROM activity_log")
        )
        figures.doubled["registry step recorded twice"] = sum(1 for n in recorded.values() if n > 1)
    finally:
        await connection.close()

    malformed = {s.identifier.split("-")[-2] for s in samples if s.expect_dead_letter}
    dead = await read_topics(cluster, (topics.ALERTS_DEAD_LETTER, topics.EVENTS_DEAD_LETTER))
    dead_alerts = {
        run
        for record in dead
        if record.topic == topics.ALERTS_DEAD_LETTER
        for run in malformed
        if run.encode() in (record.value or b"")
    }
    figures.lost["malformed alert not dead-lettered"] = len(malformed - dead_alerts)
    dead_event_ids = {
        _event_id_of(record.value) for record in dead if record.topic == topics.EVENTS_DEAD_LETTER
    }
    events = await read_topics(cluster, REGISTRY_TOPICS)
    event_ids = {dict(record.headers).get("event_id", b"").decode() for record in events}
    event_ids.discard("")
    figures.messages += len(events)
    unrecorded = event_ids - {str(event_id) for event_id in recorded} - dead_event_ids
    figures.lost["event neither recorded nor dead-lettered"] = len(unrecorded)


def _event_id_of(value: bytes | None) -> str:
    try:
        return str(json.loads(value or b"{}").get("event_id", ""))
    except (ValueError, AttributeError):
        return ""


async def run() -> int:
    began = time.monotonic()
    shutil.rmtree(RUN_DIR, ignore_errors=True)
    RUN_DIR.mkdir(parents=True)
    figures = Figures()
    print("fault suite: a three-node Apache Kafka cluster, 1,000 incidents, faults", flush=True)
    cluster = Cluster(RUN_DIR)
    services = Services(cluster)
    now = datetime.now(UTC)
    samples = [s for n in range(RUNS) for s in build_samples(now, f"F{n:04d}{os.getpid()}")]
    per_batch = len(samples) // BATCHES
    batches = [samples[i : i + per_batch] for i in range(0, len(samples), per_batch)]
    try:
        started = time.monotonic()
        cluster.start()
        print(f"  cluster of 3 up in {time.monotonic() - started:.1f} s ({cluster.bootstrap})")
        prepare_database()
        print(f"  database {DATABASE}: migrated, {VOLUNTEERS:,} volunteers seeded", flush=True)
        for name in SERVICES:
            services.start(name)
        faults: list[tuple[str, Callable[[], None], Callable[[], None]]] = [
            (
                f"SIGKILL Kafka broker {cluster.nodes[1].node_id}, started again",
                lambda: cluster.kill(cluster.nodes[1]),
                lambda: cluster.restart(cluster.nodes[1]),
            ),
            (
                "SIGKILL the intake mid-batch, started again",
                lambda: services.kill("intake"),
                lambda: services.start("intake"),
            ),
            (
                "SIGKILL the mobilizer mid-batch, started again",
                lambda: services.kill("mobilizer"),
                lambda: services.start("mobilizer"),
            ),
            ("PostgreSQL restarted", restart_postgres, lambda: None),
            ("Redis restarted", restart_redis, lambda: None),
        ]
        for batch, (label, inject, recover) in zip(batches, faults, strict=True):
            publishing, sent = publish_batch(cluster, batch, lambda s: s.payload)
            figures.messages += sent
            await asyncio.sleep(1.5)  # mid-batch
            inject()
            figures.fault(label)
            await asyncio.sleep(3.0)
            recover()
            wait_for(publishing, "publishing")
        print(f"  published {figures.messages:,} alert messages", flush=True)
        expected = len([s for s in samples if not s.expect_dead_letter])

        async def all_incidents() -> bool:
            return int(await scalar("SELECT count(*) FROM incidents")) >= expected

        await eventually(all_incidents, SETTLE_TIMEOUT_S, "every alert became an incident")
        withdrawals = [s for s in samples if not s.expect_dead_letter]
        stamp = datetime.now(UTC) + timedelta(seconds=1)
        publishing, sent = publish_batch(cluster, withdrawals, lambda s: withdrawal(s, stamp))
        figures.messages += sent
        wait_for(publishing, "withdrawing")
        print(f"  withdrew {len(withdrawals):,} alerts", flush=True)

        async def settled() -> bool:
            open_groups = await scalar(
                "SELECT count(*) FROM mobilizations WHERE status <> 'closed'"
            )
            pending = await scalar(
                "SELECT (SELECT count(*) FROM offers WHERE status = 'pending') + "
                "(SELECT count(*) FROM intake_outbox WHERE published_at IS NULL) + "
                "(SELECT count(*) FROM mobilizer_outbox WHERE published_at IS NULL)"
            )
            return bool(open_groups == 0 and pending == 0)

        await eventually(settled, SETTLE_TIMEOUT_S, "every group closed, nothing pending")
        # The registry is last in line: wait until its log stops growing.
        previous = -1
        for _ in range(60):
            count = int(await scalar("SELECT count(*) FROM activity_log"))
            if count == previous:
                break
            previous = count
            await asyncio.sleep(5)
        await audit(cluster, samples, figures)
    finally:
        services.stop_all()
        cluster.stop()

    print()
    print(f"faults injected: {len(figures.faults)}")
    for fault in figures.faults:
        print(f"  - {fault}")
    print(f"messages: {figures.messages:,} (alerts published with kcat, and events on the topics)")
    for title, counter in (
        ("lost", figures.lost),
        ("doubled", figures.doubled),
        ("stuck", figures.stuck),
    ):
        print(f"{title}: {sum(counter.values())}")
        for what, n in counter.items():
            print(f"  {what}: {n}")
    total = sum(figures.lost.values()) + sum(figures.doubled.values()) + sum(figures.stuck.values())
    elapsed = time.monotonic() - began
    verdict = "OK" if total == 0 else "FAILED"
    print(
        f"fault suite {verdict} in {elapsed:.0f} s: lost {sum(figures.lost.values())}, "
        f"doubled {sum(figures.doubled.values())}, stuck {sum(figures.stuck.values())}"
    )
    return 0 if total == 0 and elapsed < DEADLINE_S else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(run()))
