"""Alembic environment: one migration history for every service's tables."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

import services.api.auth.tables
import services.api.tables
import services.intake.tables
import services.mobilizer.tables
import services.notifier.tables
import services.registry.tables
import services.tracker.tables  # noqa: F401 - registers the tables on the shared metadata
from shared.db import Base, build_engine
from shared.settings import DatabaseSettings, Settings

target_metadata = Base.metadata


def database_settings() -> DatabaseSettings:
    url = context.config.attributes.get("database_url")
    return DatabaseSettings(url=url) if url else Settings().database


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    # PostGIS's own tables (spatial_ref_sys, topology) are not ours to drop.
    return not (type_ == "table" and reflected and compare_to is None)


def do_run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    engine = build_engine(database_settings(), application_name="jedel-migrate")
    async with engine.connect() as connection:
        await connection.run_sync(do_run_migrations)
    await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run against a database")
asyncio.run(run_async_migrations())
