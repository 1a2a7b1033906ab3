"""A phone reports its position over HTTP; the API publishes it on `locations.v1` — only with
the volunteer's consent, stamped with the time Jedel received it, never from the future."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api.auth.principals import AccountRole
from services.api.seed import seed_reference
from shared.events import topics
from shared.settings import KafkaSettings
from tests.accounts import headers_for
from tests.factories import insert_volunteer
from tests.kafka_tail import Tail

pytestmark = pytest.mark.integration


async def _volunteer(engine: AsyncEngine) -> uuid.UUID:
    await seed_reference(engine)
    return await insert_volunteer(engine, "Located Person", phone_prefix="+7707")


async def test_positions_need_consent_and_are_published_stamped_by_the_api(
    client: httpx.AsyncClient, engine: AsyncEngine, kafka_settings: KafkaSettings
) -> None:
    volunteer_id = await _volunteer(engine)
    me = await headers_for(engine, AccountRole.VOLUNTEER, volunteer_id=volunteer_id)
    now = datetime.now(UTC)
    fixes = {
        "fixes": [
            {
                "longitude": 63.61,
                "latitude": 53.21,
                "recorded_at": (now - timedelta(minutes=2)).isoformat(),
            },
            {
                "longitude": 63.62,
                "latitude": 53.22,
                "accuracy_m": 8,
                "recorded_at": now.isoformat(),
            },
            # A phone whose clock runs a day ahead, and a fix from last week: neither is taken.
            {
                "longitude": 1.0,
                "latitude": 1.0,
                "recorded_at": (now + timedelta(days=1)).isoformat(),
            },
            {
                "longitude": 2.0,
                "latitude": 2.0,
                "recorded_at": (now - timedelta(days=7)).isoformat(),
            },
        ]
    }

    refused = await client.post(
        "/api/v1/me/locations", json=fixes, headers={**me, "Accept-Language": "en"}
    )
    assert refused.status_code == 403
    assert "agreed to share your location" in refused.json()["detail"]
    assert (await client.get("/api/v1/me/consents", headers=me)).json() == [
        {"kind": "location_sharing", "given": False}
    ]
    given = await client.put(
        "/api/v1/me/consents/location_sharing", json={"given": True}, headers=me
    )
    assert given.json() == {"kind": "location_sharing", "given": True}

    tail = await Tail.open(kafka_settings, [topics.LOCATIONS])
    try:
        taken = await client.post("/api/v1/me/locations", json=fixes, headers=me)
        assert taken.status_code == 200, taken.text
        assert (taken.json()["accepted"], taken.json()["refused"]) == (2, 2)
        mine = await tail.wait_for(lambda r: r.key == str(volunteer_id).encode(), count=2)
    finally:
        await tail.close()
    events = [json.loads(record.value) for record in mine]
    assert sorted((e["longitude"], e["latitude"]) for e in events) == [
        (63.61, 53.21),
        (63.62, 53.22),
    ]
    received = datetime.fromisoformat(taken.json()["received_at"])
    assert all(datetime.fromisoformat(e["occurred_at"]) == received for e in events)
    assert all(record.headers["event_type"] == "VolunteerLocated" for record in mine)

    withdrawn = await client.put(
        "/api/v1/me/consents/location_sharing", json={"given": False}, headers=me
    )
    assert withdrawn.json()["given"] is False
    again = await client.post("/api/v1/me/locations", json=fixes, headers=me)
    assert again.status_code == 403, "withdrawing consent stops the reports at once"
    async with engine.connect() as connection:
        records = await connection.scalar(
            text("SELECT count(*) FROM consents WHERE volunteer_id = :v"), {"v": volunteer_id}
        )
    assert records == 2, "every change of mind is on record"
    too_many = await client.post(
        "/api/v1/me/locations",
        json={"fixes": [fixes["fixes"][0]] * 201},
        headers=me,
    )
    assert too_many.status_code == 422
