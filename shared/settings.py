"""Typed settings shared by every service; each service extends `Settings` with its own knobs.

Every value comes from the environment with the `JEDEL_` prefix (nested with `__`), e.g.
`JEDEL_KAFKA__BOOTSTRAP_SERVERS=kafka:9092`. Build one and pass it in; nothing reads the environment
at import time.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_SECRET = "development-only-secret"  # noqa: S105 - refused outside development


class DatabaseSettings(BaseModel):
    url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/jedel"
    pool_size: int = 10
    statement_timeout_ms: int = 15_000


class KafkaSettings(BaseModel):
    bootstrap_servers: str = "127.0.0.1:19092"
    client_id: str = "jedel"
    # Tansu answers ListOffsets(latest) wrongly; a new group must start from the beginning anyway,
    # idempotent consumers make the replay harmless.
    auto_offset_reset: Literal["earliest", "latest"] = "earliest"
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 3_000
    # Big enough that an oversized message still reaches the consumer and is dead-lettered.
    max_partition_fetch_bytes: int = 16 * 1024 * 1024
    max_request_size: int = 16 * 1024 * 1024
    # How long a fetch may wait for records. Apache Kafka answers as soon as a record arrives, so
    # this only paces idle polling; Tansu answers late (about half the wait on average), so it is
    # also each hop's latency: 100 ms keeps a lone incident's hop near 50 ms (500, the client's
    # default, made it ~250 ms) at a few idle fetches per second.
    fetch_max_wait_ms: int = Field(default=100, ge=1, le=10_000)
    partitions: int = 3


class RedisSettings(BaseModel):
    url: str = "redis://127.0.0.1:6379/0"
    # A Redis that stops answering must not hold anything up for long (socket and connect).
    timeout_s: float = Field(default=2.0, gt=0)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="JEDEL_", env_nested_delimiter="__", extra="ignore", frozen=True
    )

    environment: Literal["development", "test", "production"] = "development"
    secret_key: str = DEVELOPMENT_SECRET
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> Self:
        if self.environment == "production" and self.secret_key == DEVELOPMENT_SECRET:
            raise ValueError("JEDEL_SECRET_KEY must be set to a real secret in production")
        return self
