"""Writes the reference geography and the synthetic population of volunteers into PostGIS.

`seed_reference` upserts the 20 regions and the settlements; it can run any number of times.

`seed_volunteers` REPLACES the synthetic population: in one transaction it truncates `volunteers`,
`certifications`, `mobile_groups` and `mobile_group_members` — with CASCADE, so any other table
referencing a volunteer is emptied too — and writes the new population. Readers see the old
population or the new one, never a mix, but wait while seeding runs (TRUNCATE takes an ACCESS
EXCLUSIVE lock). Never run it against a database holding real volunteers.

Rows go in through binary COPY on the raw asyncpg connection, geography as EWKB, while the next
batch is generated in a worker thread, so generation and PostgreSQL's work overlap. The two big
tables' secondary indexes, foreign keys and the phone's unique constraint are dropped for the load
and rebuilt before the commit, from definitions read out of the catalog (as pg_restore does); if
anything fails, the rollback restores the old population and every structure with it.
"""

from __future__ import annotations

import asyncio
import struct
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator, Sequence
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import shapely
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api.seed.groups import CandidatePool, MobileGroupDraft, plan_mobile_groups
from services.api.seed.population import VolunteerDraft, generate_volunteers
from shared.geo import geodesic_area_km2
from shared.reference import Region, Settlement, load_regions, load_settlements

_EWKB_POINT = struct.Struct("<BIIdd")  # byte order, type, SRID, x, y
_EWKB_LITTLE_ENDIAN = 1
_EWKB_POINT_WITH_SRID = 0x20000001
_WGS84 = 4326

_VOLUNTEER_COLUMNS = (
    "id",
    "full_name",
    "phone",
    "birth_date",
    "languages",
    "organisation",
    "region_code",
    "home",
    "transport_mode",
    "availability",
    "quiet_hours_start",
    "quiet_hours_end",
)
_CERTIFICATION_COLUMNS = ("volunteer_id", "type", "issued_on", "expires_on", "issuer", "home")

_UPSERT_REGION = """
INSERT INTO regions (code, name_kk, name_ru, name_en, geonames_admin1, boundary, area_km2)
VALUES ($1, $2, $3, $4, $5, ST_GeogFromWKB($6), $7)
ON CONFLICT (code) DO UPDATE SET
    name_kk = EXCLUDED.name_kk,
    name_ru = EXCLUDED.name_ru,
    name_en = EXCLUDED.name_en,
    geonames_admin1 = EXCLUDED.geonames_admin1,
    boundary = EXCLUDED.boundary,
    area_km2 = EXCLUDED.area_km2
WHERE (regions.name_kk, regions.name_ru, regions.name_en, regions.geonames_admin1,
       regions.area_km2, ST_AsBinary(regions.boundary))
      IS DISTINCT FROM
      (EXCLUDED.name_kk, EXCLUDED.name_ru, EXCLUDED.name_en, EXCLUDED.geonames_admin1,
       EXCLUDED.area_km2, ST_AsBinary(EXCLUDED.boundary))
"""
_UPSERT_SETTLEMENT = """
INSERT INTO settlements (geonameid, name, name_ru, location, population, region_code)
VALUES ($1, $2, $3, ST_SetSRID(ST_MakePoint($4, $5), 4326)::geography, $6, $7)
ON CONFLICT (geonameid) DO UPDATE SET
    name = EXCLUDED.name,
    name_ru = EXCLUDED.name_ru,
    location = EXCLUDED.location,
    population = EXCLUDED.population,
    region_code = EXCLUDED.region_code
WHERE (settlements.name, settlements.name_ru, ST_AsBinary(settlements.location),
       settlements.population, settlements.region_code)
      IS DISTINCT FROM
      (EXCLUDED.name, EXCLUDED.name_ru, ST_AsBinary(EXCLUDED.location),
       EXCLUDED.population, EXCLUDED.region_code)
"""


_BULK_TABLES = ("volunteers", "certifications")
_DEFERRABLE_STRUCTURES = """
SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', c.conrelid::regclass, c.conname) AS drop_sql,
       format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.conrelid::regclass, c.conname,
              pg_get_constraintdef(c.oid)) AS create_sql
FROM pg_constraint c
WHERE c.conrelid = ANY($1::text[]::regclass[])
  AND (
      c.contype = 'f'
      OR (
          c.contype = 'u'
          AND NOT EXISTS (
              SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid
          )
      )
  )
UNION ALL
SELECT format('DROP INDEX %s', i.indexrelid::regclass), pg_get_indexdef(i.indexrelid)
FROM pg_index i
WHERE i.indrelid = ANY($1::text[]::regclass[])
  AND NOT EXISTS (
      SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid
  )
"""


class MissingReferenceDataError(RuntimeError):
    """The regions are not in the database yet: run `seed_reference` first."""


@dataclass(frozen=True, slots=True)
class SeedReport:
    volunteers: int
    certifications_valid: int
    certifications_expired: int
    groups: int
    group_members: int
    unfilled_seats: int
    seconds: float

    @property
    def certifications(self) -> int:
        return self.certifications_valid + self.certifications_expired


async def seed_reference(engine: AsyncEngine) -> None:
    """Upsert the 20 regions (with their geodesic area) and the settlements; idempotent, and
    rows that did not change are not rewritten.

    Settlements no longer in the reference data are deleted; regions never are (volunteers and
    incidents point at them).
    """
    regions = load_regions()
    settlements = load_settlements()
    region_rows = await asyncio.to_thread(_region_records, regions)
    async with _raw_connection(engine) as db, db.transaction():
        await db.executemany(_UPSERT_REGION, region_rows)
        await db.executemany(_UPSERT_SETTLEMENT, _settlement_records(settlements))
        await db.execute(
            "DELETE FROM settlements WHERE geonameid <> ALL($1::bigint[])",
            [s.geonameid for s in settlements],
        )


async def seed_volunteers(
    engine: AsyncEngine,
    *,
    count: int,
    today: date,
    seed: int = 7,
    batch_size: int = 50_000,
    progress: Callable[[int], None] | None = None,
) -> SeedReport:
    """Replace the synthetic population with `count` volunteers and the standing mobile groups.

    Truncates volunteers, certifications and mobile groups (CASCADE) first, in the same
    transaction. `progress` is called with the number of volunteers copied so far after each
    batch; they become visible to others only when the whole seed commits.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be ≥ 1, not {batch_size}")
    started = time.perf_counter()
    regions = load_regions()
    drafts = generate_volunteers(
        count, settlements=load_settlements(), regions=regions, today=today, seed=seed
    )
    batches = _BatchMaker(drafts, pool=CandidatePool(today=today), today=today, size=batch_size)
    async with _raw_connection(engine) as db:
        await db.set_type_codec(
            "geography", schema="public", encoder=bytes, decoder=bytes, format="binary"
        )
        try:
            async with db.transaction():
                # The connection's statement timeout is for requests, not for a bulk load.
                await db.execute("SET LOCAL statement_timeout = 0")
                await db.execute("SET LOCAL maintenance_work_mem = '256MB'")
                await _require_regions(db, regions)
                await db.execute(
                    "TRUNCATE mobile_group_members, mobile_groups, certifications, volunteers "
                    "RESTART IDENTITY CASCADE"
                )
                deferred = await _deferrable_structures(db, _BULK_TABLES)
                for drop, _create in deferred:
                    await db.execute(drop)
                written = await _copy_population(db, batches, progress=progress)
                for _drop, create in deferred:
                    await db.execute(create)
                groups = plan_mobile_groups(
                    batches.pool.volunteers(), regions=regions, today=today, seed=seed
                )
                await _write_groups(db, groups)
                for table in (*_BULK_TABLES, "mobile_groups", "mobile_group_members"):
                    await db.execute(f"ANALYZE {table}")
        finally:
            await db.reset_type_codec("geography", schema="public")
    return SeedReport(
        volunteers=written,
        certifications_valid=batches.certifications_valid,
        certifications_expired=batches.certifications_expired,
        groups=len(groups),
        group_members=sum(len(g.members) for g in groups),
        unfilled_seats=sum(sum(g.unfilled().values()) for g in groups),
        seconds=time.perf_counter() - started,
    )


@dataclass(slots=True)
class _Batch:
    volunteers: list[tuple[Any, ...]]
    certifications: list[tuple[Any, ...]]


@dataclass(slots=True)
class _BatchMaker:
    """Turns drafts into COPY records, one batch per call, keeping the counts and the pool."""

    drafts: Iterator[VolunteerDraft]
    pool: CandidatePool
    today: date
    size: int
    certifications_valid: int = 0
    certifications_expired: int = 0

    def next_batch(self) -> _Batch | None:
        volunteers: list[tuple[Any, ...]] = []
        certifications: list[tuple[Any, ...]] = []
        today, add_to_pool = self.today, self.pool.add
        for draft in self.drafts:
            add_to_pool(draft)
            home = _ewkb_point(draft.home_lon, draft.home_lat)
            volunteers.append(
                (
                    draft.id,
                    draft.full_name,
                    draft.phone,
                    draft.birth_date,
                    draft.languages,
                    draft.organisation,
                    draft.region_code,
                    home,
                    draft.transport_mode.value,
                    draft.availability.value,
                    draft.quiet_hours_start,
                    draft.quiet_hours_end,
                )
            )
            for c in draft.certifications:
                certifications.append(
                    (draft.id, c.type.value, c.issued_on, c.expires_on, c.issuer, home)
                )
                if c.is_valid_on(today):
                    self.certifications_valid += 1
                else:
                    self.certifications_expired += 1
            if len(volunteers) == self.size:
                break
        return _Batch(volunteers, certifications) if volunteers else None


async def _copy_population(
    db: Any, batches: _BatchMaker, *, progress: Callable[[int], None] | None
) -> int:
    written = 0
    async with aclosing(_prefetched(batches.next_batch)) as stream:
        async for batch in stream:
            await db.copy_records_to_table(
                "volunteers", records=batch.volunteers, columns=_VOLUNTEER_COLUMNS
            )
            await db.copy_records_to_table(
                "certifications", records=batch.certifications, columns=_CERTIFICATION_COLUMNS
            )
            written += len(batch.volunteers)
            if progress is not None:
                progress(written)
    return written


async def _deferrable_structures(db: Any, tables: Sequence[str]) -> list[tuple[str, str]]:
    """(drop, create) statements for the tables' foreign keys, unique constraints and plain
    indexes, read from the catalog so they always match the migrations.

    Building them once after the load is several times faster than maintaining them row by row
    (pg_restore does the same). Primary keys, and unique constraints a foreign key points at,
    stay: other tables hang on them.
    """
    rows = await db.fetch(_DEFERRABLE_STRUCTURES, list(tables))
    return [(row["drop_sql"], row["create_sql"]) for row in rows]


async def _prefetched(make: Callable[[], _Batch | None]) -> AsyncGenerator[_Batch, None]:
    """Yield each batch while the next one is being made in a worker thread."""
    upcoming = asyncio.ensure_future(asyncio.to_thread(make))
    try:
        while (batch := await upcoming) is not None:
            upcoming = asyncio.ensure_future(asyncio.to_thread(make))
            yield batch
    finally:
        # The drafts' generator must not be advanced by two threads at once, nor left running.
        if not upcoming.done():
            await asyncio.wait([upcoming])


async def _require_regions(db: Any, regions: Sequence[Region]) -> None:
    present = {row["code"] for row in await db.fetch("SELECT code FROM regions")}
    missing = sorted({r.code for r in regions} - present)
    if missing:
        raise MissingReferenceDataError(
            f"regions {', '.join(missing)} are not in the database; run seed_reference first"
        )


async def _write_groups(db: Any, groups: Sequence[MobileGroupDraft]) -> None:
    await db.copy_records_to_table(
        "mobile_groups",
        records=[(g.id, g.region_code, g.name, g.is_pilot) for g in groups],
        columns=("id", "region_code", "name", "is_pilot"),
    )
    await db.copy_records_to_table(
        "mobile_group_members",
        records=[
            (g.id, m.volunteer_id, m.role.value, m.on_call) for g in groups for m in g.members
        ],
        columns=("group_id", "volunteer_id", "role", "on_call"),
    )


def _ewkb_point(lon: float, lat: float) -> bytes:
    return _EWKB_POINT.pack(_EWKB_LITTLE_ENDIAN, _EWKB_POINT_WITH_SRID, _WGS84, lon, lat)


def _region_records(regions: Sequence[Region]) -> list[tuple[Any, ...]]:
    return [
        (
            r.code,
            r.name_kk,
            r.name_ru,
            r.name_en,
            r.geonames_admin1,
            shapely.to_wkb(r.boundary),
            geodesic_area_km2(r.boundary),
        )
        for r in regions
    ]


def _settlement_records(settlements: Sequence[Settlement]) -> list[tuple[Any, ...]]:
    return [
        (s.geonameid, s.name, s.name_ru, s.longitude, s.latitude, s.population, s.region_code)
        for s in settlements
    ]


@asynccontextmanager
async def _raw_connection(engine: AsyncEngine) -> AsyncIterator[Any]:
    """The asyncpg connection under a pooled SQLAlchemy connection (COPY needs the driver)."""
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        yield raw.driver_connection
