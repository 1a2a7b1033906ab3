"""Reads and writes of alerts and incidents; flushes at most, never commits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from geoalchemy2.shape import from_shape
from sqlalchemy import and_, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.draft import AreaPart, IncidentDraft
from services.intake.tables import AlertRow, IncidentAreaRow, IncidentRow
from shared.db import driver_connection, insert_rows
from shared.events.incidents import IncidentStatus


@dataclass(frozen=True)
class AlertRecord:
    """An incoming message as it will be kept."""

    source: str
    sender: str
    identifier: str
    sent: datetime
    msg_type: str
    status: str
    references: tuple[tuple[str, str, str], ...]
    topic: str
    partition: int
    offset: int
    raw: bytes


_LINK_ALERTS = (
    "UPDATE alerts SET incident_id = linked.incident_id "
    "FROM unnest($1::uuid[], $2::uuid[]) AS linked(alert_id, incident_id) "
    "WHERE alerts.id = linked.alert_id"
)


class IncidentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record_alert(self, record: AlertRecord) -> UUID | None:
        """Keep the alert; None when (sender, identifier, sent) was seen before. Its
        `received_at` is the moment of the insert, not of the transaction: the alerts one
        transaction keeps are still told apart in the order they came (`original_senders`)."""
        return await self.session.scalar(
            insert(AlertRow)
            .values(**_alert_values(uuid4(), record), received_at=func.clock_timestamp())
            .on_conflict_do_nothing(constraint="uq_alerts_key")
            .returning(AlertRow.id)
        )

    async def record_alerts(self, records: Sequence[AlertRecord]) -> list[UUID | None]:
        """`record_alert` for each of `records`, in their order, in one statement prepared once
        whatever their number: None where (sender, identifier, sent) was seen before, earlier in
        `records` included."""
        if not records:
            return []
        ids = [uuid4() for _ in records]
        inserted = await insert_rows(
            self.session,
            AlertRow.__table__,
            [
                _alert_values(alert_id, record)
                for alert_id, record in zip(ids, records, strict=True)
            ],
            on_conflict="ON CONFLICT ON CONSTRAINT uq_alerts_key DO NOTHING",
            computed=(("received_at", "clock_timestamp()"),),
            returning="id",
        )
        kept = {row["id"] for row in inserted}
        return [alert_id if alert_id in kept else None for alert_id in ids]

    async def add_incidents(
        self, opened: Sequence[tuple[IncidentRow, UUID, IncidentDraft]]
    ) -> None:
        """Insert incidents built by `new_incident` (not added to the session), each with the
        areas of its draft, linked to its alert: what `open_incident` does, in three statements
        whatever their number (an executemany sent a statement per row: the database's time
        per alert under a storm went mostly to those)."""
        if not opened:
            return
        columns = [column.key for column in IncidentRow.__table__.columns]
        await insert_rows(
            self.session,
            IncidentRow.__table__,
            [
                # The draft's own shapes, not the row's WKB of them: sent as they are.
                {
                    **{name: getattr(row, name) for name in columns},
                    "area": draft.area,
                    "center": draft.center,
                }
                for row, _, draft in opened
            ],
        )
        await insert_rows(
            self.session,
            IncidentAreaRow.__table__,
            [
                _area_row(row.id, alert_id, part)
                for row, alert_id, draft in opened
                for part in draft.parts
            ],
        )
        driver = await driver_connection(self.session)
        await driver.execute(
            _LINK_ALERTS,
            [alert_id for _, alert_id, _ in opened],
            [row.id for row, _, _ in opened],
        )

    async def link_alert(self, alert_id: UUID, incident_id: UUID) -> None:
        await self.session.execute(
            update(AlertRow).where(AlertRow.id == alert_id).values(incident_id=incident_id)
        )

    async def incidents_referenced_by(
        self, keys: Iterable[tuple[str, str, datetime]]
    ) -> list[IncidentRow]:
        """The incidents that earlier alerts (sender, identifier, sent) became, locked for change."""
        wanted = list(keys)
        if not wanted:
            return []
        incident_ids = select(AlertRow.incident_id).where(
            tuple_(AlertRow.sender, AlertRow.identifier, AlertRow.sent).in_(wanted),
            AlertRow.incident_id.is_not(None),
        )
        rows = await self.session.scalars(
            select(IncidentRow)
            .where(IncidentRow.id.in_(incident_ids))
            .order_by(IncidentRow.opened_at)
            .with_for_update()
        )
        return list(rows)

    async def original_senders(self, incident_ids: Iterable[UUID]) -> dict[UUID, str]:
        """Who raised each incident: the sender of the first alert it was linked to."""
        wanted = list(incident_ids)
        if not wanted:
            return {}
        rows = await self.session.execute(
            select(AlertRow.incident_id, AlertRow.sender)
            .where(AlertRow.incident_id.in_(wanted))
            .ext(distinct_on(AlertRow.incident_id))
            .order_by(AlertRow.incident_id, AlertRow.received_at, AlertRow.sent)
        )
        return {incident_id: sender for incident_id, sender in rows if incident_id is not None}

    async def latest_report(self, report_id: str) -> tuple[IncidentRow, datetime] | None:
        """The incident a missing-person report id became, with the newest report's time."""
        row = (
            await self.session.execute(
                select(IncidentRow, AlertRow.sent)
                .join(AlertRow, AlertRow.incident_id == IncidentRow.id)
                .where(and_(AlertRow.source == "missing_person", AlertRow.identifier == report_id))
                .order_by(AlertRow.sent.desc())
                .limit(1)
                .with_for_update(of=IncidentRow)
            )
        ).first()
        return (row[0], row[1]) if row else None

    async def open_incident(
        self, draft: IncidentDraft, *, alert_id: UUID, status: IncidentStatus, now: datetime
    ) -> IncidentRow:
        row = new_incident(draft, status=status, now=now)
        self.session.add(row)
        await self.session.flush()
        await self._add_parts(row.id, alert_id, draft)
        await self.link_alert(alert_id, row.id)
        return row

    async def revise_incident(
        self,
        row: IncidentRow,
        draft: IncidentDraft,
        *,
        alert_id: UUID,
        status: IncidentStatus,
        now: datetime,
    ) -> IncidentRow:
        _apply(row, draft, now=now)
        row.status = status.value
        row.version += 1
        await self.session.flush()
        await self._add_parts(row.id, alert_id, draft)
        await self.link_alert(alert_id, row.id)
        return row

    async def close_incident(
        self, row: IncidentRow, *, status: IncidentStatus, now: datetime
    ) -> IncidentRow:
        row.status = status.value
        row.updated_at = now
        row.version += 1
        await self.session.flush()
        return row

    async def due_to_expire(self, now: datetime, *, limit: int = 500) -> Sequence[IncidentRow]:
        rows = await self.session.scalars(
            select(IncidentRow)
            .where(
                IncidentRow.status == IncidentStatus.OPEN.value,
                IncidentRow.expires_at.is_not(None),
                IncidentRow.expires_at <= now,
            )
            .order_by(IncidentRow.expires_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return rows.all()

    async def _add_parts(self, incident_id: UUID, alert_id: UUID, draft: IncidentDraft) -> None:
        await insert_rows(
            self.session,
            IncidentAreaRow.__table__,
            [_area_row(incident_id, alert_id, part) for part in draft.parts],
        )


def new_incident(
    draft: IncidentDraft, *, status: IncidentStatus, now: datetime, wkb: bool = True
) -> IncidentRow:
    """The row of an incident the draft opens (its id drawn here), not yet added anywhere.
    `wkb=False` leaves out its area and centre (None), for `add_incidents`, which sends the
    draft's shapes themselves."""
    row = IncidentRow(id=uuid4(), opened_at=now, version=1, status=status.value)
    _apply(row, draft, now=now, wkb=wkb)
    return row


def _alert_values(alert_id: UUID, record: AlertRecord) -> dict[str, Any]:
    return {
        "id": alert_id,
        "source": record.source,
        "sender": record.sender,
        "identifier": record.identifier,
        "sent": record.sent,
        "msg_type": record.msg_type,
        "status": record.status,
        "references": [list(reference) for reference in record.references],
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "raw": record.raw,
    }


def _area_row(incident_id: UUID, alert_id: UUID, part: AreaPart) -> dict[str, Any]:
    """An area's row for `insert_rows` (which sends the shape itself)."""
    return {
        "incident_id": incident_id,
        "alert_id": alert_id,
        "description": part.description,
        "geocodes": [list(pair) for pair in part.geocodes],
        "geometry": part.geometry,
    }


def _apply(row: IncidentRow, draft: IncidentDraft, *, now: datetime, wkb: bool = True) -> None:
    row.type = draft.type.value
    row.priority = draft.priority.value
    row.alert_status = draft.alert_status.value
    row.is_exercise = draft.is_exercise
    row.source = draft.source.value
    row.severity = draft.severity
    row.urgency = draft.urgency
    row.certainty = draft.certainty
    row.texts = [text.model_dump(mode="json") for text in draft.texts]
    if wkb:
        row.area = from_shape(draft.area, srid=4326)
        row.center = from_shape(draft.center, srid=4326)
    row.area_km2 = draft.area_km2
    row.region_codes = list(draft.region_codes)
    row.subject = draft.subject.model_dump(mode="json") if draft.subject else None
    row.expires_at = draft.expires_at
    row.area_to_confirm = draft.area_to_confirm
    row.sender_trust = draft.sender_trust.value
    row.updated_at = now
