"""PostgreSQL plumbing: one metadata for every table, engines and sessions built on demand."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic_core import to_json
from sqlalchemy import JSON, FromClause, MetaData
from sqlalchemy.dialects import postgresql
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
                # The planner prices a wave's candidate query (a nearest-neighbour scan per
                # certificate type) above the JIT threshold, and compiling it costs ~30 ms, more
                # than running it: these are short OLTP queries, never worth compiling.
                "jit": "off",
                "timezone": "UTC",
            }
        },
    )


def build_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def driver_connection(session: AsyncSession) -> Any:
    """The asyncpg connection under `session`, inside its transaction, with the ORM's pending
    changes flushed first.

    For the few statements that move hundreds of rows a wave: asyncpg's own records and array
    parameters skip SQLAlchemy's per-value processing, which costs more than the query itself
    there (a wave's candidate query: ~35 ms through `session.execute`, ~21 ms straight).
    """
    await session.flush()
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None, "the session's connection is open"
    if not driver.is_in_transaction():
        # SQLAlchemy's driver adapter begins lazily, at the first statement it runs itself.
        await connection.exec_driver_sql("SELECT 1")
    return driver


async def insert_rows(
    session: AsyncSession,
    table: FromClause,
    rows: Sequence[Mapping[str, Any]],
    *,
    on_conflict: str = "",
) -> None:
    """INSERT `rows` (dicts with the same keys) in one statement and one round trip.

    The values travel as one array per column and come back as rows through `unnest`, so the
    statement is the same whatever the number of rows: prepared once, no per-row messages (an
    executemany sends one per row, a multi-row VALUES is prepared afresh for every size; both are
    several times slower for the hundreds of rows a wave writes). JSON columns take any
    JSON-serialisable value. `on_conflict` is appended verbatim (e.g. "ON CONFLICT … DO UPDATE …").
    """
    if not rows:
        return
    columns = tuple(rows[0])
    statement = _unnest_insert(table, columns, on_conflict)
    arrays: list[list[Any]] = []
    for name in columns:
        values = [row[name] for row in rows]
        if isinstance(table.c[name].type, JSON):
            # pydantic-core's encoder: the same JSON as json.dumps(ensure_ascii=False), faster.
            values = [None if v is None else to_json(v).decode() for v in values]
        arrays.append(values)
    driver = await driver_connection(session)
    await driver.execute(statement, *arrays)


@functools.lru_cache(maxsize=64)
def _unnest_insert(table: FromClause, columns: tuple[str, ...], on_conflict: str) -> str:
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    arrays, selected = [], []
    for index, name in enumerate(columns, start=1):
        column_type = table.c[name].type
        if isinstance(column_type, JSON):
            arrays.append(f"${index}::text[]")
            selected.append(f"CAST(r.c{index} AS {column_type.compile(dialect=dialect)})")
        else:
            arrays.append(f"${index}::{column_type.compile(dialect=dialect)}[]")
            selected.append(f"r.c{index}")
    aliases = ", ".join(f"c{index}" for index in range(1, len(columns) + 1))
    return (
        f"INSERT INTO {table.description} ({', '.join(columns)}) "  # noqa: S608 - names from the schema
        f"SELECT {', '.join(selected)} FROM unnest({', '.join(arrays)}) AS r({aliases}) "
        f"{on_conflict}"
    )
