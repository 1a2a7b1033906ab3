"""Contracts of `mobilization.v1`, `responses.v1` and `notifications.v1`.

The mobilizer calls volunteers out in waves and says so on `mobilization.v1` (keyed by incident id);
volunteers answer on `responses.v1` (keyed by incident id); the notifier reports every delivery
attempt on `notifications.v1` (keyed by volunteer id).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.events.base import Event
from shared.events.incidents import IncidentType, Priority
from shared.events.volunteers import Role


class MobilizationStatus(StrEnum):
    """Where a mobilisation stands: asking, its group complete, or over (the incident ended)."""

    ACTIVE = "active"
    COMPLETE = "complete"
    CLOSED = "closed"


class OfferStatus(StrEnum):
    """What became of an offer."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    TIMED_OUT = "timed_out"
    STOOD_DOWN = "stood_down"


class StandDownReason(StrEnum):
    GROUP_COMPLETE = "group_complete"
    ROLE_FILLED = "role_filled"
    INCIDENT_CANCELLED = "incident_cancelled"
    INCIDENT_EXPIRED = "incident_expired"
    INCIDENT_RESOLVED = "incident_resolved"  # the missing person was found, or the report withdrawn
    GROUP_REDUCED = "group_reduced"  # the incident was downgraded: fewer places for the role
    COMMITTED_ELSEWHERE = "committed_elsewhere"
    CALLED_OFF = "called_off"  # a dispatcher called the group off (the incident may go on)
    RELEASED = "released"  # a dispatcher released this member from the group


class ResponseRefusal(StrEnum):
    """Why an answer changed nothing; each is told to the volunteer in their language."""

    UNKNOWN_OFFER = "unknown_offer"
    NOT_YOUR_OFFER = "not_your_offer"
    OFFER_CLOSED = "offer_closed"  # timed out, stood down, or the incident ended
    ALREADY_COMMITTED = "already_committed"  # committed to another incident
    ROLE_FILLED = "role_filled"  # the last place went to someone quicker


class MobilizationEvent(Event):
    incident_id: UUID


class MobilizationStarted(MobilizationEvent):
    kind: Literal["MobilizationStarted"] = "MobilizationStarted"
    playbook: str
    needed: dict[Role, int]
    deadline_at: datetime
    is_exercise: bool = False


class GroupResized(MobilizationEvent):
    """The incident changed (a CAP Update: worse, milder, another hazard): the group to build is
    now `needed`, under `playbook`. Places already accepted stay; offers for places no longer
    needed are stood down (`group_reduced`); new places are asked for in the next wave."""

    kind: Literal["GroupResized"] = "GroupResized"
    playbook: str
    needed: dict[Role, int]
    deadline_at: datetime
    previous_playbook: str


class WaveSent(MobilizationEvent):
    kind: Literal["WaveSent"] = "WaveSent"
    wave: int
    radius_m: int
    offers: dict[Role, int] = Field(description="offers sent in this wave, per role")
    offers_sent: int | None = Field(
        default=None, description="offers sent in this incident so far, this wave included"
    )
    offer_budget: int | None = Field(
        default=None,
        description="offers this incident may send in all (the dispatcher may raise it)",
    )
    expected_complete_at: datetime | None = Field(
        default=None,
        description="when the group is expected to be complete at the current pace; null: unknown",
    )


class VolunteerOffered(MobilizationEvent):
    """A volunteer is asked to join the group; they answer before `expires_at`."""

    kind: Literal["VolunteerOffered"] = "VolunteerOffered"
    offer_id: UUID
    volunteer_id: UUID
    role: Role
    wave: int
    eta_s: int
    distance_m: int
    expires_at: datetime
    language: str = Field(description="kk, ru or en: the volunteer's first language")
    contact_phone: str = Field(description="E.164")
    incident_type: IncidentType
    priority: Priority
    is_exercise: bool = False
    headline: str | None = None


class OfferAccepted(MobilizationEvent):
    kind: Literal["OfferAccepted"] = "OfferAccepted"
    offer_id: UUID
    volunteer_id: UUID
    role: Role
    eta_s: int


class OfferDeclined(MobilizationEvent):
    kind: Literal["OfferDeclined"] = "OfferDeclined"
    offer_id: UUID
    volunteer_id: UUID
    role: Role
    reason: str | None = None


class OfferTimedOut(MobilizationEvent):
    kind: Literal["OfferTimedOut"] = "OfferTimedOut"
    offer_id: UUID
    volunteer_id: UUID
    role: Role


class OfferStoodDown(MobilizationEvent):
    """An outstanding offer is withdrawn: the volunteer is no longer needed. With `was_member`,
    they had accepted (the incident ended): they may be on their way or on scene."""

    kind: Literal["OfferStoodDown"] = "OfferStoodDown"
    offer_id: UUID
    volunteer_id: UUID
    role: Role
    reason: StandDownReason
    language: str = "kk"
    contact_phone: str | None = None
    was_member: bool = False


class ResponseRefused(MobilizationEvent):
    """An answer that changed nothing (late, duplicate, already committed, place taken)."""

    kind: Literal["ResponseRefused"] = "ResponseRefused"
    offer_id: UUID
    volunteer_id: UUID
    reason: ResponseRefusal


class GroupMember(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    volunteer_id: UUID
    role: Role
    eta_s: int


class GroupCompleted(MobilizationEvent):
    kind: Literal["GroupCompleted"] = "GroupCompleted"
    members: tuple[GroupMember, ...]


class Shortfall(StrEnum):
    """Why a group will probably miss its deadline."""

    DEADLINE_PASSED = "deadline_passed"
    TOO_FEW_PEOPLE = "too_few_people"
    """Even everyone left who could arrive in time would probably not fill the places."""
    BUDGET_SPENT = "budget_spent"
    """There are people left, but the incident's offer budget does not reach them."""


class GroupUnderstaffed(MobilizationEvent):
    """The deadline cannot be met (or has passed) with the places still open: tell the dispatcher."""

    kind: Literal["GroupUnderstaffed"] = "GroupUnderstaffed"
    missing: dict[Role, int]
    deadline_at: datetime
    reason: str
    cause: Shortfall | None = None


class Answer(StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"


class RespondToOffer(Event):
    """A volunteer's answer (`responses.v1`, keyed by incident id), from the app or the API."""

    kind: Literal["RespondToOffer"] = "RespondToOffer"
    incident_id: UUID
    offer_id: UUID
    volunteer_id: UUID
    answer: Answer
    reason: str | None = None
    channel: str = "app"
    eta_s: int | None = Field(
        default=None,
        ge=60,
        le=86_400,
        description="With a yes: how long the volunteer says they need to get there (an SMS "
        "'ДА 20'); it replaces Jedel's estimate for their place in the group",
    )


class RaiseOfferBudget(Event):
    """A dispatcher lets an incident ask more people (`responses.v1`, keyed by incident id; the
    API writes it for a signed-in dispatcher of the incident's regions, named by account id)."""

    kind: Literal["RaiseOfferBudget"] = "RaiseOfferBudget"
    incident_id: UUID
    by: int = Field(ge=1, le=500, description="offers added to the incident's budget")
    account_id: UUID


class OfferBudgetRaised(MobilizationEvent):
    """The incident's offer budget is now `offer_budget`; the next wave is planned at once."""

    kind: Literal["OfferBudgetRaised"] = "OfferBudgetRaised"
    offer_budget: int
    offers_sent: int
    by: int
    account_id: UUID


class CallOffGroup(Event):
    """A dispatcher calls an incident's group off: every offer is withdrawn and every member told
    they can head back (`responses.v1`, keyed by incident id; written by the API for a signed-in
    dispatcher of the incident's regions)."""

    kind: Literal["CallOffGroup"] = "CallOffGroup"
    incident_id: UUID
    account_id: UUID


class GroupCalledOff(MobilizationEvent):
    """The group was called off by a dispatcher; its offers stood down (`OfferStoodDown`)."""

    kind: Literal["GroupCalledOff"] = "GroupCalledOff"
    account_id: UUID
    members_released: int


class ReleaseMember(Event):
    """A dispatcher releases one member from an incident's group: their place opens again and
    the next wave is planned at once (`responses.v1`, keyed by incident id)."""

    kind: Literal["ReleaseMember"] = "ReleaseMember"
    incident_id: UUID
    volunteer_id: UUID
    account_id: UUID


class MemberReleased(MobilizationEvent):
    """A member was released by a dispatcher (told by `OfferStoodDown`); `role` has a place open."""

    kind: Literal["MemberReleased"] = "MemberReleased"
    volunteer_id: UUID
    offer_id: UUID
    role: Role
    account_id: UUID


class AskVolunteer(Event):
    """A dispatcher asks one named volunteer for a place in `role` (`responses.v1`, keyed by
    incident id): an offer of its own, sent at once, if their training fits and they may be asked
    (the fatigue limits and rest that protect people from being asked too often by matching do
    not stop a dispatcher's own choice; their off duty and quiet hours do)."""

    kind: Literal["AskVolunteer"] = "AskVolunteer"
    incident_id: UUID
    volunteer_id: UUID
    role: Role
    account_id: UUID


class AskRefusal(StrEnum):
    NOT_FORMING = "not_forming"  # the group is complete or over
    ROLE_NOT_OPEN = "role_not_open"  # no open place in that role
    ALREADY_ASKED = "already_asked"  # asked already in this incident (answered or not)
    UNKNOWN_VOLUNTEER = "unknown_volunteer"
    NOT_ELIGIBLE = "not_eligible"  # why is in their explanation (certificates, off duty, …)


class VolunteerNotAsked(MobilizationEvent):
    """A dispatcher's `AskVolunteer` sent no offer, and why."""

    kind: Literal["VolunteerNotAsked"] = "VolunteerNotAsked"
    volunteer_id: UUID
    role: Role
    reason: AskRefusal
    findings: list[str] = Field(default_factory=list, description="Eligibility reason codes")
    account_id: UUID


class WidenRadius(Event):
    """A dispatcher lets an incident's group reach further: the radius doubles (at most
    `MAX_WIDENED_RADIUS_M`, past the playbook's own largest, into neighbouring regions) and the next
    wave is planned at once (`responses.v1`, keyed by incident id)."""

    kind: Literal["WidenRadius"] = "WidenRadius"
    incident_id: UUID
    account_id: UUID


class RadiusWidened(MobilizationEvent):
    """The group now reaches `radius_m` (was `previous_m`)."""

    kind: Literal["RadiusWidened"] = "RadiusWidened"
    radius_m: int
    previous_m: int
    account_id: UUID


class DeliveryStatus(StrEnum):
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"


class NotificationReported(Event):
    """One delivery attempt of an offer or stand-down (`notifications.v1`, keyed by volunteer)."""

    kind: Literal["NotificationReported"] = "NotificationReported"
    notification_id: UUID
    source_event_id: UUID
    incident_id: UUID
    offer_id: UUID
    volunteer_id: UUID
    channel: str
    status: DeliveryStatus
    attempt: int = 1
    detail: str | None = None


MobilizationMessage = (
    MobilizationStarted
    | WaveSent
    | VolunteerOffered
    | OfferAccepted
    | OfferDeclined
    | OfferTimedOut
    | OfferStoodDown
    | ResponseRefused
    | GroupCompleted
    | GroupUnderstaffed
)
