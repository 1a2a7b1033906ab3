"""The intake takes what a fetch returns as one batch, for real (broker and PostGIS): a bad message
in the middle costs the others nothing, a storm is announced once per alert, order holds, and a
restart in the middle of a storm neither loses nor doubles anything."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiokafka.structs import RecordMetadata
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.intake.main import IntakeService
from services.intake.settings import IntakeOptions, IntakeSettings
from shared.broker_access import ADMIN
from shared.events import topics
from shared.kafka import build_broker
from shared.settings import DatabaseSettings, KafkaSettings
from tests.factories import HOSTILE, FakeClock, cap, new_run
from tests.kafka_tail import Record, Tail, dead_letter_of, eventually
from tests.running import running_intake

pytestmark = pytest.mark.integration

# The fixtures are dated across 2026 while the clock stands at one morning in April.
A_YEAR_OF_SKEW = {"max_future_skew_s": 365 * 24 * 3600}
FIRE = "KZ-TZhM-{run}-AKT-2026-0718-014"
FLOOD = "KZ-TZhM-{run}-KST-2026-0402-001"


@pytest.fixture
async def tail(kafka_settings: KafkaSettings) -> AsyncIterator[Tail]:
    opened = await Tail.open(kafka_settings, (topics.INCIDENTS, topics.ALERTS_DEAD_LETTER))
    yield opened
    await opened.close()


async def publish_all(
    settings: KafkaSettings, messages: list[bytes], *, key: bytes | None = None
) -> list[tuple[int, int]]:
    """Hand every message to the producer at once (as a storm arrives), then wait for the
    broker; (partition, offset) of each."""
    broker = build_broker(settings, principal=ADMIN)
    await broker.connect()
    try:
        sends = [
            await broker.publish(message, topics.ALERTS_CAP, key=key, no_confirm=True)
            for message in messages
        ]
        written: list[RecordMetadata] = await asyncio.gather(*sends)
    finally:
        await broker.stop()
    return [(metadata.partition, metadata.offset) for metadata in written]


async def incidents_of(engine: AsyncEngine, identifiers: list[str]) -> dict[str, dict[str, Any]]:
    """identifier → its incident, for the alerts that became one."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT a.identifier, i.id, i.status, i.version FROM alerts a "
                "JOIN incidents i ON i.id = a.incident_id WHERE a.identifier = ANY(:ids)"
            ),
            {"ids": identifiers},
        )
        return {row.identifier: row._asdict() for row in rows}


async def alert_copies(engine: AsyncEngine, identifiers: list[str]) -> dict[str, int]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT identifier, count(*) AS copies FROM alerts "
                "WHERE identifier = ANY(:ids) GROUP BY identifier"
            ),
            {"ids": identifiers},
        )
        return {str(identifier): int(copies) for identifier, copies in rows}


def announced(tail: Tail, incident_id: object, kind: str) -> list[Record]:
    return [
        record
        for record in tail.records
        if record.topic == topics.INCIDENTS
        and record.key == str(incident_id).encode()
        and record.headers.get("event_type") == kind
    ]


async def test_bad_messages_in_the_middle_of_a_batch_cost_the_others_nothing(
    database_settings: DatabaseSettings,
    kafka_settings: KafkaSettings,
    engine: AsyncEngine,
    tail: Tail,
) -> None:
    # Published before the intake starts, on one key (one partition): its first fetch takes
    # them together. In the middle, a message refused while parsing and one refused only inside
    # the batch's transaction (a Cancel of an alert never received), which rolls the whole
    # transaction back; between them, the flood's original, its Update and its Cancel, whose
    # order matters.
    run, stranger = new_run(), new_run()
    fires = [new_run() for _ in range(9)]
    messages = [cap("steppe_fire_11.xml", run=fire) for fire in fires[:3]]
    messages.append(cap("flood_kostanay_12.xml", run=run))
    messages += [cap("steppe_fire_11.xml", run=fire) for fire in fires[3:6]]
    messages.append(cap("flood_cancel_12.xml", run=stranger))  # refused in the transaction
    messages.append((HOSTILE / "malformed.xml").read_bytes())  # refused while parsing
    messages.append(cap("flood_update_12.xml", run=run))
    messages += [cap("steppe_fire_11.xml", run=fire) for fire in fires[6:]]
    messages.append(cap("flood_cancel_12.xml", run=run))
    where = await publish_all(kafka_settings, messages, key=f"batch-{run}".encode())
    assert len({partition for partition, _ in where}) == 1

    async with running_intake(
        database_settings,
        kafka_settings,
        engine,
        clock=FakeClock(),
        intake={**A_YEAR_OF_SKEW, "batch_size": 5000},
    ):
        unknown = await dead_letter_of(tail, topics.ALERTS_CAP, where[7])
        assert unknown.code == "unknown_reference"
        assert FLOOD.format(run=stranger) in unknown.reason
        malformed = await dead_letter_of(tail, topics.ALERTS_CAP, where[8])
        assert malformed.code == "malformed_xml"

        identifiers = [FIRE.format(run=fire) for fire in fires]

        async def all_fires_opened() -> dict[str, dict[str, Any]] | None:
            found = await incidents_of(engine, identifiers)
            return found if len(found) == len(fires) else None

        fire_incidents = await eventually(all_fires_opened)
        assert isinstance(fire_incidents, dict)
        fire_ids = {str(incident["id"]).encode() for incident in fire_incidents.values()}
        opened = await tail.wait_for(
            lambda r: r.key in fire_ids and r.headers.get("event_type") == "IncidentOpened",
            count=len(fires),
        )
        assert len(opened) == len(fires)
        flood = await eventually(lambda: incidents_of(engine, [FLOOD.format(run=run)]))
        assert isinstance(flood, dict)
        flood_id = flood[FLOOD.format(run=run)]["id"]
        await tail.wait_for(lambda r: r in announced(tail, flood_id, "IncidentCancelled"))
        # Opened, then updated to version 2, then cancelled: in the order they were sent.
        kinds = [
            r.headers["event_type"]
            for r in tail.records
            if r.topic == topics.INCIDENTS and r.key == str(flood_id).encode()
        ]
        assert kinds == ["IncidentOpened", "IncidentUpdated", "IncidentCancelled"]
        [update] = announced(tail, flood_id, "IncidentUpdated")
        assert json.loads(update.value)["version"] == 2
        # The stranger's Cancel left nothing behind; every other alert was kept once.
        assert await alert_copies(engine, [FLOOD.format(run=stranger)]) == {}
        assert set((await alert_copies(engine, identifiers)).values()) == {1}


async def test_a_storm_is_announced_once_per_alert(
    database_settings: DatabaseSettings,
    kafka_settings: KafkaSettings,
    engine: AsyncEngine,
    tail: Tail,
) -> None:
    runs = [new_run() for _ in range(400)]
    messages = [cap("steppe_fire_11.xml", run=run) for run in runs]
    messages += messages[::10]  # some sent twice, in the same storm
    identifiers = [FIRE.format(run=run) for run in runs]

    async with running_intake(
        database_settings, kafka_settings, engine, clock=FakeClock(), intake=A_YEAR_OF_SKEW
    ):
        await publish_all(kafka_settings, messages)

        async def all_opened() -> dict[str, dict[str, Any]] | None:
            found = await incidents_of(engine, identifiers)
            return found if len(found) == len(runs) else None

        incidents = await eventually(all_opened, timeout_s=60)
        assert isinstance(incidents, dict)
        ids = {str(incident["id"]).encode() for incident in incidents.values()}
        await tail.wait_for(
            lambda r: r.key in ids and r.headers.get("event_type") == "IncidentOpened",
            count=len(runs),
            timeout_s=60,
        )
        # A later alert proves the copies were consumed before anything is counted.
        marker = new_run()
        await publish_all(kafka_settings, [cap("steppe_fire_11.xml", run=marker)])
        await eventually(lambda: incidents_of(engine, [FIRE.format(run=marker)]))
    assert set((await alert_copies(engine, identifiers)).values()) == {1}
    opened = [r for r in tail.records if r.key in ids and r.topic == topics.INCIDENTS]
    assert len(opened) == len(runs), "each alert announced once"
    assert len({r.key for r in opened}) == len(runs)


async def test_a_restart_in_the_middle_of_a_storm_loses_and_doubles_nothing(
    database_settings: DatabaseSettings,
    kafka_settings: KafkaSettings,
    engine: AsyncEngine,
    tail: Tail,
) -> None:
    runs = [new_run() for _ in range(600)]
    identifiers = [FIRE.format(run=run) for run in runs]
    clock = FakeClock()
    # Small batches, so that it stops with some of them done and others not.
    async with running_intake(
        database_settings,
        kafka_settings,
        engine,
        clock=clock,
        intake={**A_YEAR_OF_SKEW, "batch_size": 20},
    ) as first:
        await publish_all(kafka_settings, [cap("steppe_fire_11.xml", run=run) for run in runs])

        async def some_opened() -> int:
            return len(await incidents_of(engine, identifiers))

        await eventually(some_opened)
        group_id = first.settings.intake.group_id
    done_before = len(await incidents_of(engine, identifiers))

    # The same consumer group again: it goes on from the offsets the first one committed.
    second = IntakeService(
        IntakeSettings(
            database=database_settings,
            kafka=kafka_settings,
            intake=IntakeOptions(group_id=group_id, retry_backoff_s=0.05, **A_YEAR_OF_SKEW),
        ),
        clock=clock,
    )
    await second.start()
    try:

        async def all_opened() -> bool:
            return len(await incidents_of(engine, identifiers)) == len(runs)

        await eventually(all_opened, timeout_s=60)
        incidents = await incidents_of(engine, identifiers)
        ids = {str(incident["id"]).encode() for incident in incidents.values()}
        await tail.wait_for(
            lambda r: r.key in ids and r.headers.get("event_type") == "IncidentOpened",
            count=len(runs),
            timeout_s=60,
        )
    finally:
        await second.stop()
    assert done_before < len(runs), "the first intake stopped in the middle of the storm"
    assert set((await alert_copies(engine, identifiers)).values()) == {1}
    opened = [r for r in tail.records if r.key in ids and r.topic == topics.INCIDENTS]
    assert len(opened) == len(runs), "each alert announced once"
