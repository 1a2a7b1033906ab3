"""The wire lets no one in: a real third-party client publishes alerts, and the broker's ACLs refuse
everything `shared.broker_access` does not grant (Apache Kafka, SASL/SCRAM, from the tests' broker).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    TopicAuthorizationFailedError,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.intake.main import IntakeService
from shared.broker_access import PRINCIPALS, may_write, service_principal
from shared.events import topics
from shared.kafka import build_broker, client_options
from shared.settings import DatabaseSettings, KafkaSettings
from tests.broker import LocalBroker
from tests.factories import cap, new_run
from tests.kafka_tail import eventually
from tests.running import running_intake

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
KCAT = ROOT / "infra" / "local" / "kcat"


def kcat(broker: LocalBroker, principal: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Debian's kcat, signed in as `principal` (see infra/local/kcat for why the wrapper)."""
    return subprocess.run(
        [str(KCAT), "--as", principal, "-m", "15", *args],
        env={
            **os.environ,
            "JEDEL_BROKER_CREDENTIALS": str(broker.credentials_file),
            "JEDEL_BROKER_BOOTSTRAP": broker.bootstrap,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def as_principal(kafka: KafkaSettings, principal: str, password: str | None = None) -> Any:
    options = client_options(kafka, principal)
    if password is not None:
        options["sasl_plain_password"] = password
    return options


async def try_to_write(kafka: KafkaSettings, topic: str, **options: Any) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka.bootstrap_servers, request_timeout_ms=10_000, **options
    )
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"{}")
    finally:
        await producer.stop()


@pytest.fixture(scope="module")
async def intake(
    database_settings: DatabaseSettings, kafka_settings: KafkaSettings, engine: AsyncEngine
) -> AsyncIterator[IntakeService]:
    async with running_intake(database_settings, kafka_settings, engine) as service:
        yield service


async def test_a_cap_file_published_with_kcat_becomes_an_incident(
    broker: LocalBroker, intake: IntakeService, engine: AsyncEngine, tmp_path: Path
) -> None:
    run = new_run()
    alert = tmp_path / "flood.xml"
    alert.write_bytes(cap("flood_kostanay_12.xml", run=run))

    published = kcat(broker, "emergency-services", "-P", "-t", topics.ALERTS_CAP, str(alert))

    assert published.returncode == 0, published.stderr

    async def incident() -> Any:
        async with engine.connect() as connection:
            return (
                await connection.execute(
                    text(
                        "SELECT i.type, i.region_codes FROM alerts a "
                        "JOIN incidents i ON i.id = a.incident_id WHERE a.identifier = :identifier"
                    ),
                    {"identifier": f"KZ-TZhM-{run}-KST-2026-0402-001"},
                )
            ).first()

    row: Any = await eventually(incident)
    assert row.type == "flood"
    assert row.region_codes[0] == "KZ-39"


def test_kcat_lists_only_the_topics_a_principal_may_touch(broker: LocalBroker) -> None:
    police = kcat(broker, "police", "-L", "-J")
    console = kcat(broker, service_principal("console"), "-L", "-J")

    assert police.returncode == 0, police.stderr
    assert {t["topic"] for t in json.loads(police.stdout)["topics"]} == {
        topics.ALERTS_MISSING_PERSON
    }
    seen = {t["topic"] for t in json.loads(console.stdout)["topics"]}
    assert seen >= set(topics.ALL) - {topics.SIGN_IN_CODES}
    assert topics.SIGN_IN_CODES not in seen, "nobody but the notifier reads sign-in codes"


def test_the_police_cannot_publish_cap(broker: LocalBroker, tmp_path: Path) -> None:
    alert = tmp_path / "flood.xml"
    alert.write_bytes(cap("flood_kostanay_12.xml", run=new_run()))

    refused = kcat(broker, "police", "-P", "-t", topics.ALERTS_CAP, str(alert))

    assert refused.returncode != 0
    assert "authoriz" in refused.stderr.lower()


async def test_an_unknown_principal_is_refused(kafka_settings: KafkaSettings) -> None:
    options = as_principal(kafka_settings, "police")
    options["sasl_plain_username"] = "someone-else"

    with pytest.raises(KafkaConnectionError):
        await try_to_write(kafka_settings, topics.ALERTS_MISSING_PERSON, **options)


async def test_a_known_principal_with_a_wrong_password_is_refused(
    kafka_settings: KafkaSettings,
) -> None:
    with pytest.raises(KafkaConnectionError):
        await try_to_write(
            kafka_settings,
            topics.ALERTS_MISSING_PERSON,
            **as_principal(kafka_settings, "police", password="not-the-password"),
        )


async def test_a_service_cannot_write_another_services_topic(
    kafka_settings: KafkaSettings,
) -> None:
    notifier = as_principal(kafka_settings, service_principal("notifier"))

    with pytest.raises(TopicAuthorizationFailedError):
        await try_to_write(kafka_settings, topics.INCIDENTS, **notifier)


@pytest.mark.parametrize("topic", [topics.RESPONSES, topics.LOCATIONS, topics.MOBILIZATION])
async def test_only_the_granted_principals_may_write_answers_positions_and_offers(
    kafka_settings: KafkaSettings, topic: str
) -> None:
    allowed: set[str] = set()
    for principal in PRINCIPALS:
        try:
            await try_to_write(kafka_settings, topic, **as_principal(kafka_settings, principal))
        except TopicAuthorizationFailedError:
            continue
        allowed.add(principal)

    assert allowed == {principal for principal in PRINCIPALS if may_write(principal, topic)}
    assert allowed  # someone must be able to (the table grants every topic a writer)


async def test_a_service_cannot_join_another_services_consumer_group(
    kafka_settings: KafkaSettings,
) -> None:
    consumer = AIOKafkaConsumer(
        topics.MOBILIZATION,
        bootstrap_servers=kafka_settings.bootstrap_servers,
        group_id=f"jedel-mobilizer-{new_run()}",  # the mobilizer's groups, not the notifier's
        **as_principal(kafka_settings, service_principal("notifier")),
    )
    with pytest.raises(GroupAuthorizationFailedError):
        await consumer.start()
    await consumer.stop()


async def test_a_read_only_principal_starts_its_service_broker(
    kafka_settings: KafkaSettings,
) -> None:
    """The demo's simulated phones write nothing, so the broker grants them no producer id: their
    service must start without asking for one (it used to die with ClusterAuthorizationFailed)."""
    broker = build_broker(kafka_settings, principal=service_principal("simulator"))
    try:
        await broker.start()
        assert await broker.ping(timeout=10)
    finally:
        await broker.stop()
