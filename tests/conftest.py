"""Real services for the integration and end-to-end tests: PostGIS, Redis and a broker of their own.

The database is `jedel_test` (override with JEDEL_TEST_DATABASE_URL), migrated once per run; each
test that writes starts from empty service tables. The broker is a fresh Apache Kafka on a free
port, with SASL/SCRAM and the ACLs a deployment has: each service connects as its own principal.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from alembic import command
from alembic.config import Config
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api.auth import limits
from services.api.settings import ApiSettings
from shared.broker_access import ADMIN
from shared.db import build_engine
from shared.kafka import build_broker
from shared.settings import DatabaseSettings, KafkaSettings, RedisSettings, Settings
from tests.broker import LocalBroker
from tests.browsers import SCREENSHOTS
from tests.running import INTAKE_TABLES, api_client

ROOT = Path(__file__).resolve().parents[1]
# The set-up's role and password (from .run/jedel.env), on the test database.
TEST_DATABASE_URL = os.environ.get(
    "JEDEL_TEST_DATABASE_URL",
    make_url(Settings().database.url).set(database="jedel_test").render_as_string(False),
)


@pytest.fixture(scope="session")
def database_settings() -> DatabaseSettings:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "infra" / "migrations"))
    config.attributes["database_url"] = TEST_DATABASE_URL
    command.upgrade(config, "head")
    return DatabaseSettings(url=TEST_DATABASE_URL, pool_size=5)


@pytest.fixture(scope="session")
def broker() -> Iterator[LocalBroker]:
    local = LocalBroker().start()
    yield local
    local.stop()


@pytest.fixture(scope="session")
def kafka_settings(broker: LocalBroker) -> KafkaSettings:
    return KafkaSettings(
        bootstrap_servers=broker.bootstrap,
        credentials_file=broker.credentials_file,
        session_timeout_ms=3000,
        heartbeat_interval_ms=300,
        partitions=2,
    )


@pytest.fixture(scope="session")
def redis_settings() -> RedisSettings:
    # Another checkout's tests on the same machine take another database number.
    settings = RedisSettings(
        url=os.environ.get("JEDEL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    )
    # A run starts with no sign-in attempts counted: the tests that sign in all do so from
    # 127.0.0.1, and an earlier run's attempts (kept 15 minutes) locked a run started soon after
    # out of the console.
    with redis.Redis.from_url(settings.url) as client:
        stale = list(client.scan_iter(match=f"{limits.PREFIX}*"))
        if stale:
            client.delete(*stale)
    return settings


@pytest.fixture
async def client(
    database_settings: DatabaseSettings,
    kafka_settings: KafkaSettings,
    redis_settings: RedisSettings,
) -> AsyncIterator[httpx.AsyncClient]:
    """The API in process (its lifespan started) on the test database, broker and Redis; a
    module that needs other settings defines its own `client`."""
    settings = ApiSettings(
        environment="test", database=database_settings, kafka=kafka_settings, redis=redis_settings
    )
    async with api_client(settings) as http:
        yield http


@pytest.fixture(scope="session")
async def engine(database_settings: DatabaseSettings) -> AsyncIterator[AsyncEngine]:
    engine = build_engine(database_settings, application_name="jedel-tests")
    yield engine
    await engine.dispose()


@pytest.fixture
async def clean_intake(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {', '.join(INTAKE_TABLES)} CASCADE"))


@pytest.fixture
def screenshots() -> Path:
    """Where the browser tests leave their screenshots (kept as test artefacts)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
async def publish_bytes(kafka_settings: KafkaSettings) -> AsyncIterator[Any]:
    """Publish bytes on a topic as the broker's admin (a producer outside Jedel, or a test)."""
    broker = build_broker(kafka_settings, principal=ADMIN)
    await broker.connect()

    async def send(topic: str, value: bytes) -> None:
        await broker.publish(value, topic)

    yield send
    await broker.stop()
