"""The intake's subscribers: decode → decide → save → announce, a fetched batch at a time.

Each message of a batch is decided in Python (`prepare_cap_message`, `prepare_report_message`:
parse, shape, judge, no I/O), then the batch is saved in one transaction (`save_prepared`, in
offset order; split to find the culprit when it fails, `shared.batch_consumer`) and its events
announced through the outbox once committed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial

from faststream import AckPolicy
from faststream.kafka import KafkaMessage, KafkaRouter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.intake.cap import CapAlert, parse_cap
from services.intake.draft import IncidentDraft
from services.intake.from_cap import draft_from_cap
from services.intake.from_report import draft_from_report, parse_report
from services.intake.gazetteer import Gazetteer
from services.intake.ingest import Outcome, ingest_cap, ingest_report, open_alerts, opens_its_own
from services.intake.regions import RegionIndex
from services.intake.repository import AlertRecord, IncidentRepository
from services.intake.senders import SenderRegistry, judge_sender, judge_sent_time
from services.intake.settings import IntakeOptions, IntakeSettings
from services.intake.signatures import read_signature
from services.intake.tables import OUTBOX
from shared.batch_consumer import BatchConsumer
from shared.consumer import Position
from shared.dead_letters import DeadLetters
from shared.events import topics
from shared.events.alerts import MissingPersonReported
from shared.kafka import subscriber_options
from shared.rejections import Rejected

DISPATCH_POLL_MS = 500  # alerts.dispatch.v1 is rare: a longer wait keeps its subscriber cheap


@dataclass
class Suspended:
    """The `sender_key`s of senders an administrator suspended, as last read from the database
    (`IntakeService.read_suspensions`, every few seconds); replaced whole, read without a lock."""

    keys: frozenset[str] = frozenset()


@dataclass(frozen=True)
class IntakeContext:
    settings: IntakeSettings
    sessionmaker: async_sessionmaker[AsyncSession]
    regions: RegionIndex
    dead_letters: DeadLetters
    clock: Callable[[], datetime]
    senders: SenderRegistry
    gazetteer: Gazetteer
    suspended: Suspended = field(default_factory=Suspended)


def prepare_cap(
    data: bytes,
    *,
    regions: RegionIndex,
    gazetteer: Gazetteer,
    senders: SenderRegistry,
    max_bytes: int,
) -> tuple[CapAlert, IncidentDraft | None]:
    """The CPU-bound half of a CAP message: parse, validate, shape (an area the alert cannot
    place falls back to the regions its sender alerts for), classify."""
    alert = parse_cap(data, max_bytes=max_bytes)
    if alert.msg_type not in ("Alert", "Update"):
        return alert, None
    home = senders.find(alert.sender)
    try:
        draft = draft_from_cap(
            alert,
            regions=regions,
            gazetteer=gazetteer,
            home_regions=home.regions if home is not None else None,
        )
    except Rejected as rejection:  # its area is at fault: the sender's own regions may fix it
        raise rejection.about(
            sender=alert.sender, regions=sorted(home.regions or ()) if home else ()
        ) from None
    return alert, draft


def prepare_report(
    data: bytes, *, regions: RegionIndex
) -> tuple[MissingPersonReported, IncidentDraft]:
    report = parse_report(data)
    return report, draft_from_report(report, regions=regions)


def judge_cap(
    alert: CapAlert,
    draft: IncidentDraft | None,
    *,
    data: bytes,
    topic: str,
    senders: SenderRegistry,
    options: IntakeOptions,
    now: datetime,
    suspended: Collection[str] = frozenset(),
) -> IncidentDraft | None:
    """Who sent it, when, and with what signature: the draft with its sender's trust, or
    `Rejected`. A Cancel has no draft (and no area): its sender is judged on the topic alone."""
    max_skew = timedelta(seconds=options.max_future_skew_s)
    judge_sent_time(alert.sent, now=now, max_skew=max_skew, what="its CAP <sent>")
    trust = judge_sender(
        senders,
        sender=alert.sender,
        topic=topic,
        region_codes=draft.region_codes if draft else (),
        signature=read_signature(data, at=now),
        accept_unverified=options.accept_unverified,
        suspended=suspended,
    )
    return replace(draft, sender_trust=trust) if draft else None


def judge_report(
    ctx: IntakeContext, report: MissingPersonReported, draft: IncidentDraft, *, topic: str
) -> IncidentDraft:
    """The police unit and the report's date, judged as `judge_cap` judges CAP (JSON carries no
    XML signature: a unit registered as `required` is refused)."""
    options = ctx.settings.intake
    max_skew = timedelta(seconds=options.max_future_skew_s)
    judge_sent_time(report.reported_at, now=ctx.clock(), max_skew=max_skew, what="reported_at")
    trust = judge_sender(
        ctx.senders,
        sender=report.reporting_unit,
        topic=topic,
        region_codes=draft.region_codes,
        signature=None,
        accept_unverified=options.accept_unverified,
        suspended=ctx.suspended.keys,
    )
    return replace(draft, sender_trust=trust)


@dataclass(frozen=True)
class Prepared:
    """A message decided in Python, ready to save: what `ingest_cap` or `ingest_report` takes."""

    record: AlertRecord
    draft: IncidentDraft | None
    alert: CapAlert | None = None  # CAP only
    ends_search: bool = False  # reports only


def prepare_cap_message(ctx: IntakeContext, data: bytes, position: Position) -> Prepared:
    """Parse, shape and judge a CAP message (CPU-bound; no I/O): `Rejected` when it is refused."""
    alert, draft = prepare_cap(
        data,
        regions=ctx.regions,
        gazetteer=ctx.gazetteer,
        senders=ctx.senders,
        max_bytes=ctx.settings.intake.max_cap_bytes,
    )
    try:
        draft = judge_cap(
            alert,
            draft,
            data=data,
            topic=position.topic,
            senders=ctx.senders,
            options=ctx.settings.intake,
            now=ctx.clock(),
            suspended=ctx.suspended.keys,
        )
    except Rejected as rejection:
        regions = draft.region_codes if draft else ()
        raise rejection.about(sender=alert.sender, regions=regions) from None
    record = AlertRecord(
        source="cap",
        sender=alert.sender,
        identifier=alert.identifier,
        sent=alert.sent,
        msg_type=alert.msg_type,
        status=alert.status,
        references=tuple(
            (ref.sender, ref.identifier, ref.sent.isoformat()) for ref in alert.references
        ),
        topic=position.topic,
        partition=position.partition,
        offset=position.offset,
        raw=data,
    )
    return Prepared(record=record, draft=draft, alert=alert)


def prepare_report_message(ctx: IntakeContext, data: bytes, position: Position) -> Prepared:
    """Parse, place and judge a police report (CPU-bound; no I/O): `Rejected` when refused."""
    report, draft = prepare_report(data, regions=ctx.regions)
    try:
        draft = judge_report(ctx, report, draft, topic=position.topic)
    except Rejected as rejection:
        raise rejection.about(sender=report.reporting_unit, regions=draft.region_codes) from None
    record = AlertRecord(
        source="missing_person",
        sender=report.reporting_unit,
        identifier=report.report_id,
        sent=report.reported_at,
        msg_type="Alert",
        status=draft.alert_status.value,
        references=(),
        topic=position.topic,
        partition=position.partition,
        offset=position.offset,
        raw=data,
    )
    return Prepared(record=record, draft=draft, ends_search=report.outcome is not None)


async def save_prepared(ctx: IntakeContext, items: Sequence[Prepared]) -> list[Outcome]:
    """Messages in offset order, in one transaction: alerts recorded (duplicates found by their
    key), incidents changed, their events into the outbox (relayed once committed). A run of
    plain alerts that open incidents of their own is saved in a few statements (`open_alerts`);
    any other message on its own (`ingest_cap`, `ingest_report`), after what came before it."""
    outcomes: list[Outcome] = []
    async with ctx.sessionmaker() as session, session.begin():
        repo = IncidentRepository(session)
        plain: list[tuple[IncidentDraft, AlertRecord]] = []
        for item in items:
            if item.alert is not None and opens_its_own(item.alert, item.draft):
                assert item.draft is not None
                plain.append((item.draft, item.record))
                continue
            if plain:
                outcomes += await open_alerts(repo, plain, now=ctx.clock())
                plain = []
            outcomes.append(await _ingest_one(ctx, repo, item))
        if plain:
            outcomes += await open_alerts(repo, plain, now=ctx.clock())
        await OUTBOX.add_all(session, (event for outcome in outcomes for event in outcome.events))
    return outcomes


async def _ingest_one(ctx: IntakeContext, repo: IncidentRepository, item: Prepared) -> Outcome:
    try:
        return await _ingest(ctx, repo, item)
    except Rejected as rejection:  # e.g. an update of someone else's incident
        regions = item.draft.region_codes if item.draft else ()
        raise rejection.about(sender=item.record.sender, regions=regions) from None


async def _ingest(ctx: IntakeContext, repo: IncidentRepository, item: Prepared) -> Outcome:
    if item.alert is not None:
        return await ingest_cap(
            repo,
            alert=item.alert,
            draft=item.draft,
            record=item.record,
            now=ctx.clock(),
            senders=ctx.senders,
        )
    assert item.draft is not None, "a report always has its draft"
    return await ingest_report(
        repo,
        report_id=item.record.identifier,
        draft=item.draft,
        record=item.record,
        now=ctx.clock(),
        senders=ctx.senders,
        ends_search=item.ends_search,
    )


def batch_consumer(
    ctx: IntakeContext, prepare: Callable[[IntakeContext, bytes, Position], Prepared]
) -> BatchConsumer[Prepared]:
    options = ctx.settings.intake
    return BatchConsumer(
        partial(prepare, ctx),
        partial(save_prepared, ctx),
        ctx.dead_letters,
        max_attempts=options.max_attempts,
        retry_backoff_s=options.retry_backoff_s,
    )


def build_router(ctx: IntakeContext) -> KafkaRouter:
    """One batch subscriber per alert topic, each in a consumer group of its own:
    `alerts.cap.v1` (CAP 1.1/1.2 XML from the emergency services), `alerts.missing_person.v1`
    (police reports, JSON `MissingPersonReported`) and `alerts.dispatch.v1` (CAP Updates from
    Jedel's own dispatchers, whose sender is accepted from there only; rare, so polled less)."""
    router = KafkaRouter()
    options = subscriber_options(ctx.settings.kafka)
    intake = ctx.settings.intake
    subscribed = (
        (topics.ALERTS_CAP, "cap", prepare_cap_message, intake.batch_poll_ms),
        (
            topics.ALERTS_MISSING_PERSON,
            "missing-person",
            prepare_report_message,
            intake.batch_poll_ms,
        ),
        (topics.ALERTS_DISPATCH, "dispatch", prepare_cap_message, DISPATCH_POLL_MS),
    )
    for topic, group, prepare, poll_ms in subscribed:
        consumer = batch_consumer(ctx, prepare)
        router.subscriber(
            topic,
            group_id=f"{intake.group_id}-{group}",
            ack_policy=AckPolicy.MANUAL,
            batch=True,
            max_records=intake.batch_size,
            batch_timeout_ms=poll_ms,
            **options,
        )(_handler(consumer))
    return router


def _handler(consumer: BatchConsumer[Prepared]) -> Callable[[KafkaMessage], Awaitable[None]]:
    async def on_alerts(message: KafkaMessage) -> None:
        await consumer.handle(message)

    return on_alerts
