"""What the API answers, as pydantic models: the OpenAPI document is generated from them.

Geometry comes out of PostGIS as GeoJSON text and is written into the answer as it is, so the
geometry models here describe the wire and are not run on every coordinate.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.events.incidents import (
    AlertStatus,
    IncidentSource,
    IncidentStatus,
    IncidentType,
    LocalizedText,
    Priority,
)

Position = tuple[float, float]


class MultiPolygon(BaseModel):
    """RFC 7946 MultiPolygon: `[lon, lat]` positions, WGS 84, 6 decimals."""

    type: Literal["MultiPolygon"] = "MultiPolygon"
    coordinates: list[list[list[Position]]]


class IncidentProperties(BaseModel):
    model_config = ConfigDict(frozen=True)

    type: IncidentType
    priority: Priority
    status: IncidentStatus
    alert_status: AlertStatus
    is_exercise: bool = Field(description="Drills only: never a real call-out")
    source: IncidentSource
    severity: str | None
    urgency: str | None
    certainty: str | None
    headline: str | None = Field(
        description="In the requested language; else Kazakh, Russian, English, any"
    )
    event: str | None = Field(description="In the requested language, with the same fallback")
    texts: list[LocalizedText] = Field(description="Every language the sender wrote in")
    area_km2: float
    center: Position = Field(description="[lon, lat]")
    region_codes: list[str] = Field(description="ISO 3166-2, largest share of the area first")
    opened_at: datetime
    updated_at: datetime
    expires_at: datetime | None
    version: int


class IncidentArea(BaseModel):
    """One CAP `<area>` as the sender described it."""

    description: str
    geocodes: list[list[str]] = Field(description="[valueName, value] pairs")


class IncidentAlert(BaseModel):
    """A message that opened or changed the incident."""

    identifier: str
    sender: str
    sent: datetime
    msg_type: str
    status: str


class IncidentDetailProperties(IncidentProperties):
    areas: list[IncidentArea]
    alerts: list[IncidentAlert] = Field(description="Oldest first")


class IncidentFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: UUID
    geometry: MultiPolygon
    properties: IncidentProperties


class IncidentDetailFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: UUID
    geometry: MultiPolygon
    properties: IncidentDetailProperties


class IncidentCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[IncidentFeature]
    numberReturned: int  # noqa: N815 - the OGC API Features name


class RegionProperties(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str = Field(description="ISO 3166-2, e.g. KZ-39")
    name_kk: str
    name_ru: str
    name_en: str
    area_km2: float


class RegionFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: str
    geometry: MultiPolygon = Field(description="Simplified to about 1 km for a basemap")
    properties: RegionProperties


class RegionCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[RegionFeature]
    numberReturned: int  # noqa: N815 - the OGC API Features name


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    database: str
