"""For a dispatcher: how an incident's group stands, and why each volunteer was or was not asked."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from services.api import callouts, field_tracks, queries, standing_groups
from services.api.auth import accounts
from services.api.auth.deps import OperatorDep
from services.api.auth.principals import Principal, may_operate
from services.api.deps import LanguageDep, PublisherDep, SessionDep, SettingsDep
from services.api.errors import Forbidden, GroupNotSteerable, VolunteerNotFound
from services.api.messages import message
from services.api.schemas import (
    ExplanationEntry,
    ExplanationList,
    GroupMemberState,
    MobilizationState,
    Outcome,
    Problem,
    RoleState,
)
from services.mobilizer.steering import widened_radius
from shared.events import topics
from shared.events.mobilization import (
    AskVolunteer,
    CallOffGroup,
    MobilizationStatus,
    OfferStatus,
    RaiseOfferBudget,
    ReleaseMember,
    WidenRadius,
)
from shared.events.tracking import FieldStatus
from shared.events.volunteers import Role

router = APIRouter(prefix="/api/v1/incidents", tags=["mobilization"])

NOT_MOBILISED: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Not signed in"},
    403: {"model": Problem, "description": "Not a dispatcher or coordinator of its regions"},
    404: {"model": Problem, "description": "The incident was never mobilised"},
}


async def _operable(
    session: SessionDep, principal: Principal, mobilization: callouts.MobilizationRecord
) -> None:
    """Refuse unless the caller works in a region the incident touches (or its group's)."""
    regions = await queries.incident_regions(session, mobilization.incident_id)
    if mobilization.region_code:
        regions.append(mobilization.region_code)
    if not may_operate(principal, regions):
        raise Forbidden("auth.other_region")


@router.get(
    "/{incident_id}/mobilization",
    response_model=MobilizationState,
    responses=NOT_MOBILISED,
    summary="The group being built for an incident: places, offers per role, members",
)
async def get_mobilization(
    incident_id: UUID, session: SessionDep, principal: OperatorDep
) -> MobilizationState:
    mobilization = await callouts.get_mobilization(session, incident_id)
    await _operable(session, principal, mobilization)
    tallies = await callouts.role_tallies(session, mobilization)
    people = await callouts.members(session, incident_id)
    await _viewed(session, principal, "mobilization", incident_id, (p.volunteer_id for p in people))
    return MobilizationState.model_validate(
        {
            "incident_id": mobilization.incident_id,
            "playbook": mobilization.playbook,
            "status": mobilization.status,
            "incident_type": mobilization.incident_type,
            "priority": mobilization.priority,
            "is_exercise": mobilization.is_exercise,
            "headline": mobilization.headline,
            "region_code": mobilization.region_code,
            "center": (round(mobilization.center_lon, 6), round(mobilization.center_lat, 6)),
            "radius_m": mobilization.radius_m,
            "wave": mobilization.wave,
            "started_at": mobilization.started_at,
            "deadline_at": mobilization.deadline_at,
            "next_wave_at": mobilization.next_wave_at,
            "understaffed_at": mobilization.understaffed_at,
            "completed_at": mobilization.completed_at,
            "closed_at": mobilization.closed_at,
            "offers": {
                "sent": mobilization.offers_sent,
                "budget": mobilization.offer_budget,
                "left": (
                    max(0, mobilization.offer_budget - mobilization.offers_sent)
                    if mobilization.offer_budget is not None
                    else None
                ),
            },
            "expected_complete_at": (
                mobilization.expected_complete_at
                if mobilization.status == MobilizationStatus.ACTIVE
                else None
            ),
            "roles": [
                RoleState.model_validate(
                    {
                        "role": tally.role,
                        "needed": tally.needed,
                        "asked": tally.asked,
                        "accepted": tally.accepted,
                        "declined": tally.declined,
                        "timed_out": tally.timed_out,
                        "stood_down": tally.stood_down,
                        "pending": tally.pending,
                        "open_places": tally.open_places,
                    }
                )
                for tally in tallies
            ],
            "members": [
                GroupMemberState.model_validate(member, from_attributes=True) for member in people
            ],
        }
    )


class MemberTrackView(BaseModel):
    model_config = ConfigDict(frozen=True)

    volunteer_id: UUID
    role: Role
    field_status: FieldStatus
    released: bool = Field(description="No longer in the group: their track ends here")
    track: list[tuple[float, float]] | None = Field(
        description="[lon, lat] from the first fix to the newest, simplified to ~10 m"
    )
    newest: tuple[float, float] = Field(description="[lon, lat] of their newest fix")
    newest_at: datetime
    points: int = Field(description="Fixes the track was drawn from")


class GroupTracks(BaseModel):
    incident_id: UUID
    members: list[MemberTrackView]


@router.get(
    "/{incident_id}/tracks",
    response_model=GroupTracks,
    responses=NOT_MOBILISED,
    summary="Where the group's members have been: each one's track and newest position",
)
async def get_group_tracks(
    incident_id: UUID, session: SessionDep, principal: OperatorDep
) -> GroupTracks:
    mobilization = await callouts.get_mobilization(session, incident_id)
    await _operable(session, principal, mobilization)
    tracks = await field_tracks.member_tracks(session, incident_id)
    await _viewed(session, principal, "tracks", incident_id, (t.volunteer_id for t in tracks))
    return GroupTracks(
        incident_id=incident_id,
        members=[MemberTrackView.model_validate(t, from_attributes=True) for t in tracks],
    )


class StandingMemberView(BaseModel):
    model_config = ConfigDict(frozen=True)

    volunteer_id: UUID
    name: str
    role: Role = Field(description="Their role in the standing group")
    on_call: bool
    distance_m: int = Field(description="From their home to the incident")
    offer_status: OfferStatus | None = Field(description="Asked already in this incident: how")


class StandingGroupView(BaseModel):
    model_config = ConfigDict(frozen=True)

    group_id: UUID
    name: str
    region_code: str
    is_pilot: bool
    own_region: bool = Field(description="The incident group's own region; else a neighbour")
    members: list[StandingMemberView]


@router.get(
    "/{incident_id}/standing-groups",
    response_model=list[StandingGroupView],
    responses=NOT_MOBILISED,
    summary="The standing mobile groups of the group's region and its neighbours, to ask by name",
)
async def list_standing_groups(
    incident_id: UUID, session: SessionDep, principal: OperatorDep
) -> list[StandingGroupView]:
    mobilization = await callouts.get_mobilization(session, incident_id)
    await _operable(session, principal, mobilization)
    if mobilization.region_code is None:
        return []
    groups = await standing_groups.standing_groups(session, incident_id, mobilization.region_code)
    await _viewed(
        session,
        principal,
        "standing_groups",
        incident_id,
        (m.volunteer_id for g in groups for m in g.members),
    )
    return [StandingGroupView.model_validate(g, from_attributes=True) for g in groups]


@router.get(
    "/{incident_id}/explanations",
    response_model=ExplanationList,
    responses=NOT_MOBILISED,
    summary="Why each volunteer considered was or was not asked: the asked first, then nearest",
)
async def list_explanations(
    incident_id: UUID,
    session: SessionDep,
    principal: OperatorDep,
    lang: Annotated[
        Literal["kk", "ru", "en"], Query(description="Language of `lines`; Kazakh unless set")
    ] = "kk",
    volunteer_id: Annotated[UUID | None, Query(description="Only this volunteer")] = None,
    outcome: Annotated[list[Outcome] | None, Query(description="Repeatable")] = None,
) -> ExplanationList:
    mobilization = await callouts.get_mobilization(session, incident_id)  # 404 if never mobilised
    await _operable(session, principal, mobilization)
    records = await callouts.explanations(
        session, incident_id, volunteer_id=volunteer_id, outcomes=outcome or ()
    )
    if volunteer_id is not None and not records and (not outcome or "not_considered" in outcome):
        # Asked about someone no wave looked at: say so, rather than an empty list.
        record = await callouts.not_considered(
            session, mobilization, volunteer_id, now=datetime.now(UTC)
        )
        if record is None:
            raise VolunteerNotFound(volunteer_id)
        records = [record]
    await _viewed(
        session, principal, "explanations", incident_id, (r.volunteer_id for r in records)
    )
    return ExplanationList(
        incident_id=incident_id,
        language=lang,
        explanations=[
            ExplanationEntry.model_validate(
                {
                    "volunteer_id": record.volunteer_id,
                    "name": record.name,
                    "outcome": record.outcome,
                    "role": record.role,
                    "wave": record.wave,
                    "eta_s": record.eta_s,
                    "distance_m": record.distance_m,
                    "p_accept": record.p_accept,
                    "reasons": record.reasons,
                    "lines": record.lines(lang),
                    "offer_status": record.offer_status,
                    "closed_reason": record.closed_reason,
                    "decided_at": record.decided_at,
                }
            )
            for record in records
        ],
    )


async def _viewed(
    session: SessionDep,
    principal: Principal,
    route: str,
    incident_id: UUID,
    volunteer_ids: Iterable[UUID],
) -> None:
    """Log that the caller was shown these people (names, distances from home), and commit it."""
    await accounts.log_view(
        session,
        principal,
        route=route,
        incident_id=incident_id,
        volunteer_ids=volunteer_ids,
        now=datetime.now(UTC),
    )
    await session.commit()


async def _steerable(
    session: SessionDep, principal: Principal, incident_id: UUID
) -> callouts.MobilizationRecord:
    """The incident's group, once the caller may steer it (404 never mobilised, 403 elsewhere)."""
    mobilization = await callouts.get_mobilization(session, incident_id)
    await _operable(session, principal, mobilization)
    return mobilization


SteeringCommand = RaiseOfferBudget | WidenRadius | AskVolunteer | ReleaseMember | CallOffGroup


async def _command(publisher: PublisherDep, command: SteeringCommand) -> None:
    """A dispatcher's command, for the mobilizer (`responses.v1`, keyed by the incident)."""
    await publisher.publish(topics.RESPONSES, key=command.incident_id, event=command)


class BudgetRaise(BaseModel):
    model_config = ConfigDict(extra="forbid")

    by: int = Field(ge=1, le=500, description="Offers to add to the incident's budget")


@router.post(
    "/{incident_id}/mobilization/budget",
    status_code=202,
    response_model=Problem,
    responses=NOT_MOBILISED,
    summary="Raise the incident's offer budget: its next wave may ask more people",
)
async def raise_offer_budget(
    incident_id: UUID,
    session: SessionDep,
    principal: OperatorDep,
    publisher: PublisherDep,
    language: LanguageDep,
    body: Annotated[BudgetRaise, Body()],
) -> Problem:
    await _steerable(session, principal, incident_id)
    await _command(
        publisher,
        RaiseOfferBudget(incident_id=incident_id, by=body.by, account_id=principal.account_id),
    )
    return Problem(detail=message("budget.raised", language, by=body.by))


NOT_A_MEMBER: dict[int | str, dict[str, Any]] = {
    **NOT_MOBILISED,
    404: {"model": Problem, "description": "Never mobilised, or the volunteer holds no place"},
}


@router.post(
    "/{incident_id}/mobilization/members/{volunteer_id}/release",
    status_code=202,
    response_model=Problem,
    responses=NOT_A_MEMBER,
    summary="Release a member from the group: they are told, and their place is asked for again",
)
async def release_member(
    incident_id: UUID,
    volunteer_id: UUID,
    session: SessionDep,
    principal: OperatorDep,
    publisher: PublisherDep,
    language: LanguageDep,
) -> Problem:
    await _steerable(session, principal, incident_id)
    held = await callouts.members(session, incident_id)
    if not any(m.volunteer_id == volunteer_id and m.released_at is None for m in held):
        raise VolunteerNotFound(volunteer_id)
    await _command(
        publisher,
        ReleaseMember(
            incident_id=incident_id, volunteer_id=volunteer_id, account_id=principal.account_id
        ),
    )
    return Problem(detail=message("member.released", language))


@router.post(
    "/{incident_id}/mobilization/call-off",
    status_code=202,
    response_model=Problem,
    responses=NOT_MOBILISED,
    summary="Call the group off: every offer withdrawn, every member told they can head back",
)
async def call_off_group(
    incident_id: UUID,
    session: SessionDep,
    principal: OperatorDep,
    publisher: PublisherDep,
    language: LanguageDep,
) -> Problem:
    await _steerable(session, principal, incident_id)
    await _command(
        publisher, CallOffGroup(incident_id=incident_id, account_id=principal.account_id)
    )
    return Problem(detail=message("group.called_off", language))


NOT_WIDENED: dict[int | str, dict[str, Any]] = {
    **NOT_MOBILISED,
    409: {"model": Problem, "description": "The group is not forming, or reaches 300 km already"},
}


@router.post(
    "/{incident_id}/mobilization/widen",
    status_code=202,
    response_model=Problem,
    responses=NOT_WIDENED,
    summary="Widen the group's radius (doubled, at most 300 km, into neighbouring regions)",
)
async def widen_group_radius(
    incident_id: UUID,
    session: SessionDep,
    principal: OperatorDep,
    publisher: PublisherDep,
    language: LanguageDep,
) -> Problem:
    mobilization = await _steerable(session, principal, incident_id)
    if mobilization.status != MobilizationStatus.ACTIVE:
        raise GroupNotSteerable("radius.not_forming")
    wider = widened_radius(mobilization.radius_m)
    if wider is None:
        raise GroupNotSteerable("radius.widest")
    await _command(publisher, WidenRadius(incident_id=incident_id, account_id=principal.account_id))
    return Problem(detail=message("radius.widened", language, km=wider // 1000))


class AskBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    volunteer_id: UUID
    role: Role


class AskAnswer(BaseModel):
    asked: bool | None = Field(description="True: offered; None: not decided yet (202)")
    detail: str
    lines: list[str] = Field(default_factory=list, description="Why not, when not asked")


NOT_ASKED: dict[int | str, dict[str, Any]] = {
    **NOT_MOBILISED,
    404: {"model": Problem, "description": "Never mobilised, or no such volunteer"},
    409: {
        "model": AskAnswer,
        "description": "Not forming, role filled, asked already, or not eligible (why, in `lines`)",
    },
}


@router.post(
    "/{incident_id}/mobilization/ask",
    response_model=AskAnswer,
    responses={**NOT_ASKED, 202: {"model": AskAnswer, "description": "Sent, not decided yet"}},
    summary="Ask one named volunteer for a place: an offer of their own, at once",
)
async def ask_named_volunteer(
    request: Request,
    incident_id: UUID,
    session: SessionDep,
    principal: OperatorDep,
    publisher: PublisherDep,
    settings: SettingsDep,
    language: LanguageDep,
    body: Annotated[AskBody, Body()],
) -> JSONResponse:
    mobilization = await _steerable(session, principal, incident_id)
    if mobilization.status != MobilizationStatus.ACTIVE:
        raise GroupNotSteerable("ask.not_forming")
    tallies = {t.role: t for t in await callouts.role_tallies(session, mobilization)}
    place = tallies.get(body.role.value)
    if place is None or place.accepted >= place.needed:
        raise GroupNotSteerable("ask.role_not_open")
    if not await callouts.volunteer_exists(session, body.volunteer_id):
        raise VolunteerNotFound(body.volunteer_id)
    if await callouts.offer_of(session, incident_id, body.volunteer_id) is not None:
        raise GroupNotSteerable("ask.already_asked")
    await session.commit()  # no transaction held while the mobilizer decides
    command = AskVolunteer(
        incident_id=incident_id,
        volunteer_id=body.volunteer_id,
        role=body.role,
        account_id=principal.account_id,
    )
    await _command(publisher, command)
    deadline = time.monotonic() + settings.api.answer_wait_s
    while True:
        # Decided once the mobilizer has taken the command (its inbox, in the same transaction
        # as the offer or the explanation of why not).
        if await callouts.command_handled(session, command.event_id):
            if await callouts.offer_of(session, incident_id, body.volunteer_id) is not None:
                answer = AskAnswer(asked=True, detail=message("ask.asked", language))
                return JSONResponse(answer.model_dump(mode="json"), status_code=200)
            found = await callouts.explanations(
                session, incident_id, volunteer_id=body.volunteer_id
            )
            answer = AskAnswer(
                asked=False,
                detail=message("ask.not_asked", language),
                lines=[line for record in found for line in record.lines(language)],
            )
            return JSONResponse(answer.model_dump(mode="json"), status_code=409)
        await session.commit()  # a fresh snapshot for the next look
        if time.monotonic() >= deadline:
            answer = AskAnswer(asked=None, detail=message("ask.sent", language))
            return JSONResponse(answer.model_dump(mode="json"), status_code=202)
        await asyncio.sleep(settings.api.answer_poll_interval_s)
