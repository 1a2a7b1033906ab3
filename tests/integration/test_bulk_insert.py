"""`shared.db.insert_rows` on real PostGIS: a batch of rows in one statement keeps every value a
row-by-row insert would (areas, arrays, JSON, reserved column names), in order, and says which
rows a conflict left out."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest
from asyncpg.exceptions import StringDataRightTruncationError
from geoalchemy2.shape import to_shape
from shapely.geometry import MultiPolygon, Point, Polygon
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.intake.tables import AlertRow, IncidentRow
from shared.db import build_sessionmaker, insert_rows
from tests.factories import new_run

pytestmark = pytest.mark.integration

SQUARE = Polygon([(63.5, 53.1), (63.7, 53.1), (63.7, 53.3), (63.5, 53.3)])
HOLED = Polygon(
    [(64.0, 53.0), (65.0, 53.0), (65.0, 54.0), (64.0, 54.0)],
    [[(64.2, 53.2), (64.4, 53.2), (64.4, 53.4)]],
)


def incident(area: MultiPolygon, regions: list[str]) -> dict[str, object]:
    now = datetime(2026, 4, 2, 6, 30, tzinfo=UTC)
    return {
        "id": uuid4(),
        "type": "flood",
        "priority": "high",
        "status": "open",
        "alert_status": "actual",
        "is_exercise": False,
        "source": "cap",
        "severity": "Severe",
        "urgency": None,
        "certainty": None,
        "texts": [{"language": "kk", "headline": 'Су тасқыны "Тобыл"'}],
        "area": area,
        "area_km2": 12.5,
        "center": area.centroid,
        "region_codes": regions,
        "subject": None,
        "opened_at": now,
        "updated_at": now,
        "expires_at": None,
        "version": 1,
        "area_to_confirm": False,
        "sender_trust": "registered",
    }


async def test_incidents_written_together_read_back_as_written(engine: AsyncEngine) -> None:
    rows = [
        incident(MultiPolygon([SQUARE]), ["KZ-39"]),
        incident(MultiPolygon([HOLED, SQUARE]), ['a"b\\c', "KZ-11"]),
    ]

    async with build_sessionmaker(engine)() as session, session.begin():
        await insert_rows(session, IncidentRow.__table__, rows)
    async with build_sessionmaker(engine)() as session:
        stored = {
            row.id: row
            for row in await session.scalars(
                select(IncidentRow).where(IncidentRow.id.in_([row["id"] for row in rows]))
            )
        }

    for row in rows:
        kept = stored[row["id"]]  # type: ignore[index]
        assert to_shape(kept.area).equals(row["area"])
        assert to_shape(kept.center).equals(row["center"])
        assert kept.region_codes == row["region_codes"]
        assert kept.texts == row["texts"]
    # The hole stays a hole: a point inside it is not in the area.
    assert not to_shape(stored[rows[1]["id"]].area).contains(Point(64.35, 53.25))  # type: ignore[index]


async def test_a_value_too_long_for_its_column_is_refused_not_cut_short(
    engine: AsyncEngine,
) -> None:
    too_long = incident(MultiPolygon([SQUARE]), ["KZ-39-AND-MORE"])

    async with build_sessionmaker(engine)() as session:
        with pytest.raises(StringDataRightTruncationError, match="too long"):
            await insert_rows(session, IncidentRow.__table__, [too_long])


async def test_alerts_written_together_say_which_a_conflict_left_out(
    engine: AsyncEngine, clean_intake: None
) -> None:
    run = new_run()
    sent = datetime(2026, 4, 2, 6, 30, tzinfo=UTC)

    def alert(identifier: str) -> dict[str, object]:
        return {
            "id": uuid4(),
            "source": "cap",
            "sender": f"dchs@{run}",
            "identifier": identifier,
            "sent": sent,
            "msg_type": "Alert",
            "status": "Actual",
            "references": [["dchs", "KZ-1", "2026-04-02T06:00:00+05:00"]],
            "topic": "alerts.cap.v1",
            "partition": 2,
            "offset": 41,
            "raw": b"<alert/>",
        }

    first, again, second = alert("KZ-1"), alert("KZ-1"), alert("KZ-2")
    async with build_sessionmaker(engine)() as session, session.begin():
        inserted = await insert_rows(
            session,
            AlertRow.__table__,
            [first, again, second],
            on_conflict="ON CONFLICT ON CONSTRAINT uq_alerts_key DO NOTHING",
            computed=(("received_at", "clock_timestamp()"),),
            returning="id",
        )
    async with build_sessionmaker(engine)() as session:
        stored = list(
            await session.scalars(
                select(AlertRow)
                .where(AlertRow.sender == f"dchs@{run}")
                .order_by(AlertRow.received_at)
            )
        )

    # The second copy of KZ-1 (same sender, identifier and sent) is the one left out.
    assert [row["id"] for row in inserted] == [first["id"], second["id"]]
    assert [row.identifier for row in stored] == ["KZ-1", "KZ-2"]
    assert stored[0].received_at < stored[1].received_at  # told apart in the order they came
    assert (stored[0].offset, stored[0].references) == (41, first["references"])
