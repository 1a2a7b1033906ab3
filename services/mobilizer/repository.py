"""Reads and writes of mobilisations, offers and commitments; flushes at most, never commits."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from pydantic_core import to_json
from sqlalchemy import Table, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.mobilizer.progress import OfferState
from services.mobilizer.tables import CommitmentRow, MobilizationRow, OfferRow
from shared.db import driver_connection, insert_rows
from shared.events.mobilization import MobilizationStatus, OfferStatus

_COLUMNS = tuple(column.key for column in cast(Table, MobilizationRow.__table__).columns)
_CENTER, _NEEDED = _COLUMNS.index("center"), _COLUMNS.index("needed")
_EXISTS = "SELECT true FROM mobilizations WHERE incident_id = $1"
_PLACES = ", ".join(
    f"ST_GeogFromWKB(${index}::bytea)" if name == "center" else f"${index}"
    for index, name in enumerate(_COLUMNS, start=1)
)
_INSERT = f"INSERT INTO mobilizations ({', '.join(_COLUMNS)}) VALUES ({_PLACES})"  # noqa: S608 - the schema's names


class MobilizationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, incident_id: UUID, *, skip_locked: bool = False) -> MobilizationRow | None:
        """The mobilisation, locked: one decision at a time per incident, across replicas.

        FOR NO KEY UPDATE, which rows that refer to it (offers, explanations being written) do
        not block: FOR UPDATE waited for them, or with `skip_locked` passed the incident over."""
        return await self.session.scalar(
            select(MobilizationRow)
            .where(MobilizationRow.incident_id == incident_id)
            .with_for_update(skip_locked=skip_locked, key_share=True)
        )

    async def exists(self, incident_id: UUID) -> bool:
        """Whether the incident has a mobilisation (one round trip on the driver, no ORM)."""
        driver = await driver_connection(self.session)
        return bool(await driver.fetchval(_EXISTS, incident_id))

    async def insert(self, row: MobilizationRow) -> None:
        """A new mobilisation's row as it stands, in one statement on the driver: the ORM's unit
        of work (~1.8 ms of CPU) and a Core insert (~2.7 ms: its geography is compiled afresh
        every time) cost more than the statement. `row` stays out of the session: later changes
        to it in the same transaction are not written."""
        driver = await driver_connection(self.session)
        values = [getattr(row, name) for name in _COLUMNS]
        values[_CENTER] = bytes(row.center.data)  # geoalchemy2's WKB element
        values[_NEEDED] = to_json(row.needed).decode()  # the driver's JSONB takes text
        await driver.execute(_INSERT, *values)

    async def add(self, row: MobilizationRow) -> None:
        self.session.add(row)
        await self.session.flush()

    async def offers_of(self, incident_id: UUID) -> Sequence[OfferRow]:
        rows = await self.session.scalars(
            select(OfferRow)
            .where(OfferRow.incident_id == incident_id)
            .order_by(OfferRow.offered_at)
        )
        return rows.all()

    async def offer_states(self, incident_id: UUID) -> list[OfferState]:
        """The incident's offers as plain values, to plan with (not to change)."""
        rows = await self.session.execute(
            select(
                OfferRow.volunteer_id,
                OfferRow.role,
                OfferRow.status,
                OfferRow.p_accept,
                OfferRow.offered_at,
            ).where(OfferRow.incident_id == incident_id)
        )
        return [OfferState(*row) for row in rows]

    async def offer(self, offer_id: UUID) -> OfferRow | None:
        return await self.session.scalar(
            select(OfferRow).where(OfferRow.id == offer_id).with_for_update()
        )

    async def add_offers(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """One INSERT for the wave's offers (column → value; every row the same columns): it may
        hold hundreds, and the ORM's unit of work would cost ~1 ms each."""
        await insert_rows(self.session, OfferRow.__table__, rows)

    async def commit_volunteer(self, offer: OfferRow) -> bool:
        """Give the volunteer their place; False when they are committed to another incident.

        The partial unique index decides, so two incidents accepting the same person at the same
        moment cannot both win.
        """
        try:
            async with self.session.begin_nested():
                self.session.add(
                    CommitmentRow(
                        volunteer_id=offer.volunteer_id,
                        incident_id=offer.incident_id,
                        offer_id=offer.id,
                        role=offer.role,
                        eta_s=offer.eta_s,
                    )
                )
                await self.session.flush()
        except IntegrityError:
            return False
        return True

    async def release_commitments(
        self, incident_id: UUID, *, now: datetime, volunteer_id: UUID | None = None
    ) -> None:
        """Free everyone committed to the incident (or only `volunteer_id`)."""
        query = update(CommitmentRow).where(
            CommitmentRow.incident_id == incident_id, CommitmentRow.released_at.is_(None)
        )
        if volunteer_id is not None:
            query = query.where(CommitmentRow.volunteer_id == volunteer_id)
        await self.session.execute(query.values(released_at=now))

    async def expired_offers(self, now: datetime, *, limit: int = 500) -> Sequence[OfferRow]:
        rows = await self.session.scalars(
            select(OfferRow)
            .where(OfferRow.status == OfferStatus.PENDING, OfferRow.expires_at <= now)
            .order_by(OfferRow.expires_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return rows.all()

    async def make_due(self, incidents: Collection[UUID], now: datetime) -> None:
        """The active mobilisations of `incidents` want a wave by `now` (kept in the row, so a
        sweep that stops early or dies leaves them for the next one). One locked by a handler or
        another sweep is left alone: whoever holds it is planning its next wave, and waiting for
        it while holding offers (as `time_out` does) could deadlock with it."""
        if not incidents:
            return
        free = (
            select(MobilizationRow.incident_id)
            .where(
                MobilizationRow.incident_id.in_(incidents),
                MobilizationRow.status == MobilizationStatus.ACTIVE,
                or_(MobilizationRow.next_wave_at.is_(None), MobilizationRow.next_wave_at > now),
            )
            .with_for_update(skip_locked=True, key_share=True)
        )
        await self.session.execute(
            update(MobilizationRow)
            .where(MobilizationRow.incident_id.in_(free.scalar_subquery()))
            .values(next_wave_at=now)
        )

    async def due_for_a_wave(self, now: datetime, *, limit: int = 100) -> Sequence[UUID]:
        rows = await self.session.scalars(
            select(MobilizationRow.incident_id)
            .where(
                MobilizationRow.status == MobilizationStatus.ACTIVE,
                MobilizationRow.next_wave_at <= now,
            )
            .order_by(MobilizationRow.next_wave_at)
            .limit(limit)
        )
        return rows.all()
