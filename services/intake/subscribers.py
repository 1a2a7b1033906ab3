"""The intake's subscribers: decode → decide → save → announce, one transaction per message."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from faststream import AckPolicy
from faststream.kafka import KafkaMessage, KafkaRouter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.intake.cap import CapAlert, parse_cap
from services.intake.draft import IncidentDraft
from services.intake.from_cap import draft_from_cap
from services.intake.from_report import draft_from_report, parse_report
from services.intake.gazetteer import Gazetteer
from services.intake.ingest import Outcome, ingest_cap, ingest_report
from services.intake.regions import RegionIndex
from services.intake.repository import AlertRecord, IncidentRepository
from services.intake.senders import SenderRegistry, judge_sender, judge_sent_time
from services.intake.settings import IntakeOptions, IntakeSettings
from services.intake.signatures import read_signature
from services.intake.tables import OUTBOX
from shared.consumer import Consumer, Position
from shared.events import topics
from shared.events.alerts import MissingPersonReported
from shared.kafka import subscriber_options


@dataclass(frozen=True)
class IntakeContext:
    settings: IntakeSettings
    sessionmaker: async_sessionmaker[AsyncSession]
    regions: RegionIndex
    consumer: Consumer
    clock: Callable[[], datetime]
    senders: SenderRegistry
    gazetteer: Gazetteer


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
    draft = draft_from_cap(
        alert,
        regions=regions,
        gazetteer=gazetteer,
        home_regions=home.regions if home is not None else None,
    )
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
    )
    return replace(draft, sender_trust=trust)


def build_router(ctx: IntakeContext) -> KafkaRouter:
    router = KafkaRouter()
    options = subscriber_options(ctx.settings.kafka)
    group_id = ctx.settings.intake.group_id
    workers = ctx.settings.intake.consumers_per_topic

    async def process_cap(data: bytes, position: Position) -> Outcome:
        alert, draft = await asyncio.to_thread(
            prepare_cap,
            data,
            regions=ctx.regions,
            gazetteer=ctx.gazetteer,
            senders=ctx.senders,
            max_bytes=ctx.settings.intake.max_cap_bytes,
        )
        draft = await asyncio.to_thread(
            judge_cap,
            alert,
            draft,
            data=data,
            topic=position.topic,
            senders=ctx.senders,
            options=ctx.settings.intake,
            now=ctx.clock(),
        )
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
        async with ctx.sessionmaker() as session, session.begin():
            outcome = await ingest_cap(
                IncidentRepository(session),
                alert=alert,
                draft=draft,
                record=record,
                now=ctx.clock(),
                senders=ctx.senders,
            )
            await OUTBOX.add_all(session, outcome.events)
        return outcome

    async def process_report(data: bytes, position: Position) -> Outcome:
        report, draft = await asyncio.to_thread(prepare_report, data, regions=ctx.regions)
        draft = judge_report(ctx, report, draft, topic=position.topic)
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
        async with ctx.sessionmaker() as session, session.begin():
            outcome = await ingest_report(
                IncidentRepository(session),
                report_id=report.report_id,
                draft=draft,
                record=record,
                now=ctx.clock(),
                senders=ctx.senders,
                ends_search=report.outcome is not None,
            )
            await OUTBOX.add_all(session, outcome.events)
        return outcome

    @router.subscriber(
        topics.ALERTS_CAP,
        group_id=f"{group_id}-cap",
        ack_policy=AckPolicy.MANUAL,
        max_workers=workers,
        **options,
    )
    async def on_cap_alert(message: KafkaMessage) -> None:
        """CAP 1.1/1.2 XML from the emergency services; each becomes or changes an incident."""
        await ctx.consumer.handle(message, process_cap)

    @router.subscriber(
        topics.ALERTS_MISSING_PERSON,
        group_id=f"{group_id}-missing-person",
        ack_policy=AckPolicy.MANUAL,
        max_workers=workers,
        **options,
    )
    async def on_missing_person(message: KafkaMessage) -> None:
        """Missing-person reports from the police (JSON, `MissingPersonReported`)."""
        await ctx.consumer.handle(message, process_report)

    return router
