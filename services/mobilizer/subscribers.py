"""The mobilizer's subscribers: incidents start and end mobilisations, answers fill places."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from faststream import AckPolicy
from faststream.kafka import KafkaMessage, KafkaRouter
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.mobilizer.backlog import Backlog, Workload
from services.mobilizer.closing import close
from services.mobilizer.dispatch import Decisions, Matching, start
from services.mobilizer.responses import respond
from services.mobilizer.revising import revise
from services.mobilizer.settings import MobilizerSettings
from services.mobilizer.steering import (
    ask_volunteer,
    call_off,
    raise_budget,
    release_member,
    widen_radius,
)
from services.mobilizer.tables import INBOX, OUTBOX
from shared.consumer import Consumer, Lanes, Position
from shared.events import topics
from shared.events.incidents import (
    IncidentCancelled,
    IncidentEvent,
    IncidentOpened,
    IncidentStatus,
    IncidentUpdated,
)
from shared.events.mobilization import (
    AskVolunteer,
    CallOffGroup,
    RaiseOfferBudget,
    ReleaseMember,
    RespondToOffer,
    StandDownReason,
    WidenRadius,
)
from shared.events.tracking import VolunteerArrived
from shared.kafka import subscriber_options
from shared.rejections import Rejected, describe

log = logging.getLogger(__name__)

# How long one poll waits for records when none come (they are handed over as soon as they
# arrive, whatever this is: `shared.kafka.prompt_batch_poll`); longer polls cost an idle
# mobilizer less.
BATCH_POLL_MS = 100
INCIDENT_EVENTS: TypeAdapter[IncidentEvent] = TypeAdapter(IncidentEvent)
ENDED = {
    IncidentStatus.CANCELLED: StandDownReason.INCIDENT_CANCELLED,
    IncidentStatus.EXPIRED: StandDownReason.INCIDENT_EXPIRED,
    IncidentStatus.RESOLVED: StandDownReason.INCIDENT_RESOLVED,
    # An Update that moves the area out of Kazakhstan: called off, as far as volunteers go.
    IncidentStatus.OUTSIDE_SERVICE_AREA: StandDownReason.INCIDENT_CANCELLED,
}


@dataclass(frozen=True)
class MobilizerContext:
    settings: MobilizerSettings
    sessionmaker: async_sessionmaker[AsyncSession]
    matching: Matching
    consumer: Consumer
    clock: Callable[[], datetime]
    workload: Workload
    """Whether an incident or answer is in hand: explanations and re-plans wait."""
    explanations: Backlog
    """First waves' explanations, written once the incidents let up."""
    lanes: list[Lanes] = field(default_factory=list)
    """The subscribers' lanes (`build_router` adds them), drained when the service stops."""


def decode_incident(data: bytes) -> IncidentEvent:
    try:
        return INCIDENT_EVENTS.validate_json(data)
    except ValidationError as error:
        raise Rejected("invalid_event", describe(error)) from None


DispatcherCommand = RaiseOfferBudget | WidenRadius | AskVolunteer | ReleaseMember | CallOffGroup
Command = RespondToOffer | DispatcherCommand
# A dispatcher's commands by kind; anything else on `responses.v1` is read as a volunteer's answer.
DISPATCHER_COMMANDS: dict[str, type[DispatcherCommand]] = {
    "RaiseOfferBudget": RaiseOfferBudget,
    "WidenRadius": WidenRadius,
    "AskVolunteer": AskVolunteer,
    "ReleaseMember": ReleaseMember,
    "CallOffGroup": CallOffGroup,
}


def decode_answer(data: bytes) -> Command:
    """A volunteer's answer or a dispatcher's command (`responses.v1` carries both)."""
    try:
        payload = json.loads(data)
    except ValueError as error:
        raise Rejected("invalid_event", f"not JSON: {error}") from None
    kind = payload.get("kind") if isinstance(payload, dict) else None
    command: type[Command] = (
        DISPATCHER_COMMANDS.get(kind, RespondToOffer) if isinstance(kind, str) else RespondToOffer
    )
    try:
        return command.model_validate(payload)
    except ValidationError as error:
        raise Rejected("invalid_event", describe(error)) from None


def decode_arrival(data: bytes) -> VolunteerArrived | None:
    """A volunteer reaching the scene; None for the other events of `tracking.v1`."""
    try:
        payload = json.loads(data)
    except ValueError as error:
        raise Rejected("invalid_event", f"not JSON: {error}") from None
    if not isinstance(payload, dict) or payload.get("kind") != "VolunteerArrived":
        return None
    try:
        return VolunteerArrived.model_validate(payload)
    except ValidationError as error:
        raise Rejected("invalid_event", describe(error)) from None


_ARRIVED = text(
    "UPDATE commitments SET arrived_at = :at "
    "WHERE offer_id = :offer AND released_at IS NULL AND arrived_at IS NULL"
)


def build_router(ctx: MobilizerContext) -> KafkaRouter:
    router = KafkaRouter()
    options = subscriber_options(ctx.settings.kafka)
    group_id = ctx.settings.mobilizer.group_id
    concurrency = ctx.settings.mobilizer.concurrency
    batch_size = ctx.settings.mobilizer.batch_size

    async def on_incident(data: bytes, position: Position) -> Decisions:
        # Why each person was or was not asked waits until the incidents let up: under a burst
        # the last incident's offers would otherwise wait for everyone's explanations.
        with ctx.workload.busy():
            decisions = await _on_incident(data)
        ctx.explanations.add(decisions.unexplained)  # committed
        return decisions

    async def _on_incident(data: bytes) -> Decisions:
        event = decode_incident(data)
        now = ctx.clock()
        async with ctx.sessionmaker() as session, session.begin():
            if not await INBOX.first_time(session, event.event_id):
                return Decisions()
            if isinstance(event, IncidentOpened):
                # Drills are announced but never call real people out.
                if event.is_exercise or event.status is not IncidentStatus.OPEN:
                    return Decisions()
                decisions = await start(session, event, matching=ctx.matching, now=now)
            elif isinstance(event, IncidentCancelled):
                decisions = await close(
                    session, event.incident_id, reason=StandDownReason.INCIDENT_CANCELLED, now=now
                )
            elif event.status in ENDED:
                decisions = await close(
                    session, event.incident_id, reason=ENDED[event.status], now=now
                )
            elif isinstance(event, IncidentUpdated) and not event.is_exercise:
                decisions = await revise(session, event, matching=ctx.matching, now=now)
            else:
                return Decisions()
            await OUTBOX.add_all(session, decisions.events)
        return decisions

    async def on_answer(data: bytes, position: Position) -> Decisions:
        with ctx.workload.busy():
            return await _on_answer(data)

    async def _on_answer(data: bytes) -> Decisions:
        answer = decode_answer(data)
        async with ctx.sessionmaker() as session, session.begin():
            if not await INBOX.first_time(session, answer.event_id):
                return Decisions()
            if isinstance(answer, RaiseOfferBudget):
                decisions = await raise_budget(session, answer, now=ctx.clock())
            elif isinstance(answer, WidenRadius):
                decisions = await widen_radius(
                    session, answer, matching=ctx.matching, now=ctx.clock()
                )
            elif isinstance(answer, AskVolunteer):
                decisions = await ask_volunteer(
                    session, answer, matching=ctx.matching, now=ctx.clock()
                )
            elif isinstance(answer, ReleaseMember):
                decisions = await release_member(
                    session, answer, matching=ctx.matching, now=ctx.clock()
                )
            elif isinstance(answer, CallOffGroup):
                decisions = await call_off(session, answer, now=ctx.clock())
            else:
                decisions = await respond(session, answer, matching=ctx.matching, now=ctx.clock())
            await OUTBOX.add_all(session, decisions.events)
        return decisions

    # A burst's next incidents are fetched as soon as a lane is free, not after the whole fetch.
    incidents = Lanes(ctx.consumer, on_incident, concurrency=concurrency)
    answers = Lanes(ctx.consumer, on_answer, concurrency=concurrency)
    ctx.lanes.extend((incidents, answers))

    @router.subscriber(
        topics.INCIDENTS,
        group_id=f"{group_id}-incidents",
        ack_policy=AckPolicy.MANUAL,
        batch=True,
        max_records=batch_size,
        batch_timeout_ms=BATCH_POLL_MS,
        **options,
    )
    async def on_incident_event(message: KafkaMessage) -> None:
        """Opened incidents are mobilised; cancelled or expired ones stand everyone down."""
        await incidents.take(message)

    @router.subscriber(
        topics.RESPONSES,
        group_id=f"{group_id}-responses",
        ack_policy=AckPolicy.MANUAL,
        batch=True,
        max_records=batch_size,
        batch_timeout_ms=BATCH_POLL_MS,
        **options,
    )
    async def on_response(message: KafkaMessage) -> None:
        """Volunteers' answers (`RespondToOffer`) from the app, SMS links and the API."""
        await answers.take(message)

    async def on_arrival(data: bytes, position: Position) -> bool:
        """The member is on scene: their ETA is closed (the first arrival counts)."""
        arrival = decode_arrival(data)
        if arrival is None:
            return False
        async with ctx.sessionmaker() as session, session.begin():
            await session.execute(_ARRIVED, {"at": arrival.arrived_at, "offer": arrival.offer_id})
        return True

    @router.subscriber(
        topics.TRACKING,
        group_id=f"{group_id}-tracking",
        ack_policy=AckPolicy.MANUAL,
        **options,
    )
    async def on_tracking(message: KafkaMessage) -> None:
        """Members reaching the scene (`VolunteerArrived` from the tracker)."""
        await ctx.consumer.handle(message, on_arrival)

    return router
