"""What the benches share to run Jedel's services for real: the bench database, a service in its
own process configured by the environment, which incident each CAP alert became, percentiles."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from typing import IO

import httpx
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.settings import Settings
from tests.broker import LocalBroker

DATABASE_URL = os.environ.get(
    "JEDEL_BENCH_DATABASE_URL",
    make_url(Settings().database.url).set(database="jedel_bench").render_as_string(False),
)


def percentile(values: Sequence[float], q: float) -> float:
    """The value below which a share `q` of `values` falls (nearest rank; nan when empty)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def start_service(
    name: str,
    group_id: str | None,
    broker: LocalBroker,
    *,
    log: IO[bytes] | None = None,
    log_level: str = "WARNING",
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """`jedel run <name>` as it runs in production, on the bench database and `broker` (its
    consumer group `group_id`, if it has one; more settings in `env`); its stderr goes to `log`
    (or nowhere)."""
    settings = {
        **os.environ,
        "JEDEL_DATABASE__URL": DATABASE_URL,
        "JEDEL_KAFKA__BOOTSTRAP_SERVERS": broker.bootstrap,
        "JEDEL_KAFKA__CREDENTIALS_FILE": str(broker.credentials_file),
        "JEDEL_KAFKA__SESSION_TIMEOUT_MS": "6000",
        "JEDEL_KAFKA__HEARTBEAT_INTERVAL_MS": "500",
        "JEDEL_LOG_LEVEL": log_level,
        **(env or {}),
    }
    if group_id is not None:
        settings[f"JEDEL_{name.upper()}__GROUP_ID"] = group_id
    return subprocess.Popen(
        [sys.executable, "-m", "services.cli", "run", name],
        env=settings,
        stdout=subprocess.DEVNULL,
        stderr=log if log is not None else subprocess.DEVNULL,
    )


async def wait_ready(url: str, process: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    """Until `url` answers 200 (a service's `/readyz` or `/healthz`); exits if the service does."""
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(timeout=2) as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"{url}: the service exited ({process.returncode})")
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(url)).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise SystemExit(f"{url} not ready within {timeout_s:.0f}s")


async def incidents_of(engine: AsyncEngine, identifiers: Sequence[str]) -> dict[str, str]:
    """CAP identifier → the id of the incident the intake opened or changed for it."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT identifier, incident_id::text FROM alerts "
                "WHERE source = 'cap' AND identifier = ANY(:ids) AND incident_id IS NOT NULL"
            ),
            {"ids": list(identifiers)},
        )
        return {str(identifier): str(incident) for identifier, incident in rows}
