"""The whole journey through running services: CAP and police reports on the broker, incidents in
PostGIS, on `incidents.v1`, and in the API; the bad message on the dead-letter topic."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.broker_access import ADMIN
from shared.events import topics
from shared.kafka import build_broker
from shared.settings import DatabaseSettings, KafkaSettings
from tests.broker import free_port
from tests.factories import HOSTILE, as_json, cap_live, missing_person_report, new_run
from tests.kafka_tail import Tail, eventually

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def services(database_settings: DatabaseSettings, kafka_settings: KafkaSettings) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "JEDEL_DATABASE__URL": database_settings.url,
        "JEDEL_KAFKA__BOOTSTRAP_SERVERS": kafka_settings.bootstrap_servers,
        "JEDEL_KAFKA__CREDENTIALS_FILE": str(kafka_settings.credentials_file),
        "JEDEL_KAFKA__SESSION_TIMEOUT_MS": "3000",
        "JEDEL_KAFKA__HEARTBEAT_INTERVAL_MS": "300",
        "JEDEL_INTAKE__GROUP_ID": f"jedel-intake-e2e-{new_run()}",
        "JEDEL_API__PORT": str(port),
    }
    (ROOT / ".run").mkdir(exist_ok=True)
    log = (ROOT / ".run" / "e2e.log").open("ab")
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "services.cli", "run", name],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        for name in ("intake", "api")
    ]
    yield f"http://127.0.0.1:{port}"
    for process in processes:
        process.terminate()
    intake_code, api_code = (process.wait(timeout=20) for process in processes)
    assert intake_code == 0, "the intake stops cleanly on SIGTERM"
    # uvicorn shuts down gracefully, then re-raises the signal it caught.
    assert api_code in (0, -signal.SIGTERM)


async def test_alerts_become_incidents_through_running_services(
    services: str, kafka_settings: KafkaSettings, engine: AsyncEngine
) -> None:
    run = new_run()
    report = missing_person_report()
    broker = build_broker(kafka_settings, principal=ADMIN)
    await broker.connect()
    await broker.publish(
        cap_live("flood_kostanay_12.xml", run=run, now=datetime.now(UTC)), topics.ALERTS_CAP
    )
    await broker.publish(
        as_json(report), topics.ALERTS_MISSING_PERSON, key=report["report_id"].encode()
    )
    broken = await broker.publish((HOSTILE / "malformed.xml").read_bytes(), topics.ALERTS_CAP)
    await broker.stop()

    async def incident_ids() -> dict[str, str] | None:
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    text(
                        "SELECT identifier, incident_id::text FROM alerts WHERE identifier = ANY(:ids)"
                    ),
                    {"ids": [f"KZ-TZhM-{run}-KST-2026-0402-001", report["report_id"]]},
                )
            ).all()
        found = {identifier: incident for identifier, incident in rows if incident}
        return found if len(found) == 2 else None

    found = await eventually(incident_ids, timeout_s=60)
    assert isinstance(found, dict)
    flood_id = found[f"KZ-TZhM-{run}-KST-2026-0402-001"]
    missing_id = found[report["report_id"]]

    tail = await Tail.open(kafka_settings, (topics.INCIDENTS, topics.ALERTS_DEAD_LETTER))
    try:
        opened = await tail.wait_for(
            lambda r: (
                r.topic == topics.INCIDENTS
                and r.key in (flood_id.encode(), missing_id.encode())
                and r.headers.get("event_type") == "IncidentOpened"
            ),
            count=2,
        )
        kinds = {json.loads(record.value)["type"] for record in opened}
        assert kinds == {"flood", "missing_person"}
        await tail.wait_for(
            lambda r: (
                r.topic == topics.ALERTS_DEAD_LETTER
                and r.headers.get("dead_letter.source_offset") == str(broken.offset)
                and r.headers.get("dead_letter.source_partition") == str(broken.partition)
                and r.headers.get("dead_letter.code") == "malformed_xml"
            )
        )
    finally:
        await tail.close()

    async with httpx.AsyncClient(base_url=services, timeout=5) as client:
        health: Any = await eventually(lambda: _get(client, "/healthz"), timeout_s=30)
        assert health["status"] == "ok"
        feature = await _get(client, f"/api/v1/incidents/{flood_id}?lang=ru")
        assert feature["properties"]["type"] == "flood"
        assert "Тобол" in feature["properties"]["headline"]
        collection = await _get(client, "/api/v1/incidents?type=missing_person&region=KZ-75")
        assert missing_id in {f["id"] for f in collection["features"]}


async def _get(client: httpx.AsyncClient, path: str) -> Any:
    try:
        response = await client.get(path)
    except httpx.HTTPError:
        return None
    return response.json() if response.status_code == 200 else None
