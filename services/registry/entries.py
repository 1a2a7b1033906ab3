"""Kafka records → activity-log entries (pure): decode, check against the contract, stamp.

The registry records everything it can read. A known `kind` is read through its contract; one
that does not satisfy it (a newer producer's enum value, a producer bug) or a `kind` this registry
does not know yet is still recorded, verbatim, as long as it carries the envelope every event on
these topics shares: `event_id`, `occurred_at` and `incident_id`, with whatever volunteer, offer
and role it names. Anything less cannot be recorded and is refused (dead-lettered).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, ValidationError

from services.registry.redaction import without_personal_data
from shared.consumer import Position
from shared.events.base import Event
from shared.events.incidents import (
    IncidentCancelled,
    IncidentFacts,
    IncidentOpened,
    IncidentStatus,
    IncidentUpdated,
)
from shared.events.mobilization import (
    AskVolunteer,
    CallOffGroup,
    GroupCalledOff,
    GroupCompleted,
    GroupUnderstaffed,
    MemberReleased,
    MobilizationStarted,
    NotificationReported,
    OfferAccepted,
    OfferBudgetRaised,
    OfferDeclined,
    OfferStoodDown,
    OfferTimedOut,
    RadiusWidened,
    RaiseOfferBudget,
    ReleaseMember,
    RespondToOffer,
    ResponseRefused,
    VolunteerNotAsked,
    VolunteerOffered,
    WaveSent,
    WidenRadius,
)
from shared.rejections import Rejected, describe

log = logging.getLogger(__name__)


def kind_of(contract: type[Event]) -> str:
    """The `kind` a contract's events carry on the wire."""
    return str(contract.model_fields["kind"].default)


CONTRACTS: Mapping[str, type[Event]] = {
    kind_of(model): model
    for model in (
        IncidentOpened,
        IncidentUpdated,
        RaiseOfferBudget,
        OfferBudgetRaised,
        WidenRadius,
        RadiusWidened,
        AskVolunteer,
        VolunteerNotAsked,
        ReleaseMember,
        MemberReleased,
        CallOffGroup,
        GroupCalledOff,
        IncidentCancelled,
        MobilizationStarted,
        WaveSent,
        VolunteerOffered,
        OfferAccepted,
        OfferDeclined,
        OfferTimedOut,
        OfferStoodDown,
        ResponseRefused,
        GroupCompleted,
        GroupUnderstaffed,
        RespondToOffer,
        NotificationReported,
    )
}
MAX_KIND_LENGTH = 100
_MAX_ROLE_LENGTH = 40
_MAX_REGION_LENGTH = 8


class Envelope(BaseModel):
    """What every event must carry to be recorded, whatever its kind."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_id: UUID
    occurred_at: datetime
    incident_id: UUID


@dataclass(frozen=True)
class IncidentSnapshot:
    """What the registry keeps of an incident (`registry_incidents`)."""

    incident_id: UUID
    region_code: str | None
    region_codes: tuple[str, ...]
    type: str
    is_exercise: bool
    status: str
    opened_at: datetime
    closed_at: datetime | None
    version: int
    updated_at: datetime

    @classmethod
    def of(cls, event: IncidentFacts) -> IncidentSnapshot:
        closed = event.status is not IncidentStatus.OPEN
        # ISO 3166-2 codes of Kazakhstan are five characters; anything longer is not one.
        codes = tuple(code for code in event.region_codes if len(code) <= _MAX_REGION_LENGTH)
        return cls(
            incident_id=event.incident_id,
            region_code=codes[0] if codes else None,
            region_codes=codes,
            type=event.type.value,
            is_exercise=event.is_exercise,
            status=event.status.value,
            opened_at=_aware(event.opened_at),
            closed_at=_aware(event.occurred_at) if closed else None,
            version=event.version,
            updated_at=_aware(event.occurred_at),
        )


@dataclass(frozen=True)
class Stamp:
    """The incident facts an entry is stamped with."""

    region_code: str | None
    is_exercise: bool


@dataclass(frozen=True)
class Entry:
    """One row of `activity_log`, before it is written."""

    event_id: UUID
    kind: str
    occurred_at: datetime
    incident_id: UUID
    payload: dict[str, Any]
    topic: str | None
    partition: int | None
    offset: int | None
    offer_id: UUID | None = None
    volunteer_id: UUID | None = None
    role: str | None = None
    region_code: str | None = None
    is_exercise: bool | None = None
    incident: IncidentSnapshot | None = None

    def stamped(self, stamp: Stamp | None) -> Entry:
        """Fill what the event did not say itself from what is known of its incident."""
        if stamp is None:
            return self
        return replace(
            self,
            region_code=self.region_code or stamp.region_code,
            is_exercise=stamp.is_exercise if self.is_exercise is None else self.is_exercise,
        )

    def as_row(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "kind": self.kind,
            "occurred_at": self.occurred_at,
            "incident_id": self.incident_id,
            "offer_id": self.offer_id,
            "volunteer_id": self.volunteer_id,
            "role": self.role,
            "region_code": self.region_code,
            "is_exercise": self.is_exercise,
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "payload": self.payload,
        }


def decode(value: bytes, *, headers: Mapping[str, str], position: Position) -> Entry:
    """The entry a record becomes, without personal data (`redaction`); `Rejected` when it
    cannot be recorded."""
    entry = _decode(value, headers=headers, position=position)
    return replace(entry, payload=without_personal_data(entry.kind, entry.payload))


def _decode(value: bytes, *, headers: Mapping[str, str], position: Position) -> Entry:
    payload = _json_object(value)
    kind = payload.get("kind") or headers.get("event_type")
    if not isinstance(kind, str) or not kind.strip():
        raise Rejected(
            "no_kind", "neither the payload's `kind` nor the `event_type` header names it"
        )
    kind = kind.strip()
    if len(kind) > MAX_KIND_LENGTH:
        raise Rejected("no_kind", f"`kind` is {len(kind)} characters; at most {MAX_KIND_LENGTH}")
    contract = CONTRACTS.get(kind)
    if contract is None:
        return _from_envelope(kind, payload, position)
    try:
        event = contract.model_validate(payload)
    except ValidationError as error:
        # Refusing it would leave a real step out of the register; the log tells the producer.
        log.warning("%s breaks its contract (%s); recording its envelope", kind, describe(error))
        return _from_envelope(kind, payload, position)
    return _known_kind(kind, event, payload, position)


def latest_snapshots(snapshots: Iterable[IncidentSnapshot]) -> list[IncidentSnapshot]:
    """One snapshot per incident: the newest version, closed when any of them closed it first."""
    newest: dict[UUID, IncidentSnapshot] = {}
    first_closed: dict[UUID, datetime] = {}
    for snapshot in snapshots:
        current = newest.get(snapshot.incident_id)
        if current is None or (snapshot.version, snapshot.updated_at) >= (
            current.version,
            current.updated_at,
        ):
            newest[snapshot.incident_id] = snapshot
        if snapshot.closed_at is not None:
            earlier = first_closed.get(snapshot.incident_id)
            if earlier is None or snapshot.closed_at < earlier:
                first_closed[snapshot.incident_id] = snapshot.closed_at
    # In id order: concurrent writers then lock the same rows in the same order.
    return [
        replace(snapshot, closed_at=first_closed[incident_id])
        if snapshot.closed_at is not None
        else snapshot
        for incident_id, snapshot in sorted(newest.items())
    ]


def _known_kind(kind: str, event: Event, payload: dict[str, Any], position: Position) -> Entry:
    entry = Entry(
        event_id=event.event_id,
        kind=kind,
        occurred_at=_aware(event.occurred_at),
        incident_id=getattr(event, "incident_id"),  # noqa: B009 - every contract here has one
        payload=payload,
        topic=position.topic,
        partition=position.partition,
        offset=position.offset,
        offer_id=getattr(event, "offer_id", None),
        volunteer_id=getattr(event, "volunteer_id", None),
        role=_role(getattr(event, "role", None)),
    )
    if isinstance(event, IncidentFacts):
        snapshot = IncidentSnapshot.of(event)
        return replace(
            entry,
            region_code=snapshot.region_code,
            is_exercise=snapshot.is_exercise,
            incident=snapshot,
        )
    if isinstance(event, VolunteerOffered | MobilizationStarted):
        return replace(entry, is_exercise=event.is_exercise)
    return entry


def _from_envelope(kind: str, payload: dict[str, Any], position: Position) -> Entry:
    try:
        envelope = Envelope.model_validate(payload)
    except ValidationError as error:
        raise Rejected(
            "not_an_event", f"a {kind} without a readable envelope: {describe(error)}"
        ) from None
    return Entry(
        event_id=envelope.event_id,
        kind=kind,
        occurred_at=_aware(envelope.occurred_at),
        incident_id=envelope.incident_id,
        payload=payload,
        topic=position.topic,
        partition=position.partition,
        offset=position.offset,
        offer_id=_uuid_or_none(payload.get("offer_id")),
        volunteer_id=_uuid_or_none(payload.get("volunteer_id")),
        role=_role(payload.get("role")),
    )


def _json_object(value: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(value, parse_constant=_refuse_constant, parse_float=_finite_float)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise Rejected("invalid_json", f"not JSON: {error}"[:300]) from None
    if not isinstance(payload, dict):
        raise Rejected("invalid_json", f"a JSON {type(payload).__name__}, not an object")
    # What PostgreSQL's jsonb cannot hold is refused here, not discovered by a failing batch.
    if not _storable(payload):
        raise Rejected("invalid_json", "contains U+0000 or a lone surrogate; jsonb cannot hold it")
    return payload


def _storable(value: object) -> bool:
    if isinstance(value, str):
        if "\x00" in value:
            return False
        try:
            value.encode()
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, dict):
        return all(_storable(key) and _storable(item) for key, item in value.items())
    if isinstance(value, list):
        return all(_storable(item) for item in value)
    return True


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text} is out of range")
    return number


def _uuid_or_none(value: object) -> UUID | None:
    if not isinstance(value, str):
        return None
    try:
        return UUID(value)
    except ValueError:
        return None


def _role(value: object) -> str | None:
    role = str(value) if value is not None else None
    return role if role and len(role) <= _MAX_ROLE_LENGTH else None


def _aware(moment: datetime) -> datetime:
    # Producers stamp UTC; a naive time can only have meant UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
