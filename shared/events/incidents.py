"""Contracts of `incidents.v1`: what the intake says about incidents."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.events.base import Event


class IncidentType(StrEnum):
    FLOOD = "flood"
    WILDFIRE = "wildfire"
    BLIZZARD = "blizzard"
    MUDFLOW = "mudflow"
    EARTHQUAKE = "earthquake"
    BUILDING_COLLAPSE = "building_collapse"
    MISSING_PERSON = "missing_person"
    THUNDERSTORM = "thunderstorm"
    WIND = "wind"
    HEAT = "heat"
    COLD = "cold"
    DUST_STORM = "dust_storm"
    AVALANCHE = "avalanche"
    ICE = "ice"  # black ice and freezing rain; an ice jam on a river is a flood
    LANDSLIDE = "landslide"
    OTHER = "other"


class Priority(StrEnum):
    """How fast a group must be on its way; `critical` first."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class IncidentStatus(StrEnum):
    OPEN = "open"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    RESOLVED = "resolved"  # the search ended (missing-person reports)
    # wholly outside Kazakhstan: recorded and announced, never mobilised
    OUTSIDE_SERVICE_AREA = "outside_service_area"


class SenderTrust(StrEnum):
    """How far the intake trusts who sent the alert."""

    REGISTERED = "registered"  # in the sender registry, alerting where it may
    SIGNED = "signed"  # registered, and its XML signature verified against the registry's key
    UNVERIFIED = "unverified"  # not in the registry, accepted because the configuration says so


class AlertStatus(StrEnum):
    """CAP `<status>`; anything but `Actual` never mobilises anyone for real."""

    ACTUAL = "Actual"
    EXERCISE = "Exercise"
    SYSTEM = "System"
    TEST = "Test"
    DRAFT = "Draft"


class IncidentSource(StrEnum):
    CAP = "cap"
    MISSING_PERSON = "missing_person"


class LocalizedText(BaseModel):
    """One language's wording of an alert (CAP `<info>`): kk, ru or en first, any other kept."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    language: str
    event: str
    headline: str | None = None
    description: str | None = None
    instruction: str | None = None


class SubjectSummary(BaseModel):
    """What a searcher needs to know of a missing person."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    category: str
    age_years: int
    last_seen_at: datetime
    last_seen_lon: float
    last_seen_lat: float


class IncidentFacts(Event):
    """What every incident event carries: the incident as it now stands."""

    incident_id: UUID
    type: IncidentType
    priority: Priority
    status: IncidentStatus
    alert_status: AlertStatus
    is_exercise: bool = Field(
        description="True for Exercise alerts: drills only, never real call-outs"
    )
    source: IncidentSource
    severity: str | None = None
    urgency: str | None = None
    certainty: str | None = None
    texts: tuple[LocalizedText, ...] = ()
    area: dict[str, Any] = Field(description="RFC 7946 MultiPolygon, lon/lat")
    area_km2: float
    center_lon: float
    center_lat: float
    region_codes: tuple[str, ...] = Field(
        description="ISO 3166-2 codes the area touches, largest share first"
    )
    area_to_confirm: bool = Field(
        default=False,
        description="The area was named ambiguously or not found: a dispatcher must place it",
    )
    sender_trust: SenderTrust = SenderTrust.REGISTERED
    opened_at: datetime
    expires_at: datetime | None = None
    subject: SubjectSummary | None = None
    version: int = Field(default=1, description="Grows with every change; ignore older versions")


class IncidentOpened(IncidentFacts):
    """A new incident: mobilisation may start (unless `is_exercise`)."""

    kind: Literal["IncidentOpened"] = "IncidentOpened"


class IncidentUpdated(IncidentFacts):
    """The incident changed: a CAP Update, a newer report, or it expired."""

    kind: Literal["IncidentUpdated"] = "IncidentUpdated"


class IncidentCancelled(IncidentFacts):
    """The sender withdrew the alert: stand everyone down."""

    kind: Literal["IncidentCancelled"] = "IncidentCancelled"
    reason: str | None = None


IncidentEvent = IncidentOpened | IncidentUpdated | IncidentCancelled
