"""Reads of the mobilizer's tables: an offer's state, a group's progress, and the explanations.

The mobilizer owns `mobilizations`, `offers`, `commitments` and `explanations`; the API and
`jedel explain` only read them. Names come from the API's own `volunteers`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from geoalchemy2 import Geography, Geometry
from sqlalchemy import Integer, and_, case, cast, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from services.api import messages
from services.api.answers import OfferState
from services.api.errors import MobilizationNotFound
from services.api.my_offers import OwnOffer
from services.api.tables import VolunteerRow
from services.intake.tables import IncidentRow
from services.mobilizer.explain import Explanation
from services.mobilizer.tables import INBOX as MOBILIZER_INBOX
from services.mobilizer.tables import CommitmentRow, ExplanationRow, MobilizationRow, OfferRow
from services.tracker.tables import DeploymentRow
from shared.events.mobilization import MobilizationStatus, OfferStatus
from shared.events.tracking import FieldStatus
from shared.events.volunteers import Role
from shared.i18n import LANGUAGES, Language

Reader = AsyncSession | AsyncConnection
OFFER_STATUSES = tuple(OfferStatus)


@dataclass(frozen=True)
class MobilizationRecord:
    incident_id: UUID
    playbook: str
    status: str
    incident_type: str
    priority: str
    is_exercise: bool
    headline: str | None
    region_code: str | None
    needed: dict[str, int]
    radius_m: int
    wave: int
    started_at: datetime
    deadline_at: datetime
    next_wave_at: datetime | None
    understaffed_at: datetime | None
    completed_at: datetime | None
    closed_at: datetime | None
    center_lon: float
    center_lat: float
    offer_budget: int | None = None
    offers_sent: int = 0
    expected_complete_at: datetime | None = None


@dataclass(frozen=True)
class RoleTally:
    """How one role of the group stands: places, and the offers made for it by their state."""

    role: str
    needed: int
    pending: int = 0
    accepted: int = 0
    declined: int = 0
    timed_out: int = 0
    stood_down: int = 0

    @property
    def asked(self) -> int:
        return self.pending + self.accepted + self.declined + self.timed_out + self.stood_down

    @property
    def open_places(self) -> int:
        return max(0, self.needed - self.accepted)


@dataclass(frozen=True)
class MemberRecord:
    volunteer_id: UUID
    name: str | None
    role: str
    eta_s: int
    committed_at: datetime
    released_at: datetime | None
    arrived_at: datetime | None
    field_status: FieldStatus | None = None
    said_at: datetime | None = None


@dataclass(frozen=True)
class ExplanationRecord:
    volunteer_id: UUID
    name: str | None
    wave: int
    outcome: str
    role: str | None
    eta_s: int | None
    distance_m: int | None
    p_accept: float | None
    reasons: list[str]
    decided_at: datetime
    offer_status: str | None
    closed_reason: str | None
    findings: list[dict[str, Any]] = field(default_factory=list)
    rank: int | None = None
    asked_count: int | None = None
    radius_m: int | None = None
    latest_eta_s: int | None = None
    text: dict[str, list[str]] | None = None
    """Already rendered lines per language (rows written before migration 0008, and
    `not_considered`): used as they are."""

    def lines(self, language: Language) -> list[str]:
        """The explanation in `language`."""
        if self.text is not None:
            for candidate in (language, *LANGUAGES, *self.text):
                if self.text.get(candidate):
                    return list(self.text[candidate])
            return []
        explanation = Explanation.from_stored(
            self.volunteer_id,
            outcome=self.outcome,
            wave=self.wave,
            role=self.role,
            eta_s=self.eta_s,
            distance_m=self.distance_m,
            p_accept=self.p_accept,
            rank=self.rank,
            asked_count=self.asked_count,
            radius_m=self.radius_m,
            findings=self.findings,
            latest_eta_s=self.latest_eta_s,
        )
        return list(explanation.lines(language))


async def not_considered(
    db: Reader, mobilization: MobilizationRecord, volunteer_id: UUID, *, now: datetime
) -> ExplanationRecord | None:
    """Why a volunteer no wave looked at was not asked; None if there is no such volunteer."""
    center = func.ST_SetSRID(
        func.ST_MakePoint(mobilization.center_lon, mobilization.center_lat), 4326
    )
    row = (
        await db.execute(
            select(
                VolunteerRow.full_name,
                cast(
                    func.round(func.ST_Distance(VolunteerRow.home, cast(center, Geography))),
                    Integer,
                ),
            ).where(VolunteerRow.id == volunteer_id)
        )
    ).one_or_none()
    if row is None:
        return None
    name, distance_m = row
    return ExplanationRecord(
        volunteer_id=volunteer_id,
        name=name,
        wave=mobilization.wave,
        outcome="not_considered",
        role=None,
        eta_s=None,
        distance_m=distance_m,
        p_accept=None,
        reasons=[],
        text={
            language: [messages.message("explanation.not_considered", language)]
            for language in LANGUAGES
        },
        decided_at=now,
        offer_status=None,
        closed_reason=None,
    )


async def offer_state(db: Reader, offer_id: UUID) -> OfferState | None:
    row = (
        await db.execute(
            select(
                OfferRow.id.label("offer_id"),
                OfferRow.incident_id,
                OfferRow.volunteer_id,
                OfferRow.role,
                OfferRow.status,
                OfferRow.closed_reason,
                OfferRow.eta_s,
                MobilizationRow.status.label("mobilization_status"),
                OfferRow.expires_at,
            )
            .join(MobilizationRow, MobilizationRow.incident_id == OfferRow.incident_id)
            .where(OfferRow.id == offer_id)
        )
    ).one_or_none()
    return None if row is None else OfferState(**row._asdict())


async def get_mobilization(db: Reader, incident_id: UUID) -> MobilizationRecord:
    center = cast(MobilizationRow.center, Geometry(srid=4326))
    row = (
        await db.execute(
            select(
                MobilizationRow.incident_id,
                MobilizationRow.playbook,
                MobilizationRow.status,
                MobilizationRow.incident_type,
                MobilizationRow.priority,
                MobilizationRow.is_exercise,
                MobilizationRow.headline,
                MobilizationRow.region_code,
                MobilizationRow.needed,
                MobilizationRow.radius_m,
                MobilizationRow.wave,
                MobilizationRow.started_at,
                MobilizationRow.deadline_at,
                MobilizationRow.next_wave_at,
                MobilizationRow.understaffed_at,
                MobilizationRow.completed_at,
                MobilizationRow.closed_at,
                func.ST_X(center).label("center_lon"),
                func.ST_Y(center).label("center_lat"),
                MobilizationRow.offer_budget,
                MobilizationRow.offers_sent,
                MobilizationRow.expected_complete_at,
            ).where(MobilizationRow.incident_id == incident_id)
        )
    ).one_or_none()
    if row is None:
        raise MobilizationNotFound(incident_id)
    return MobilizationRecord(**row._asdict())


async def operating_regions(db: Reader, incident_id: UUID) -> list[str]:
    """The regions whose operators act on an incident: those its area touches, and its group's."""
    codes = await db.scalar(select(IncidentRow.region_codes).where(IncidentRow.id == incident_id))
    group = await db.scalar(
        select(MobilizationRow.region_code).where(MobilizationRow.incident_id == incident_id)
    )
    return [*(codes or ()), *([group] if group else [])]


async def role_tallies(db: Reader, mobilization: MobilizationRecord) -> list[RoleTally]:
    rows = await db.execute(
        select(OfferRow.role, OfferRow.status, func.count().label("offers"))
        .where(OfferRow.incident_id == mobilization.incident_id)
        .group_by(OfferRow.role, OfferRow.status)
    )
    return tally(mobilization.needed, {(row.role, row.status): row.offers for row in rows})


def tally(needed: Mapping[str, int], offers: Mapping[tuple[str, str], int]) -> list[RoleTally]:
    """Per role, the places and the offers by state (`offers` counts per (role, status)).

    Roles come in the order `Role` declares them (leader first), whatever order the stored
    JSON keeps; a role with offers but no places (a playbook changed under way) still shows.
    """
    roles = set(needed) | {role for role, _ in offers}
    order = {role.value: position for position, role in enumerate(Role)}
    tallies = []
    for role in sorted(roles, key=lambda name: (order.get(name, len(order)), name)):
        counts = {status: offers.get((role, status), 0) for status in OFFER_STATUSES}
        tallies.append(RoleTally(role=role, needed=needed.get(role, 0), **counts))
    return tallies


async def members(db: Reader, incident_id: UUID) -> list[MemberRecord]:
    """Everyone who took a place, with when they were released if the group stood down, and when
    they reached the scene.

    The arrival is the tracker's (its deployment row, committed before it tells `tracking.v1`)
    until the mobilizer has closed the member's ETA with it: a console told of the arrival by the
    live feed reads it at once, whichever of the two services the feed outran."""
    rows = await db.execute(
        select(
            CommitmentRow.volunteer_id,
            VolunteerRow.full_name.label("name"),
            CommitmentRow.role,
            CommitmentRow.eta_s,
            CommitmentRow.committed_at,
            CommitmentRow.released_at,
            func.coalesce(CommitmentRow.arrived_at, DeploymentRow.arrived_at).label("arrived_at"),
            DeploymentRow.status.label("field_status"),
            DeploymentRow.reported_at.label("said_at"),
        )
        .outerjoin(VolunteerRow, VolunteerRow.id == CommitmentRow.volunteer_id)
        .outerjoin(
            DeploymentRow,
            and_(
                DeploymentRow.incident_id == CommitmentRow.incident_id,
                DeploymentRow.volunteer_id == CommitmentRow.volunteer_id,
                DeploymentRow.offer_id == CommitmentRow.offer_id,
            ),
        )
        .where(CommitmentRow.incident_id == incident_id)
        .order_by(CommitmentRow.role, CommitmentRow.eta_s, CommitmentRow.volunteer_id)
    )
    return [
        MemberRecord(
            **row._asdict()
            | {"field_status": FieldStatus(row.field_status) if row.field_status else None}
        )
        for row in rows
    ]


async def explanations(
    db: Reader,
    incident_id: UUID,
    *,
    volunteer_id: UUID | None = None,
    outcomes: Sequence[str] = (),
) -> list[ExplanationRecord]:
    """One entry per volunteer considered: the asked first, then everyone by distance.

    `distance_m` is what matching recorded; people it found not eligible have none recorded, so
    theirs is measured from their home now (for ordering and for the dispatcher alike).
    """
    measured = cast(
        func.round(func.ST_Distance(VolunteerRow.home, MobilizationRow.center)), Integer
    )
    distance = func.coalesce(ExplanationRow.distance_m, measured)
    conditions: list[Any] = [ExplanationRow.incident_id == incident_id]
    if volunteer_id is not None:
        conditions.append(ExplanationRow.volunteer_id == volunteer_id)
    if outcomes:
        conditions.append(ExplanationRow.outcome.in_(outcomes))
    rows = await db.execute(
        select(
            ExplanationRow.volunteer_id,
            VolunteerRow.full_name.label("name"),
            ExplanationRow.wave,
            ExplanationRow.outcome,
            ExplanationRow.role,
            ExplanationRow.eta_s,
            distance.label("distance_m"),
            ExplanationRow.p_accept,
            ExplanationRow.reasons,
            ExplanationRow.findings,
            ExplanationRow.rank,
            ExplanationRow.asked_count,
            ExplanationRow.radius_m,
            ExplanationRow.latest_eta_s,
            ExplanationRow.text,
            ExplanationRow.decided_at,
            OfferRow.status.label("offer_status"),
            OfferRow.closed_reason,
        )
        .join(MobilizationRow, MobilizationRow.incident_id == ExplanationRow.incident_id)
        .outerjoin(VolunteerRow, VolunteerRow.id == ExplanationRow.volunteer_id)
        .outerjoin(
            OfferRow,
            (OfferRow.incident_id == ExplanationRow.incident_id)
            & (OfferRow.volunteer_id == ExplanationRow.volunteer_id),
        )
        .where(*conditions)
        .order_by(
            case((ExplanationRow.outcome == "asked", 0), else_=1),
            distance.asc().nulls_last(),
            ExplanationRow.volunteer_id,
        )
    )
    return [ExplanationRecord(**row._asdict()) for row in rows]


@dataclass(frozen=True, slots=True)
class OfferCard:
    """An offer as its answer page shows it."""

    state: OfferState
    headline: str | None
    is_exercise: bool
    language: str
    headlines: dict[str, str] = field(default_factory=dict)
    """The incident's headline per language, where the alert gave one."""

    def headline_in(self, language: str) -> str | None:
        return self.headlines.get(language) or self.headline


async def offer_card(db: Reader, offer_id: UUID) -> OfferCard | None:
    row = (
        await db.execute(
            select(
                OfferRow.id.label("offer_id"),
                OfferRow.incident_id,
                OfferRow.volunteer_id,
                OfferRow.role,
                OfferRow.status,
                OfferRow.closed_reason,
                OfferRow.eta_s,
                MobilizationRow.status.label("mobilization_status"),
                OfferRow.expires_at,
                MobilizationRow.headline,
                MobilizationRow.is_exercise,
                OfferRow.language,
                IncidentRow.texts,
            )
            .join(MobilizationRow, MobilizationRow.incident_id == OfferRow.incident_id)
            .outerjoin(IncidentRow, IncidentRow.id == OfferRow.incident_id)
            .where(OfferRow.id == offer_id)
        )
    ).one_or_none()
    if row is None:
        return None
    facts = row._asdict()
    card = {name: facts.pop(name) for name in ("headline", "is_exercise", "language")}
    headlines = {
        str(text["language"]): str(text["headline"])
        for text in facts.pop("texts") or ()
        if text.get("language") and text.get("headline")
    }
    return OfferCard(state=OfferState(**facts), headlines=headlines, **card)


async def own_offers(
    db: Reader, volunteer_id: UUID, *, since: datetime, limit: int = 20
) -> list[OwnOffer]:
    """A volunteer's offers made since `since`, newest first (what `reveal` is then applied to)."""
    center = cast(MobilizationRow.center, Geometry(srid=4326))
    rows = (
        await db.execute(
            select(
                OfferRow.id.label("offer_id"),
                OfferRow.incident_id,
                OfferRow.role,
                MobilizationRow.incident_type,
                OfferRow.status,
                MobilizationRow.status.label("mobilization_status"),
                MobilizationRow.is_exercise,
                MobilizationRow.headline,
                OfferRow.distance_m,
                OfferRow.eta_s,
                OfferRow.offered_at,
                OfferRow.expires_at,
                OfferRow.responded_at,
                OfferRow.closed_reason,
                DeploymentRow.status.label("field_status"),
                func.ST_X(center).label("lon"),
                func.ST_Y(center).label("lat"),
            )
            .join(MobilizationRow, MobilizationRow.incident_id == OfferRow.incident_id)
            .outerjoin(
                DeploymentRow,
                and_(
                    DeploymentRow.offer_id == OfferRow.id,
                    DeploymentRow.volunteer_id == OfferRow.volunteer_id,
                    DeploymentRow.released_at.is_(None),
                ),
            )
            .where(OfferRow.volunteer_id == volunteer_id, OfferRow.offered_at >= since)
            .order_by(OfferRow.offered_at.desc())
            .limit(limit)
        )
    ).all()
    offers = []
    for row in rows:
        facts = row._asdict()
        point = (round(float(facts.pop("lon")), 6), round(float(facts.pop("lat")), 6))
        facts["status"] = OfferStatus(facts["status"])
        facts["mobilization_status"] = MobilizationStatus(facts["mobilization_status"])
        facts["field_status"] = (
            FieldStatus(facts["field_status"]) if facts["field_status"] else None
        )
        offers.append(OwnOffer(**facts, meeting_point=point))
    return offers


async def volunteer_exists(db: Reader, volunteer_id: UUID) -> bool:
    found = await db.scalar(select(VolunteerRow.id).where(VolunteerRow.id == volunteer_id))
    return found is not None


async def offer_of(db: Reader, incident_id: UUID, volunteer_id: UUID) -> UUID | None:
    """The volunteer's offer in this incident, if they were ever asked (one per incident)."""
    return await db.scalar(
        select(OfferRow.id)
        .where(OfferRow.incident_id == incident_id, OfferRow.volunteer_id == volunteer_id)
        .limit(1)
    )


async def command_handled(db: Reader, event_id: UUID) -> bool:
    """Whether the mobilizer has taken a dispatcher's command (its inbox holds the event id)."""
    table = MOBILIZER_INBOX.table
    found = await db.scalar(select(table.c.event_id).where(table.c.event_id == event_id))
    return found is not None
