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
from shared.events.mobilization import MobilizationStatus, OfferStatus
from shared.events.tracking import FieldStatus
from shared.events.volunteers import Role

Position = tuple[float, float]


class MultiPolygon(BaseModel):
    """RFC 7946 MultiPolygon: `[lon, lat]` positions, WGS 84, 6 decimals."""

    type: Literal["MultiPolygon"] = "MultiPolygon"
    coordinates: list[list[list[Position]]]


class Point(BaseModel):
    """RFC 7946 Point: `[lon, lat]`, WGS 84."""

    type: Literal["Point"] = "Point"
    coordinates: Position


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
    area_to_confirm: bool = Field(
        default=False,
        description="The alert named places that could not be found with certainty: the area "
        "stands on the sender's regions or the places guessed, for a dispatcher to place",
    )


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


class SettlementProperties(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str = Field(description="As GeoNames spells it (Latin script)")
    name_ru: str
    population: int
    region_code: str = Field(description="ISO 3166-2 code of its region")


class SettlementFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: str = Field(description="GeoNames id")
    geometry: Point
    properties: SettlementProperties


class SettlementCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[SettlementFeature]
    numberReturned: int  # noqa: N815 - the OGC API Features name


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    database: str


class Readiness(BaseModel):
    """Whether the API can do all its work, and what it still waits for when it cannot."""

    ready: bool
    checks: dict[str, str] = Field(description='Each dependency: "ok", or why not')
    waiting_for: list[str] = Field(default_factory=list, description="The checks not ok")


class Problem(BaseModel):
    """An error, said in the language asked for by `Accept-Language` where a person reads it."""

    detail: str


class OfferAnswer(BaseModel):
    """A volunteer's answer; the body may be left out. Who answers comes from the sign-in."""

    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(
        default=None, max_length=500, description="Why not, for a decline (free text, optional)"
    )


class OfferAnswered(BaseModel):
    """The answer's outcome: in the group, declined, or queued (202) and decided shortly."""

    status: Literal[OfferStatus.ACCEPTED, OfferStatus.DECLINED, OfferStatus.PENDING]
    offer_id: UUID
    incident_id: UUID
    role: Role
    eta_s: int | None = Field(description="Estimated time of arrival, when accepted")
    message: str = Field(description="For the volunteer, in the language asked for")


class OfferRefused(BaseModel):
    """An answer that changed nothing: the call-out is closed, or the place went to another."""

    detail: str = Field(description="For the volunteer, in the language asked for")
    reason: Literal["role_filled", "already_committed", "offer_closed", "already_accepted"]
    offer_status: OfferStatus
    closed_reason: str | None = Field(
        description="Why a stood-down offer was withdrawn (group_complete, role_filled, ...)"
    )


class RoleState(BaseModel):
    role: Role
    needed: int
    asked: int = Field(description="Offers made for this role, in every state")
    accepted: int
    declined: int
    timed_out: int
    stood_down: int
    pending: int
    open_places: int


class GroupMemberState(BaseModel):
    volunteer_id: UUID
    name: str | None
    role: Role
    eta_s: int
    committed_at: datetime
    released_at: datetime | None = Field(
        description="Set when the incident ended, or a dispatcher released them from the group"
    )
    arrived_at: datetime | None = Field(
        default=None,
        description="When their phone showed them at the scene, or they said so (ETA closed)",
    )
    field_status: FieldStatus | None = Field(
        default=None, description="On the way, on scene or left: by their fixes or their word"
    )
    said_at: datetime | None = Field(
        default=None, description="When they last said where they are in the app"
    )


class OfferBudget(BaseModel):
    """How many people this incident may ask in all, and how many it has asked."""

    sent: int = Field(description="Offers sent so far, every wave")
    budget: int | None = Field(
        description="Offers the incident may send in all (the playbook's, or as raised by a "
        "dispatcher); null for mobilisations older than budgets"
    )
    left: int | None


class MobilizationState(BaseModel):
    """Where the group for an incident stands, for a dispatcher."""

    incident_id: UUID
    playbook: str
    status: MobilizationStatus
    incident_type: IncidentType
    priority: Priority
    is_exercise: bool
    headline: str | None
    region_code: str | None
    center: Position = Field(description="[lon, lat]")
    radius_m: int = Field(description="How far the waves have reached")
    wave: int = Field(description="Waves sent so far")
    started_at: datetime
    deadline_at: datetime
    next_wave_at: datetime | None
    understaffed_at: datetime | None = Field(description="When the dispatcher was warned")
    completed_at: datetime | None
    closed_at: datetime | None
    offers: OfferBudget
    expected_complete_at: datetime | None = Field(
        description="When the group should be complete at the current pace of asking; null "
        "when complete, closed, or not at this pace"
    )
    roles: list[RoleState] = Field(description="Leader first, in the order roles are declared")
    members: list[GroupMemberState]


Outcome = Literal[
    "asked", "not_eligible", "outside_radius", "too_late", "ranked_below", "not_considered"
]


class ExplanationEntry(BaseModel):
    volunteer_id: UUID
    name: str | None
    outcome: Outcome
    role: Role | None = Field(description="The role asked for, or the nearest to being asked")
    wave: int = Field(description="The wave that last considered them")
    eta_s: int | None
    distance_m: int | None = Field(
        description="As matching measured it; for people not eligible, from their home now"
    )
    p_accept: float | None = Field(description="Estimated chance they say yes, when asked")
    reasons: list[str] = Field(description="Stable codes of why not (minor, off_duty, ...)")
    lines: list[str] = Field(description="The explanation in the requested language")
    offer_status: OfferStatus | None = Field(description="What became of the offer, for the asked")
    closed_reason: str | None
    decided_at: datetime


class ExplanationList(BaseModel):
    incident_id: UUID
    language: Literal["kk", "ru", "en"]
    explanations: list[ExplanationEntry] = Field(description="The asked first, then by distance")
