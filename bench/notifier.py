"""How soon does each volunteer of a wave get their SMS when the gateway is slow?

Runs the real notifier (`jedel run notifier`) on a broker of its own and the bench database, with a
stand-in SMS gateway in this process that answers each request after `--gateway-ms` (300 ms: an
SMS provider's HTTP API on a busy day). Measured per offer: published on `mobilization.v1` → its
SMS request at the gateway (when the volunteer's phone can start ringing).
  alone     — offers one at a time, the next once the last was answered: the floor;
  waves     — waves of `--wave` offers of one incident (25: a first wave's size in
              `bench.matching`) published together, as the mobilizer's relay does;
  one lane  — the same waves through a notifier sending one offer at a time
              (`JEDEL_NOTIFIER__CONCURRENCY=1`; until 2026-12-07 it always did, and an
              offer's in-app entry waited for its SMS too): the baseline of the aim.
Aim (ours: no issue states one): p99 under waves ≤ a quarter of one lane's — a wave's volunteers
texted side by side, not one gateway round trip after another. Also reported: the p99 under waves
against one offer alone, and the notifier's CPU per offer (what still stands between the two).
Exits 1 when the aim is missed; the last line is the headline. Needs the bench database
(`make bench-env`, or JEDEL_BENCH_DATABASE_URL).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO

from redis.asyncio import Redis
from sqlalchemy import text

from bench.support.cpu import cpu_seconds
from bench.support.services import DATABASE_URL, percentile, start_service, wait_ready
from shared.broker_access import ADMIN
from shared.db import build_engine
from shared.events import topics
from shared.kafka import build_broker, ensure_topics, raw_publisher
from shared.outbox import Publish
from shared.settings import DatabaseSettings, KafkaSettings
from tests.broker import LocalBroker, free_port
from tests.factories import an_offer
from tests.sms_gateway import FakeSmsGateway

REDIS_URL = os.environ.get("JEDEL_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
INBOX_PREFIX = "bench:notifier:inbox:"
RATIO_AIM = 0.25  # of one lane's p99
ALONE = 20
SETTLE_S = 0.3  # between two waves: the gateway has answered, the notifier has settled


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def summary(values: Sequence[float]) -> str:
    return f"p50 {ms(percentile(values, 0.5))}, p99 {ms(percentile(values, 0.99))}"


@dataclass
class Phase:
    latencies: list[float] = field(default_factory=list)
    """Each offer's, published → SMS at the gateway."""
    cpu_s: float = 0.0
    """The notifier's CPU meanwhile (waits between waves included: its idle cost, a little)."""

    def cpu_per_offer(self) -> str:
        return f"{self.cpu_s / max(len(self.latencies), 1) * 1000:.1f} ms"


class Waves:
    """Offers published to the notifier, and when each one's SMS reached the gateway."""

    def __init__(self, publish: Publish, gateway: FakeSmsGateway, gateway_s: float) -> None:
        self.publish = publish
        self.gateway = gateway
        self.gateway_s = gateway_s

    async def send(self, size: int, *, timeout_s: float = 120) -> list[float]:
        """One wave of `size` offers of one incident, published together; each one's latency."""
        incident_id = uuid.uuid4()
        offers = [an_offer(incident_id=incident_id) for _ in range(size)]
        for offer in offers:
            self.gateway.slow(offer.contact_phone, self.gateway_s)
        published = time.monotonic()
        acknowledgements = [
            await self.publish(
                topics.MOBILIZATION,
                str(incident_id).encode(),
                offer.model_dump_json().encode(),
                {"event_type": "VolunteerOffered", "event_id": str(offer.event_id)},
            )
            for offer in offers
        ]
        await asyncio.gather(*acknowledgements)
        deadline = published + timeout_s
        while True:
            texted = [self.gateway.requests_to(offer.contact_phone) for offer in offers]
            if all(requests and requests[0].answered_at for requests in texted):
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"a wave of {size} was not texted within {timeout_s:.0f} s")
            await asyncio.sleep(0.02)  # stamped by the gateway: polling only ends the wait
        await asyncio.sleep(SETTLE_S)
        return [requests[0].received_at - published for requests in texted]


async def through_notifier(
    broker: LocalBroker,
    gateway: FakeSmsGateway,
    *,
    concurrency: int | None,
    gateway_s: float,
    log: IO[bytes],
    phases: Sequence[tuple[str, int, int]],
) -> dict[str, Phase]:
    """Start a notifier (its own consumer group, from the end of the topic), run each phase
    (name, waves, offers per wave) through it, stop it; each phase's latencies and CPU."""
    port = free_port()
    env = {
        "JEDEL_REDIS__URL": REDIS_URL,
        "JEDEL_KAFKA__AUTO_OFFSET_RESET": "latest",
        "JEDEL_METRICS_PORT": str(port),
        "JEDEL_NOTIFIER__SMS_GATEWAY_URL": gateway.url,
        "JEDEL_NOTIFIER__SMS_TIMEOUT_S": "5",
        "JEDEL_NOTIFIER__INBOX_KEY_PREFIX": INBOX_PREFIX,
    }
    if concurrency is not None:
        env["JEDEL_NOTIFIER__CONCURRENCY"] = str(concurrency)
    kafka = KafkaSettings(
        bootstrap_servers=broker.bootstrap, credentials_file=broker.credentials_file
    )
    producer = build_broker(kafka, principal=ADMIN)
    await producer.connect()
    notifier = start_service(
        "notifier", f"jedel-notifier-bench-{uuid.uuid4().hex[:8]}", broker, log=log, env=env
    )
    try:
        await wait_ready(f"http://127.0.0.1:{port}/readyz", notifier)
        waves = Waves(raw_publisher(producer), gateway, gateway_s)
        for _ in range(3):  # warm-up: connections, prepared statements
            await waves.send(1)
        measured: dict[str, Phase] = {}
        for name, count, size in phases:
            phase = measured.setdefault(name, Phase())
            for _ in range(count):
                before = cpu_seconds(notifier.pid)
                phase.latencies.extend(await waves.send(size))
                phase.cpu_s += cpu_seconds(notifier.pid) - before
        return measured
    finally:
        notifier.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            notifier.wait(timeout=15)
        if notifier.poll() is None:
            notifier.kill()
        await producer.stop()


async def empty_tables() -> None:
    engine = build_engine(DatabaseSettings(url=DATABASE_URL))
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text("TRUNCATE notification_retries, notification_attempts, notifier_outbox")
            )
    finally:
        await engine.dispose()


async def main(options: argparse.Namespace) -> int:
    await empty_tables()
    redis = Redis.from_url(REDIS_URL)
    gateway = FakeSmsGateway().start()
    broker = LocalBroker(partitions=3).start()
    gateway_s = options.gateway_ms / 1000
    log = tempfile.NamedTemporaryFile(prefix="jedel-bench-notifier-", suffix=".log", delete=False)  # noqa: SIM115
    began = time.monotonic()
    try:
        kafka = KafkaSettings(
            bootstrap_servers=broker.bootstrap, credentials_file=broker.credentials_file
        )
        await ensure_topics(kafka, principal=ADMIN)
        measured = await through_notifier(
            broker,
            gateway,
            concurrency=None,
            gateway_s=gateway_s,
            log=log,
            phases=(("alone", ALONE, 1), ("waves", options.waves, options.wave)),
        )
        one_lane = await through_notifier(
            broker,
            gateway,
            concurrency=1,
            gateway_s=gateway_s,
            log=log,
            phases=(("waves", options.one_lane_waves, options.wave),),
        )
    finally:
        log.close()
        broker.stop()
        gateway.stop()
        async for key in redis.scan_iter(match=f"{INBOX_PREFIX}*"):
            await redis.delete(key)
        await redis.aclose()
    alone, waves, serial = measured["alone"], measured["waves"], one_lane["waves"]
    alone_p99 = percentile(alone.latencies, 0.99)
    waves_p99 = percentile(waves.latencies, 0.99)
    serial_p99 = percentile(serial.latencies, 0.99)
    ratio = waves_p99 / serial_p99
    met = ratio <= RATIO_AIM
    print(f"gateway  answers every SMS after {options.gateway_ms} ms")
    print(
        f"alone    {len(alone.latencies)} offers one at a time: published→SMS at the gateway "
        f"{summary(alone.latencies)}"
    )
    print(
        f"waves    {options.waves} waves of {options.wave} offers: {summary(waves.latencies)}, "
        f"max {ms(max(waves.latencies))}; the notifier's CPU {waves.cpu_per_offer()} an offer"
    )
    print(
        f"one lane the same waves, one offer at a time (as before), {options.one_lane_waves} "
        f"waves: {summary(serial.latencies)}, max {ms(max(serial.latencies))}"
    )
    print(f"ratio    waves p99 {waves_p99 / alone_p99:.1f}× one offer alone (no aim)")
    print(f"run      {time.monotonic() - began:.0f} s; notifier log {log.name}")
    print(
        f"notifier: published→SMS at the gateway p99 {ms(waves_p99)} under waves of "
        f"{options.wave} = {ratio:.2f}× one offer at a time ({ms(serial_p99)}; aim ≤ "
        f"{RATIO_AIM}×), gateway {options.gateway_ms} ms: " + ("met" if met else "MISSED AIM")
    )
    return 0 if met else 1


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--gateway-ms", type=int, default=300)
    parser.add_argument("--wave", type=int, default=25)
    parser.add_argument("--waves", type=int, default=8)
    parser.add_argument("--one-lane-waves", type=int, default=2)
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse())))
