"""How an operator corrects the append-only activity log: by appending, never by changing.

`void_entry` appends an `EntryVoided` entry naming the wrong one; reports leave voided entries out,
and the log still shows what was recorded, when, and who voided it why. To replace a wrong fact,
void it and append the right one under a new event id. The caller owns the transaction.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.entries import Entry
from services.registry.repository import ActivityRepository
from services.registry.tables import ActivityLogRow

VOIDED = "EntryVoided"


class EntryNotFound(LookupError):  # noqa: N818 - named like IncidentNotFound (STYLE.md)
    """No entry of the activity log has that event id."""


async def void_entry(
    session: AsyncSession, event_id: UUID, *, reason: str, operator: str, now: datetime
) -> UUID:
    """Append the entry that voids `event_id`; the id of the new entry."""
    wrong = await session.scalar(select(ActivityLogRow).where(ActivityLogRow.event_id == event_id))
    if wrong is None:
        raise EntryNotFound(str(event_id))
    correction = Entry(
        event_id=uuid4(),
        kind=VOIDED,
        occurred_at=now,
        incident_id=wrong.incident_id,
        payload={
            "kind": VOIDED,
            "voids": str(event_id),
            "voided_kind": wrong.kind,
            "reason": reason,
            "operator": operator,
        },
        topic=None,
        partition=None,
        offset=None,
        offer_id=wrong.offer_id,
        volunteer_id=wrong.volunteer_id,
        role=wrong.role,
        region_code=wrong.region_code,
        is_exercise=wrong.is_exercise,
    )
    await ActivityRepository(session).append([correction])
    return correction.event_id
