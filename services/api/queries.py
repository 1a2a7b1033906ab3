"""Reads of the intake's incidents and the reference regions; the API never writes these tables.

Geometry leaves PostGIS as GeoJSON text (lon/lat, 6 decimals) and is not parsed here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from geoalchemy2 import Geography, Geometry
from sqlalchemy import ColumnElement, any_, cast, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import SQLCoreOperations

from services.api.errors import IncidentNotFound
from services.api.geojson import BBox
from services.api.tables import RegionRow, SettlementRow
from services.intake.tables import AlertRow, IncidentAreaRow, IncidentRow
from shared.geo import GEOJSON_DECIMALS

REGION_SIMPLIFY_DEG = 0.01
# Envelope edges are densified before they become geography, so they follow the parallels a map
# shows instead of great circles, which bow up to degrees away over a country-wide box.
ENVELOPE_SEGMENT_DEG = 0.1


@dataclass(frozen=True)
class IncidentFilters:
    statuses: Sequence[str] = ()
    types: Sequence[str] = ()
    region_code: str | None = None
    opened_since: datetime | None = None
    bbox: BBox | None = None
    include_exercises: bool = True


@dataclass(frozen=True)
class IncidentRecord:
    id: UUID
    type: str
    priority: str
    status: str
    alert_status: str
    is_exercise: bool
    source: str
    severity: str | None
    urgency: str | None
    certainty: str | None
    texts: list[dict[str, Any]]
    area_km2: float
    region_codes: list[str]
    opened_at: datetime
    updated_at: datetime
    expires_at: datetime | None
    version: int
    center_lon: float
    center_lat: float
    geometry: str
    area_to_confirm: bool = False


@dataclass(frozen=True)
class AreaRecord:
    description: str
    geocodes: list[list[str]]


@dataclass(frozen=True)
class AlertRecord:
    identifier: str
    sender: str
    sent: datetime
    msg_type: str
    status: str


@dataclass(frozen=True)
class RegionRecord:
    code: str
    name_kk: str
    name_ru: str
    name_en: str
    area_km2: float
    geometry: str


def _incident_columns() -> tuple[SQLCoreOperations[Any], ...]:
    center = cast(IncidentRow.center, Geometry(srid=4326))
    return (
        IncidentRow.id,
        IncidentRow.type,
        IncidentRow.priority,
        IncidentRow.status,
        IncidentRow.alert_status,
        IncidentRow.is_exercise,
        IncidentRow.source,
        IncidentRow.severity,
        IncidentRow.urgency,
        IncidentRow.certainty,
        IncidentRow.texts,
        IncidentRow.area_km2,
        IncidentRow.region_codes,
        IncidentRow.opened_at,
        IncidentRow.updated_at,
        IncidentRow.expires_at,
        IncidentRow.version,
        func.ST_X(center).label("center_lon"),
        func.ST_Y(center).label("center_lat"),
        func.ST_AsGeoJSON(IncidentRow.area, GEOJSON_DECIMALS).label("geometry"),
        IncidentRow.area_to_confirm,
    )


def _conditions(filters: IncidentFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.statuses:
        conditions.append(IncidentRow.status.in_(filters.statuses))
    if filters.types:
        conditions.append(IncidentRow.type.in_(filters.types))
    if filters.region_code is not None:
        conditions.append(literal(filters.region_code) == any_(IncidentRow.region_codes))
    if filters.opened_since is not None:
        conditions.append(IncidentRow.opened_at >= filters.opened_since)
    if not filters.include_exercises:
        conditions.append(IncidentRow.is_exercise.is_(False))
    if filters.bbox is not None:
        box = filters.bbox
        envelope = func.ST_Segmentize(
            func.ST_MakeEnvelope(box.min_lon, box.min_lat, box.max_lon, box.max_lat, 4326),
            ENVELOPE_SEGMENT_DEG,
        )
        conditions.append(
            func.ST_Intersects(IncidentRow.area, cast(envelope, Geography(srid=4326)))
        )
    return conditions


async def find_incidents(
    session: AsyncSession, filters: IncidentFilters, *, limit: int, offset: int
) -> list[IncidentRecord]:
    """The incidents matching every filter, newest first."""
    statement = (
        select(*_incident_columns())
        .where(*_conditions(filters))
        .order_by(IncidentRow.opened_at.desc(), IncidentRow.id.desc())
        .limit(limit)
        .offset(offset)
    )
    rows = await session.execute(statement)
    return [IncidentRecord(**row._asdict()) for row in rows]


async def get_incident(session: AsyncSession, incident_id: UUID) -> IncidentRecord:
    row = (
        await session.execute(select(*_incident_columns()).where(IncidentRow.id == incident_id))
    ).one_or_none()
    if row is None:
        raise IncidentNotFound(incident_id)
    return IncidentRecord(**row._asdict())


async def areas_of(session: AsyncSession, incident_id: UUID) -> list[AreaRecord]:
    rows = await session.execute(
        select(IncidentAreaRow.description, IncidentAreaRow.geocodes)
        .where(IncidentAreaRow.incident_id == incident_id)
        .order_by(IncidentAreaRow.id)
    )
    return [AreaRecord(**row._asdict()) for row in rows]


async def alerts_of(session: AsyncSession, incident_id: UUID) -> list[AlertRecord]:
    rows = await session.execute(
        select(
            AlertRow.identifier, AlertRow.sender, AlertRow.sent, AlertRow.msg_type, AlertRow.status
        )
        .where(AlertRow.incident_id == incident_id)
        .order_by(AlertRow.sent, AlertRow.received_at)
    )
    return [AlertRecord(**row._asdict()) for row in rows]


async def list_regions(session: AsyncSession) -> list[RegionRecord]:
    # ST_Multi: simplifying a one-part MultiPolygon may hand back a Polygon.
    simplified = func.ST_Multi(
        func.ST_SimplifyPreserveTopology(
            cast(RegionRow.boundary, Geometry(srid=4326)), REGION_SIMPLIFY_DEG
        )
    )
    rows = await session.execute(
        select(
            RegionRow.code,
            RegionRow.name_kk,
            RegionRow.name_ru,
            RegionRow.name_en,
            RegionRow.area_km2,
            func.ST_AsGeoJSON(simplified, GEOJSON_DECIMALS).label("geometry"),
        ).order_by(RegionRow.code)
    )
    return [RegionRecord(**row._asdict()) for row in rows]


@dataclass(frozen=True)
class SettlementRecord:
    geonameid: int
    name: str
    name_ru: str
    population: int
    region_code: str
    geometry: str


async def list_settlements(
    session: AsyncSession, region_code: str | None = None
) -> list[SettlementRecord]:
    """Settlements (largest first), of one region or all; points as GeoJSON text."""
    query = select(
        SettlementRow.geonameid,
        SettlementRow.name,
        SettlementRow.name_ru,
        SettlementRow.population,
        SettlementRow.region_code,
        func.ST_AsGeoJSON(
            cast(SettlementRow.location, Geometry(srid=4326)), GEOJSON_DECIMALS
        ).label("geometry"),
    ).order_by(SettlementRow.population.desc(), SettlementRow.geonameid)
    if region_code is not None:
        query = query.where(SettlementRow.region_code == region_code)
    return [SettlementRecord(**row._asdict()) for row in await session.execute(query)]


async def incident_regions(session: AsyncSession, incident_id: UUID) -> list[str]:
    """The regions an incident touches (empty if there is no such incident)."""
    codes = await session.scalar(
        select(IncidentRow.region_codes).where(IncidentRow.id == incident_id)
    )
    return list(codes or ())
