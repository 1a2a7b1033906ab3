"""A volunteer reads their own standing and sets when they may be asked: their own only."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api.seed import seed_reference
from services.mobilizer.eligibility import local_day
from shared.events.base import utc_now
from tests.accounts import as_volunteer
from tests.factories import insert_volunteer

pytestmark = pytest.mark.integration


async def _certify(engine: AsyncEngine, volunteer: uuid.UUID, kind: str, expires_on: date) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO certifications (volunteer_id, type, issued_on, expires_on, issuer)"
                " VALUES (:v, :t, :issued, :expires, 'Kazakh Red Crescent')"
            ),
            {"v": volunteer, "t": kind, "issued": date(2024, 1, 10), "expires": expires_on},
        )


async def _availability(engine: AsyncEngine, volunteer: uuid.UUID) -> tuple[object, ...]:
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                text(
                    "SELECT availability, quiet_hours_start, quiet_hours_end FROM volunteers"
                    " WHERE id = :v"
                ),
                {"v": volunteer},
            )
        ).one()
    return tuple(row)


async def test_a_volunteer_sees_their_certificates_soonest_to_lapse_first_in_their_language(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await seed_reference(engine)
    me = await insert_volunteer(engine, "Me")
    someone_else = await insert_volunteer(engine, "Someone")
    today = local_day(utc_now())
    await _certify(engine, me, "water_rescue", today + timedelta(days=400))
    await _certify(engine, me, "first_aid", today + timedelta(days=10))
    await _certify(engine, me, "team_leader", today - timedelta(days=1))
    await _certify(engine, someone_else, "drone_pilot", today + timedelta(days=99))

    mine = await client.get(
        "/api/v1/me", headers={**await as_volunteer(engine, me), "Accept-Language": "ru"}
    )

    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert [(c["type"], c["standing"], c["days_left"]) for c in body["certificates"]] == [
        ("team_leader", "expired", -1),
        ("first_aid", "expiring", 10),
        ("water_rescue", "valid", 400),
    ], "only their own, the soonest to lapse first"
    assert body["certificates"][1]["name"] == "Первая помощь"
    assert body["availability"] == "available"
    assert "Someone" not in mine.text and "phone" not in body


async def test_a_volunteer_goes_off_duty_with_quiet_hours_and_cannot_undo_an_administrators_stop(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await seed_reference(engine)
    me = await insert_volunteer(engine, "Night Owl")
    headers = await as_volunteer(engine, me)

    set_off = await client.put(
        "/api/v1/me/availability",
        headers=headers,
        json={"availability": "off_duty", "quiet_hours_start": "22:00", "quiet_hours_end": "07:00"},
    )

    assert set_off.status_code == 200, set_off.text
    assert set_off.json()["availability"] == "off_duty"
    assert set_off.json()["quiet_hours_start"] == "22:00:00"
    assert await _availability(engine, me) == ("off_duty", *_hours("22:00", "07:00"))
    half = await client.put(
        "/api/v1/me/availability",
        headers=headers,
        json={"availability": "available", "quiet_hours_start": "22:00"},
    )
    assert half.status_code == 422
    assert "both a start and an end" in half.text
    assert (
        await client.put(
            "/api/v1/me/availability", headers=headers, json={"availability": "inactive"}
        )
    ).status_code == 422, "only an administrator stops a volunteer"

    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE volunteers SET availability = 'inactive' WHERE id = :v"), {"v": me}
        )
    back = await client.put(
        "/api/v1/me/availability", headers=headers, json={"availability": "available"}
    )
    assert back.json()["availability"] == "inactive"
    assert (await _availability(engine, me))[0] == "inactive"


def _hours(start: str, end: str) -> tuple[object, object]:
    from datetime import time

    return time.fromisoformat(start), time.fromisoformat(end)
