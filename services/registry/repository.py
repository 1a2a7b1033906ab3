"""Writes of the activity log and the incident projection; flushes at most, never commits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.entries import Entry, IncidentSnapshot, Stamp
from services.registry.tables import ActivityLogRow, RegistryIncidentRow


class ActivityRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def save_incidents(self, snapshots: Sequence[IncidentSnapshot]) -> None:
        """Upsert one snapshot per incident; an older version never overwrites a newer one."""
        if not snapshots:
            return
        statement = insert(RegistryIncidentRow).values(
            [
                {
                    "incident_id": s.incident_id,
                    "region_code": s.region_code,
                    "region_codes": list(s.region_codes),
                    "type": s.type,
                    "is_exercise": s.is_exercise,
                    "status": s.status,
                    "opened_at": s.opened_at,
                    "closed_at": s.closed_at,
                    "version": s.version,
                    "updated_at": s.updated_at,
                }
                for s in snapshots
            ]
        )
        new, old = statement.excluded, RegistryIncidentRow
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[old.incident_id],
                set_={
                    "region_code": new.region_code,
                    "region_codes": new.region_codes,
                    "type": new.type,
                    "is_exercise": new.is_exercise,
                    "status": new.status,
                    "opened_at": new.opened_at,
                    # Closed once, at the first close seen; LEAST skips NULLs.
                    "closed_at": func.least(old.closed_at, new.closed_at),
                    "version": new.version,
                    "updated_at": new.updated_at,
                },
                where=old.version <= new.version,
            )
        )

    async def stamps(self, incident_ids: Iterable[UUID]) -> dict[UUID, Stamp]:
        wanted = list(set(incident_ids))
        if not wanted:
            return {}
        rows = await self.session.execute(
            select(
                RegistryIncidentRow.incident_id,
                RegistryIncidentRow.region_code,
                RegistryIncidentRow.is_exercise,
            ).where(RegistryIncidentRow.incident_id.in_(wanted))
        )
        return {row.incident_id: Stamp(row.region_code, row.is_exercise) for row in rows}

    async def append(self, entries: Sequence[Entry]) -> int:
        """Append the entries not recorded before; how many were new."""
        if not entries:
            return 0
        inserted = await self.session.scalars(
            insert(ActivityLogRow)
            .on_conflict_do_nothing(index_elements=[ActivityLogRow.event_id])
            .returning(ActivityLogRow.event_id),
            [entry.as_row() for entry in entries],
        )
        return len(inserted.all())
