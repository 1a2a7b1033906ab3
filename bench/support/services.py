"""What the benches share to run Jedel's services for real: the bench database, a service in its
own process configured by the environment, and which incident each CAP alert became."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from typing import IO

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.settings import Settings
from tests.broker import LocalBroker

DATABASE_URL = os.environ.get(
    "JEDEL_BENCH_DATABASE_URL",
    make_url(Settings().database.url).set(database="jedel_bench").render_as_string(False),
)


def start_service(
    name: str,
    group_id: str,
    broker: LocalBroker,
    *,
    log: IO[bytes] | None = None,
    log_level: str = "WARNING",
) -> subprocess.Popen[bytes]:
    """`jedel run <name>` as it runs in production, on the bench database and `broker`; its
    stderr goes to `log` (or nowhere)."""
    env = {
        **os.environ,
        "JEDEL_DATABASE__URL": DATABASE_URL,
        "JEDEL_KAFKA__BOOTSTRAP_SERVERS": broker.bootstrap,
        "JEDEL_KAFKA__CREDENTIALS_FILE": str(broker.credentials_file),
        "JEDEL_KAFKA__SESSION_TIMEOUT_MS": "6000",
        "JEDEL_KAFKA__HEARTBEAT_INTERVAL_MS": "500",
        f"JEDEL_{name.upper()}__GROUP_ID": group_id,
        "JEDEL_LOG_LEVEL": log_level,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "services.cli", "run", name],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log if log is not None else subprocess.DEVNULL,
    )


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
