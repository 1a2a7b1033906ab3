"""What an alert says an incident is, before it touches the database (pure values)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shapely.geometry import MultiPolygon, Point

from shared.events.incidents import (
    AlertStatus,
    IncidentSource,
    IncidentType,
    LocalizedText,
    Priority,
    SenderTrust,
    SubjectSummary,
)


@dataclass(frozen=True)
class AreaPart:
    """One `<area>` as the sender described it, resolved to a shape."""

    description: str
    geocodes: tuple[tuple[str, str], ...]
    geometry: MultiPolygon
    # Set when the shape is a whole region named by its code: no need to intersect it again.
    region_codes: tuple[str, ...] | None = None


@dataclass(frozen=True)
class IncidentDraft:
    source: IncidentSource
    type: IncidentType
    priority: Priority
    alert_status: AlertStatus
    severity: str | None
    urgency: str | None
    certainty: str | None
    texts: tuple[LocalizedText, ...]
    parts: tuple[AreaPart, ...]
    area: MultiPolygon
    area_km2: float
    center: Point
    region_codes: tuple[str, ...]
    expires_at: datetime | None
    subject: SubjectSummary | None = None
    area_to_confirm: bool = False
    outside_service_area: bool = False
    sender_trust: SenderTrust = SenderTrust.REGISTERED

    @property
    def is_exercise(self) -> bool:
        return self.alert_status is AlertStatus.EXERCISE

    @property
    def announces(self) -> bool:
        """Only real alerts and drills reach `incidents.v1`; tests, system and drafts are just kept."""
        return self.alert_status in (AlertStatus.ACTUAL, AlertStatus.EXERCISE)

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now
