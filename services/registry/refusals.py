"""Refused alerts into the dispatchers' queue: each dead letter of the intake becomes one
`refused_alerts` row, once however often it is read (unique on where the refused message was).

`refusal_of` (pure) reads a dead letter; `keep` writes it. A record on the dead-letter topic that
carries no dead letter's headers is refused in turn (`events.dead_letter.v1`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.registry.tables import RefusedAlertRow
from shared.events.alerts import DeadLetter, RefusalStatus
from shared.reference import region_by_code
from shared.rejections import Rejected, describe

MAX_SENDER = 200


def refusal_of(value: bytes, headers: Mapping[str, str | bytes]) -> dict[str, Any]:
    """The queue's row for one dead letter (its value is the refused message, byte for byte)."""
    try:
        letter = DeadLetter.from_headers(headers)
    except ValidationError as error:
        raise Rejected("invalid_dead_letter", describe(error)) from None
    known = region_by_code()
    regions = [code for code in letter.regions.split(",") if code in known]
    return {
        "id": letter.event_id,
        "code": letter.code[:40],
        "reason": letter.reason,
        "source_topic": letter.source_topic[:100],
        "source_partition": letter.source_partition,
        "source_offset": letter.source_offset,
        "sender": letter.sender[:MAX_SENDER] or None,
        "region_codes": sorted(set(regions)),
        "message": value,
        "refused_at": letter.received_at,
        "status": RefusalStatus.OPEN.value,
    }


async def keep(sessionmaker: async_sessionmaker[AsyncSession], row: Mapping[str, Any]) -> bool:
    """Write the row; False when this refusal was already in the queue."""
    statement = (
        insert(RefusedAlertRow).values(**row).on_conflict_do_nothing().returning(RefusedAlertRow.id)
    )
    async with sessionmaker() as session, session.begin():
        return (await session.execute(statement)).first() is not None
