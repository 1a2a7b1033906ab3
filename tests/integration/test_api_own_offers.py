"""A volunteer lists their own call-outs: their own only, the scene's point only once accepted."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api.seed import seed_reference
from shared.events.base import utc_now
from tests.accounts import as_volunteer
from tests.factories import insert_volunteer

pytestmark = pytest.mark.integration


async def _volunteer(engine: AsyncEngine) -> uuid.UUID:
    return await insert_volunteer(engine, "Listed Person", phone_prefix="+7708")


async def _offer(engine: AsyncEngine, volunteer_id: uuid.UUID, status: str) -> uuid.UUID:
    """An offer of `status` in a new active flood group whose scene is at 63.654321, 53.123456."""
    incident_id, offer_id, now = uuid.uuid4(), uuid.uuid4(), utc_now()
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO mobilizations (incident_id, status, playbook, incident_type, priority,"
                " is_exercise, headline, center, region_code, needed, radius_m, wave, started_at,"
                " deadline_at, incident_version, offer_budget, offers_sent) VALUES (:i, 'active',"
                " 'own', 'flood', 'high', false, 'Own flood',"
                " ST_GeogFromText('POINT(63.654321 53.123456)'), 'KZ-39', '{\"leader\": 1}',"
                " 5000, 1, :now, :deadline, 1, 12, 1)"
            ),
            {"i": incident_id, "now": now, "deadline": now + timedelta(hours=1)},
        )
        await connection.execute(
            text(
                "INSERT INTO offers (id, incident_id, volunteer_id, role, wave, status, eta_s,"
                " distance_m, p_accept, offered_at, expires_at, language, contact_phone) VALUES"
                " (:o, :i, :v, 'leader', 1, :status, 600, 4000, 0.5, :now, :expires, 'kk',"
                " '+77080000000')"
            ),
            {
                "o": offer_id,
                "i": incident_id,
                "v": volunteer_id,
                "status": status,
                "now": now,
                "expires": now + timedelta(minutes=10),
            },
        )
    return offer_id


async def test_a_volunteer_sees_only_their_offers_and_the_scene_only_after_accepting(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await seed_reference(engine)
    me, someone_else = await _volunteer(engine), await _volunteer(engine)
    pending = await _offer(engine, me, "pending")
    accepted = await _offer(engine, me, "accepted")
    theirs = await _offer(engine, someone_else, "pending")

    response = await client.get("/api/v1/me/offers", headers=await as_volunteer(engine, me))
    assert response.status_code == 200, response.text
    listed = {item["offer_id"]: item for item in response.json()}
    assert set(listed) == {str(pending), str(accepted)}
    assert str(theirs) not in response.text
    assert listed[str(pending)]["answerable"] is True
    assert 0 < listed[str(pending)]["seconds_left"] <= 600
    assert listed[str(pending)]["meeting_point"] is None
    assert listed[str(accepted)]["meeting_point"] == [63.654321, 53.123456]
    assert listed[str(accepted)]["answerable"] is False
    # The pending offer's scene appears nowhere in its entry.
    assert "63.65" not in str(listed[str(pending)])

    other = await client.get("/api/v1/me/offers", headers=await as_volunteer(engine, someone_else))
    assert [item["offer_id"] for item in other.json()] == [str(theirs)]
