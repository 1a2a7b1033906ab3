"""The live feed: what changed, for browsers' maps and tables, without anything personal.

The tracker reads `incidents.v1`, `mobilization.v1` and `tracking.v1` and publishes one `LiveChange` per event on
a Redis channel; every API process subscribes once and fans the changes out to its browsers' streams
(`GET /api/v1/live`), each filtered by who the browser signs in as. A change names the incident and
the kind of event and nothing else: a browser that hears of one reads what it may see of it through
the API, so the rules for personal data stay where they are (the routes), not here.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel, ConfigDict, ValidationError

from shared.events import topics
from shared.rejections import Rejected, describe

CHANNEL = "jedel:live:v1"

# The topics the feed tells of.
TOPICS = (topics.INCIDENTS, topics.MOBILIZATION, topics.TRACKING)


class Audience(StrEnum):
    """Who may hear of a change."""

    PUBLIC = "public"  # anyone, signed in or not (the public map of open incidents)
    OPERATORS = "operators"  # dispatchers and coordinators of the incident's regions, admins


class LiveChange(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    event_id: UUID
    kind: str
    incident_id: UUID
    occurred_at: datetime
    audience: Audience
    region_codes: tuple[str, ...] | None = None
    """The incident's regions when the event says them (incident facts); None: ask the database."""


class _Envelope(BaseModel):
    """The fields every event on the feed's topics shares (the rest is not read)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_id: UUID
    kind: str
    incident_id: UUID | None = None
    occurred_at: datetime
    region_codes: tuple[str, ...] | None = None


AUDIENCE_OF_TOPIC = {
    topics.INCIDENTS: Audience.PUBLIC,
    topics.MOBILIZATION: Audience.OPERATORS,
    topics.TRACKING: Audience.OPERATORS,  # who reached the scene: the group's business
}


def change_of(topic: str, data: bytes) -> LiveChange | None:
    """The change an event on `topic` makes to the live picture; None for one about no incident.

    Raises `Rejected` for bytes that are not an event (linear in their size)."""
    try:
        envelope = _Envelope.model_validate_json(data)
    except ValidationError as error:
        raise Rejected("invalid_event", describe(error)) from None
    if envelope.incident_id is None:
        return None
    return LiveChange(
        event_id=envelope.event_id,
        kind=envelope.kind,
        incident_id=envelope.incident_id,
        occurred_at=envelope.occurred_at,
        audience=AUDIENCE_OF_TOPIC[topic],
        region_codes=envelope.region_codes if topic == topics.INCIDENTS else None,
    )
