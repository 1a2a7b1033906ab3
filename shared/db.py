"""PostgreSQL plumbing: one metadata for every table, engines and sessions built on demand."""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

from shared.settings import DatabaseSettings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Every table of every service hangs off this metadata, so one migration history covers all."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def build_engine(settings: DatabaseSettings, *, application_name: str = "jedel") -> AsyncEngine:
    return create_async_engine(
        settings.url,
        pool_size=settings.pool_size,
        # No pre-ping: it costs two round trips per transaction. A connection that died is
        # replaced after its first failure, and every consumer retries what failed transiently.
        pool_recycle=1800,
        connect_args={
            "server_settings": {
                "application_name": application_name,
                "statement_timeout": str(settings.statement_timeout_ms),
                # Nearest-neighbour scans are latency-bound; parallel workers only add start-up cost.
                "max_parallel_workers_per_gather": "0",
                "timezone": "UTC",
            }
        },
    )


def build_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
