"""PostgreSQL plumbing: one metadata for every table, engines and sessions built on demand."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import shapely
from geoalchemy2.types import Geography, Geometry
from pydantic_core import to_json
from sqlalchemy import ARRAY, JSON, Enum, FromClause, MetaData, String
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeEngine

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
        # The connection used last is the next one out: at an incident at a time every wave
        # meets a connection whose statements are prepared and planned, not the next of ten
        # in turn (each one preparing the wave's statements afresh on first use).
        pool_use_lifo=True,
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
    computed: tuple[tuple[str, str], ...] = (),
    returning: str = "",
) -> list[Any]:
    """INSERT `rows` (dicts with the same keys) in one statement and one round trip.

    The values travel as one array per column and come back as rows through `unnest`, so the
    statement is the same whatever the number of rows: prepared once, no per-row messages (an
    executemany sends one per row, a multi-row VALUES is prepared afresh for every size; both are
    several times slower for the hundreds of rows a wave writes). JSON columns take any
    JSON-serialisable value, geography and geometry columns shapely geometries (sent as EWKB in
    the column's SRID: GEOS writes hex ten times slower), array columns sequences of strings.
    `on_conflict` is appended verbatim (e.g. "ON CONFLICT … DO UPDATE …"); `computed` sets
    columns by an SQL expression evaluated row by row (e.g. `("received_at",
    "clock_timestamp()")`); `returning` is a RETURNING list, whose rows are returned (in the
    order inserted; none without one).
    """
    if not rows:
        return []
    columns = tuple(rows[0])
    statement = _unnest_insert(table, columns, on_conflict, computed, returning)
    arrays: list[list[Any]] = []
    for name in columns:
        values = [row[name] for row in rows]
        column_type = table.c[name].type
        if isinstance(column_type, JSON):
            # pydantic-core's encoder: the same JSON as json.dumps(ensure_ascii=False), faster.
            values = [None if v is None else to_json(v).decode() for v in values]
        elif isinstance(column_type, Geography | Geometry):
            located = shapely.set_srid(values, column_type.srid)  # None stays None
            values = list(shapely.to_wkb(located, include_srid=True))
        elif isinstance(column_type, ARRAY):
            values = [None if v is None else _array_literal(v) for v in values]
        arrays.append(values)
    driver = await driver_connection(session)
    if returning:
        return list(await driver.fetch(statement, *arrays))
    await driver.execute(statement, *arrays)
    return []


def _unbounded(column_type: TypeEngine[Any], dialect: Dialect) -> str:
    """The column's type in SQL, strings without their length: a cast to VARCHAR(n) cuts a
    longer value short without a word, while the INSERT itself refuses it, as it should."""
    if isinstance(column_type, String) and not isinstance(column_type, Enum):  # its own type
        return "TEXT"
    if isinstance(column_type, ARRAY) and isinstance(column_type.item_type, String):
        return "TEXT[]"
    return str(column_type.compile(dialect=dialect))


def _array_literal(values: Sequence[str]) -> str:
    """A PostgreSQL array literal of these strings, each quoted."""
    quoted = ('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"' for value in values)
    return "{" + ",".join(quoted) + "}"


@functools.lru_cache(maxsize=64)
def _unnest_insert(
    table: FromClause,
    columns: tuple[str, ...],
    on_conflict: str,
    computed: tuple[tuple[str, str], ...],
    returning: str,
) -> str:
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    arrays, selected = [], []
    for index, name in enumerate(columns, start=1):
        column_type = table.c[name].type
        # Sent as text or bytes and cast row by row: unnest would flatten an array of arrays,
        # and the driver has no codec for PostGIS's types.
        if isinstance(column_type, JSON | Geography | Geometry | ARRAY):
            sent_as = "bytea" if isinstance(column_type, Geography | Geometry) else "text"
            arrays.append(f"${index}::{sent_as}[]")
            selected.append(f"CAST(r.c{index} AS {_unbounded(column_type, dialect)})")
        else:
            arrays.append(f"${index}::{_unbounded(column_type, dialect)}[]")
            selected.append(f"r.c{index}")
    aliases = ", ".join(f"c{index}" for index in range(1, len(columns) + 1))
    quote = dialect.identifier_preparer.quote  # "offset", "references"
    names = [quote(name) for name in (*columns, *(name for name, _ in computed))]
    selected.extend(expression for _, expression in computed)
    return (
        f"INSERT INTO {table.description} ({', '.join(names)}) "  # noqa: S608 - names from the schema
        f"SELECT {', '.join(selected)} FROM unnest({', '.join(arrays)}) AS r({aliases}) "
        f"{on_conflict}" + (f" RETURNING {returning}" if returning else "")
    )
