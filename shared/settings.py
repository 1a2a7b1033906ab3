"""Typed settings shared by every service; each service extends `Settings` with its own knobs.

Every value comes from the environment with the `JEDEL_` prefix (nested with `__`), e.g.
`JEDEL_KAFKA__BOOTSTRAP_SERVERS=kafka:9092`, or from `.run/jedel.env`, which the local set-up writes
with the credentials it generated (the environment wins). Build one and pass it in; nothing reads
the environment at import time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_SECRET = "development-only-secret-never-for-production"  # noqa: S105 - refused outside development


class DatabaseSettings(BaseModel):
    # The local set-up writes the real URL (its own role and generated password) to .run/jedel.env.
    url: str = "postgresql+asyncpg://jedel@127.0.0.1:5432/jedel"
    pool_size: int = 10
    statement_timeout_ms: int = 15_000


class KafkaSettings(BaseModel):
    bootstrap_servers: str = "127.0.0.1:19092"
    client_id: str = "jedel"
    # Every listener authenticates (SASL/SCRAM); PLAINTEXT only for a broker you secured otherwise.
    security_protocol: Literal["SASL_PLAINTEXT", "SASL_SSL", "PLAINTEXT"] = "SASL_PLAINTEXT"
    sasl_mechanism: Literal["SCRAM-SHA-256", "SCRAM-SHA-512"] = "SCRAM-SHA-256"
    # A deployment gives each process its own principal here. Locally (username unset) each
    # process takes its own principal's password from the file the set-up generated.
    username: str | None = None
    password: SecretStr | None = None
    credentials_file: Path | None = Path(".run/kafka/credentials.json")
    # A new consumer group starts from the first offset: nothing published before a service first
    # ran is skipped, and idempotent consumers make a replay harmless.
    auto_offset_reset: Literal["earliest", "latest"] = "earliest"
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 3_000
    # Big enough that an oversized message still reaches the consumer and is dead-lettered.
    max_partition_fetch_bytes: int = 16 * 1024 * 1024
    max_request_size: int = 16 * 1024 * 1024
    # How many bytes of one partition's messages a producer sends as one batch. A first wave's
    # ~25 events (~17 KB) in one batch reach the broker in one request, and every consumer of
    # the topic in one fetch; at Kafka's default of 16 KiB they took two or more of each, and the
    # broker spent ~4 ms of CPU per round. Below a default topic's 1 MB message limit.
    producer_batch_bytes: int = Field(default=512 * 1024, ge=16 * 1024, le=1024 * 1024)
    # How long a fetch may wait for records. Apache Kafka answers as soon as a record arrives, so
    # this only paces idle polling: an idle consumer asks twice a second.
    fetch_max_wait_ms: int = Field(default=500, ge=1, le=10_000)
    partitions: int = 3
    replication_factor: int = Field(default=1, ge=1)

    @property
    def servers(self) -> list[str]:
        """The bootstrap servers as a list (the setting is comma-separated, as Kafka's tools take it)."""
        return [server.strip() for server in self.bootstrap_servers.split(",") if server.strip()]

    def login(self, principal: str) -> tuple[str, str] | None:
        """(username, password) for `principal`: the configured one, else the local credentials."""
        if self.security_protocol == "PLAINTEXT":
            return None
        if self.username is not None:
            if self.password is None:
                raise ValueError("JEDEL_KAFKA__PASSWORD must be set with JEDEL_KAFKA__USERNAME")
            return self.username, self.password.get_secret_value()
        if self.credentials_file is None or not self.credentials_file.exists():
            raise ValueError(
                f"no broker credentials for {principal}: set JEDEL_KAFKA__USERNAME and "
                f"JEDEL_KAFKA__PASSWORD, or run infra/local/setup.sh (it writes {self.credentials_file})"
            )
        passwords: dict[str, str] = json.loads(self.credentials_file.read_text())["passwords"]
        if principal not in passwords:
            raise ValueError(f"{self.credentials_file} has no password for {principal}")
        return principal, passwords[principal]


class RedisSettings(BaseModel):
    url: str = "redis://127.0.0.1:6379/0"
    # A Redis that stops answering must not hold anything up for long (socket and connect).
    timeout_s: float = Field(default=2.0, gt=0)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="JEDEL_",
        env_nested_delimiter="__",
        env_file=".run/jedel.env",
        extra="ignore",
        frozen=True,
    )

    environment: Literal["development", "test", "production"] = "development"
    secret_key: str = DEVELOPMENT_SECRET
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    log_level: str = "INFO"
    # "json": one JSON object a line (the default in production); "text" for a terminal.
    log_format: Literal["text", "json"] | None = None
    # The port a Kafka-consuming service answers /metrics and /readyz on (None: no such server;
    # 0: any free port). The API serves both on its own port.
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    metrics_host: str = "127.0.0.1"
    readiness_timeout_s: float = Field(default=2.0, gt=0)

    @property
    def json_logs(self) -> bool:
        if self.log_format is not None:
            return self.log_format == "json"
        return self.environment == "production"

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> Self:
        if self.environment == "production" and self.secret_key == DEVELOPMENT_SECRET:
            raise ValueError("JEDEL_SECRET_KEY must be set to a real secret in production")
        return self
