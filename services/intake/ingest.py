"""What an accepted message does to incidents: the intake's decisions, inside one transaction.

Each function takes the parsed message and its draft, records the alert (once per key), changes
incidents and returns the events to announce; the caller owns the transaction and the outbox.
`open_alerts` does for a run of plain `Alert`s what `ingest_cap` does for each, all at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from services.intake.announcements import announce
from services.intake.cap import CapAlert
from services.intake.draft import IncidentDraft
from services.intake.repository import AlertRecord, IncidentRepository, new_incident
from services.intake.senders import SenderRegistry, judge_revision
from services.intake.tables import IncidentRow
from shared.events.incidents import (
    AlertStatus,
    IncidentCancelled,
    IncidentOpened,
    IncidentStatus,
    IncidentUpdated,
)
from shared.outbox import OutgoingEvent
from shared.rejections import Rejected


class Action(StrEnum):
    OPENED = "opened"
    UPDATED = "updated"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    RESOLVED = "resolved"
    DUPLICATE = "duplicate"
    RECORDED = "recorded"


@dataclass(frozen=True)
class Outcome:
    action: Action
    incident_ids: tuple[UUID, ...] = ()
    events: tuple[OutgoingEvent, ...] = field(default=(), repr=False)


async def ingest_cap(
    repo: IncidentRepository,
    *,
    alert: CapAlert,
    draft: IncidentDraft | None,
    record: AlertRecord,
    now: datetime,
    senders: SenderRegistry,
) -> Outcome:
    """`senders` decides who may update or cancel an incident: the sender that raised it, or one
    registered to act for it (the sender's own standing was judged before, on the message)."""
    alert_id = await repo.record_alert(record)
    if alert_id is None:
        return Outcome(Action.DUPLICATE)
    if alert.msg_type == "Cancel":
        return await _cancel(repo, alert, now=now, senders=senders)
    if alert.msg_type not in ("Alert", "Update") or draft is None:
        return Outcome(Action.RECORDED)  # Ack and Error answer other alerts; nothing to change
    referenced = await repo.incidents_referenced_by(ref.key for ref in alert.references)
    if alert.msg_type == "Update" and referenced:
        await _refuse_strangers(repo, referenced, senders, sender=alert.sender, action="update")
        return await _revise(repo, referenced, draft, alert_id=alert_id, now=now)
    # An Update whose original never reached us still describes a live hazard: open it.
    return await _open(repo, draft, alert_id=alert_id, now=now)


def opens_its_own(alert: CapAlert, draft: IncidentDraft | None) -> bool:
    """Whether the message can only open an incident of its own (or be a duplicate): a CAP
    `Alert` (its references name what it follows, but change nothing), never refused once
    judged. Such messages may be saved together by `open_alerts`."""
    return alert.msg_type == "Alert" and draft is not None


async def open_alerts(
    repo: IncidentRepository,
    messages: Sequence[tuple[IncidentDraft, AlertRecord]],
    *,
    now: datetime,
) -> list[Outcome]:
    """What `ingest_cap` does to each of `messages` (all `opens_its_own`), in order, in a few
    statements for them all: each alert recorded once per key, and an incident opened for each
    new one."""
    alert_ids = await repo.record_alerts([record for _, record in messages])
    opened = []
    outcomes = []
    for (draft, _), alert_id in zip(messages, alert_ids, strict=True):
        if alert_id is None:
            outcomes.append(Outcome(Action.DUPLICATE))
            continue
        status = _status_of(draft, now=now)
        # `add_incidents` sends the draft's shapes as they are: the row needs no WKB of them.
        row = new_incident(draft, status=status, now=now, wkb=False)
        opened.append((row, alert_id, draft))
        outcomes.append(Outcome(Action.OPENED, (row.id,), _opening_events(row, status, draft)))
    await repo.add_incidents(opened)
    return outcomes


async def ingest_report(
    repo: IncidentRepository,
    *,
    report_id: str,
    draft: IncidentDraft,
    record: AlertRecord,
    now: datetime,
    senders: SenderRegistry,
    ends_search: bool = False,
) -> Outcome:
    """A police report: opens the search, updates it, or (`ends_search`) closes it as resolved.
    Only the unit that opened the search (or one registered to act for it) may change it."""
    existing = await repo.latest_report(report_id)
    alert_id = await repo.record_alert(record)
    if alert_id is None:
        return Outcome(Action.DUPLICATE)
    if existing is None:
        # A search that ended before Jedel heard of it is kept for the record, mobilising no one.
        return await _open(repo, draft, alert_id=alert_id, now=now, resolved=ends_search)
    row, newest_sent = existing
    action = "end the search for" if ends_search else "update"
    await _refuse_strangers(repo, [row], senders, sender=record.sender, action=action)
    if record.sent <= newest_sent:
        await repo.link_alert(alert_id, row.id)
        return Outcome(Action.RECORDED, (row.id,))  # an older report arriving late changes nothing
    if ends_search:
        await repo.revise_incident(
            row, draft, alert_id=alert_id, status=IncidentStatus.RESOLVED, now=now
        )
        events = (announce(IncidentUpdated, row),) if _announces(row) else ()
        return Outcome(Action.RESOLVED, (row.id,), events)
    return await _revise(repo, [row], draft, alert_id=alert_id, now=now)


async def expire_due(repo: IncidentRepository, *, now: datetime) -> Outcome:
    events = []
    ids = []
    for row in await repo.due_to_expire(now):
        await repo.close_incident(row, status=IncidentStatus.EXPIRED, now=now)
        ids.append(row.id)
        if _announces(row):
            events.append(announce(IncidentUpdated, row))
    return Outcome(Action.EXPIRED, tuple(ids), tuple(events))


async def _open(
    repo: IncidentRepository,
    draft: IncidentDraft,
    *,
    alert_id: UUID,
    now: datetime,
    resolved: bool = False,
) -> Outcome:
    status = _status_of(draft, now=now)
    if resolved:
        status = IncidentStatus.RESOLVED
    row = await repo.open_incident(draft, alert_id=alert_id, status=status, now=now)
    return Outcome(Action.OPENED, (row.id,), _opening_events(row, status, draft))


def _opening_events(
    row: IncidentRow, status: IncidentStatus, draft: IncidentDraft
) -> tuple[OutgoingEvent, ...]:
    # An alert already past its `expires` is kept for the record but mobilises no one; one
    # outside Kazakhstan is announced as such (and the mobilizer mobilises only open ones).
    opened = _announces(row) and status in _ANNOUNCED_WHEN_OPENED
    shapes = (draft.area, draft.center)
    return (announce(IncidentOpened, row, shapes=shapes),) if opened else ()


async def _revise(
    repo: IncidentRepository,
    rows: list[IncidentRow],
    draft: IncidentDraft,
    *,
    alert_id: UUID,
    now: datetime,
) -> Outcome:
    status = _status_of(draft, now=now)
    events = []
    for row in rows:
        await repo.revise_incident(row, draft, alert_id=alert_id, status=status, now=now)
        if _announces(row):
            events.append(announce(IncidentUpdated, row))
    return Outcome(Action.UPDATED, tuple(row.id for row in rows), tuple(events))


async def _cancel(
    repo: IncidentRepository, alert: CapAlert, *, now: datetime, senders: SenderRegistry
) -> Outcome:
    rows = await repo.incidents_referenced_by(ref.key for ref in alert.references)
    if not rows:
        named = " ".join(
            ",".join((r.sender, r.identifier, r.sent.isoformat())) for r in alert.references
        )
        raise Rejected(
            "unknown_reference",
            f"Cancel refers to {named or 'no alert'}, which Jedel never received; nothing to cancel",
        )
    await _refuse_strangers(repo, rows, senders, sender=alert.sender, action="cancel")
    reason = alert.note or (alert.infos[0].headline if alert.infos else None)
    events = []
    for row in rows:
        await repo.close_incident(row, status=IncidentStatus.CANCELLED, now=now)
        if _announces(row):
            events.append(announce(IncidentCancelled, row, reason=reason))
    return Outcome(Action.CANCELLED, tuple(row.id for row in rows), tuple(events))


async def _refuse_strangers(
    repo: IncidentRepository,
    rows: list[IncidentRow],
    senders: SenderRegistry,
    *,
    sender: str,
    action: str,
) -> None:
    """`Rejected` (not_original_sender) unless `sender` may change every one of `rows`; the
    transaction is then rolled back, so nothing of the message is kept."""
    originals = await repo.original_senders(row.id for row in rows)
    judge_revision(senders, sender=sender, originals=originals.values(), action=action)


_ANNOUNCED_WHEN_OPENED = frozenset({IncidentStatus.OPEN, IncidentStatus.OUTSIDE_SERVICE_AREA})


def _status_of(draft: IncidentDraft, *, now: datetime) -> IncidentStatus:
    if draft.is_expired(now):
        return IncidentStatus.EXPIRED
    if draft.outside_service_area:
        return IncidentStatus.OUTSIDE_SERVICE_AREA
    return IncidentStatus.OPEN


def _announces(row: IncidentRow) -> bool:
    return row.alert_status in (AlertStatus.ACTUAL.value, AlertStatus.EXERCISE.value)
