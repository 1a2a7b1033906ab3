"""Incident rows → the events that announce them on `incidents.v1`."""

from __future__ import annotations

from typing import TypeVar

from geoalchemy2.shape import to_shape
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from services.intake.tables import IncidentRow
from shared.events import topics
from shared.events.incidents import (
    AlertStatus,
    IncidentFacts,
    IncidentSource,
    IncidentStatus,
    IncidentType,
    LocalizedText,
    Priority,
    SenderTrust,
    SubjectSummary,
)
from shared.geo import GEOJSON_DECIMALS, to_geojson
from shared.outbox import OutgoingEvent

E = TypeVar("E", bound=IncidentFacts)


def announce(
    kind: type[E],
    row: IncidentRow,
    *,
    shapes: tuple[BaseGeometry, Point] | None = None,
    **extra: object,
) -> OutgoingEvent:
    """The event of `kind` for the incident as it now stands, keyed by incident id. `shapes`: its
    area and centre when the caller holds them as shapes (a draft just saved), instead of the
    row's WKB of them."""
    area, center = shapes or (to_shape(row.area), to_shape(row.center))
    event = kind(
        incident_id=row.id,
        type=IncidentType(row.type),
        priority=Priority(row.priority),
        status=IncidentStatus(row.status),
        alert_status=AlertStatus(row.alert_status),
        is_exercise=row.is_exercise,
        source=IncidentSource(row.source),
        severity=row.severity,
        urgency=row.urgency,
        certainty=row.certainty,
        texts=tuple(LocalizedText.model_validate(text) for text in row.texts),
        area=to_geojson(area, decimals=GEOJSON_DECIMALS),
        area_km2=round(row.area_km2, 3),
        center_lon=center.x,
        center_lat=center.y,
        region_codes=tuple(row.region_codes),
        opened_at=row.opened_at,
        expires_at=row.expires_at,
        subject=SubjectSummary.model_validate(row.subject) if row.subject else None,
        version=row.version,
        area_to_confirm=row.area_to_confirm,
        sender_trust=SenderTrust(row.sender_trust),
        **extra,
    )
    return OutgoingEvent(topic=topics.INCIDENTS, key=str(row.id), event=event)
