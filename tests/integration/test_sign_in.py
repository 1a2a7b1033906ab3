"""Signing in and out through the API, with real PostgreSQL and Redis: volunteers by phone and a
one-time code, staff by password; sessions that end at once; CSRF on cookie sessions; limits;
security headers; and what the public map hides of a missing person."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api.auth.principals import AccountRole, Principal
from services.api.auth.staff import AccountError, add_staff, disable, new_password
from services.api.auth.tokens import issue_access
from services.api.main import create_app
from services.api.seed import seed_reference
from services.api.settings import ApiSettings, AuthOptions
from services.intake.tables import IncidentRow
from shared.db import build_sessionmaker
from shared.geo import as_multipolygon, geodesic_circle
from shared.positions import LivePositions
from shared.settings import DEVELOPMENT_SECRET, DatabaseSettings, RedisSettings
from tests.accounts import STAFF_PASSWORD, headers_for

pytestmark = pytest.mark.integration


@dataclass
class Api:
    app: FastAPI
    http: httpx.AsyncClient

    def last_code(self) -> str:
        return str(self.app.state.code_sender.sent[-1][1])


@pytest.fixture
async def api(
    database_settings: DatabaseSettings, redis_settings: RedisSettings
) -> AsyncIterator[Api]:
    settings = ApiSettings(
        environment="test",
        database=database_settings,
        redis=redis_settings,
        auth=AuthOptions(codes_per_phone=3, sign_ins_per_username=5, code_max_tries=3),
    )
    app = create_app(settings)
    # Each test from an address of its own, so the per-address limits start afresh.
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7"
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=(address, 5000)),
            base_url="http://testserver",
        ) as http,
    ):
        yield Api(app, http)


async def _volunteer(engine: AsyncEngine) -> tuple[uuid.UUID, str]:
    """A volunteer with a phone of their own; the phone as E.164."""
    await seed_reference(engine)
    volunteer_id = uuid.uuid4()
    digits = f"{uuid.uuid4().int % 10**7:07d}"
    phone = f"+7708{digits}"
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO volunteers (id, full_name, phone, birth_date, languages, region_code,"
                " home, transport_mode, availability) VALUES (:id, 'Sign-in Person', :phone,"
                " '1991-02-03', '{kk,ru}', 'KZ-39', ST_GeogFromText('POINT(63.6 53.2)'), 'car',"
                " 'available')"
            ),
            {"id": volunteer_id, "phone": phone},
        )
    return volunteer_id, phone


async def test_a_volunteer_signs_in_with_a_code_sent_to_their_phone(
    api: Api, engine: AsyncEngine
) -> None:
    volunteer_id, phone = await _volunteer(engine)
    written = "8 (708) " + phone[5:8] + "-" + phone[8:10] + "-" + phone[10:]  # as people write it

    asked = await api.http.post("/api/v1/auth/code", json={"phone": written})
    unknown = f"+7 700 {uuid.uuid4().int % 10**7:07d}"
    stranger = await api.http.post("/api/v1/auth/code", json={"phone": unknown})
    assert asked.status_code == stranger.status_code == 202
    assert asked.json() == stranger.json(), "nobody learns whether a number volunteers"
    assert api.app.state.code_sender.sent[-1][0] == phone, "one code, to the volunteer's phone"
    code = api.last_code()

    wrong = await api.http.post(
        "/api/v1/auth/code/verify",
        json={"phone": phone, "code": "999999" if code != "999999" else "000000"},
        headers={"Accept-Language": "ru"},
    )
    assert wrong.status_code == 401
    assert wrong.json() == {"detail": "Код неверный или устарел"}
    signed = await api.http.post("/api/v1/auth/code/verify", json={"phone": written, "code": code})
    assert signed.status_code == 200, signed.text
    body = signed.json()
    assert body["role"] == "volunteer" and body["volunteer_id"] == str(volunteer_id)
    assert "httponly" in signed.headers["set-cookie"].lower()
    assert signed.headers["cache-control"] == "no-store"

    me = await api.http.get(  # the cookie the browser keeps now
        "/api/v1/auth/me", cookies={"jedel_access": body["access_token"]}
    )
    assert me.status_code == 200
    assert me.json()["volunteer_id"] == str(volunteer_id)
    again = await api.http.post("/api/v1/auth/code/verify", json={"phone": phone, "code": code})
    assert again.status_code == 401, "a code works once"


async def test_a_code_dies_after_a_few_wrong_tries_and_codes_are_limited(
    api: Api, engine: AsyncEngine
) -> None:
    _, phone = await _volunteer(engine)
    await api.http.post("/api/v1/auth/code", json={"phone": phone})
    code = api.last_code()
    wrong = "111111" if code != "111111" else "222222"
    for _ in range(3):
        await api.http.post("/api/v1/auth/code/verify", json={"phone": phone, "code": wrong})
    late = await api.http.post("/api/v1/auth/code/verify", json={"phone": phone, "code": code})
    assert late.status_code == 401, "guessing a code is cut off after three tries"

    for _ in range(2):
        assert (await api.http.post("/api/v1/auth/code", json={"phone": phone})).status_code == 202
    too_many = await api.http.post(
        "/api/v1/auth/code", json={"phone": phone}, headers={"Accept-Language": "en"}
    )
    assert too_many.status_code == 429
    assert int(too_many.headers["retry-after"]) > 0
    assert too_many.json()["detail"].startswith("Too many attempts; try again in ")
    bad = await api.http.post("/api/v1/auth/code", json={"phone": "call me"})
    assert bad.status_code == 400
    assert bad.json() == {"detail": "Телефон нөмірін +7 701 123 45 67 түрінде жазыңыз"}


async def test_staff_sign_in_with_a_password_and_guessing_is_limited(
    api: Api, engine: AsyncEngine
) -> None:
    username = f"dispatcher-{uuid.uuid4().hex[:8]}"
    await headers_for(engine, AccountRole.DISPATCHER, regions=["KZ-39"], username=username)

    wrong = await api.http.post(
        "/api/v1/auth/sign-in",
        json={"username": username, "password": "not the password"},
        headers={"Accept-Language": "en"},
    )
    nobody = await api.http.post(
        "/api/v1/auth/sign-in",
        json={"username": "nobody-" + username, "password": STAFF_PASSWORD},
        headers={"Accept-Language": "en"},
    )
    assert wrong.status_code == nobody.status_code == 401
    assert wrong.json() == nobody.json() == {"detail": "Wrong username or password"}
    signed = await api.http.post(
        "/api/v1/auth/sign-in", json={"username": username.upper(), "password": STAFF_PASSWORD}
    )
    assert signed.status_code == 200, signed.text
    assert signed.json()["role"] == "dispatcher"
    assert signed.json()["regions"] == ["KZ-39"]
    for _ in range(3):
        await api.http.post(
            "/api/v1/auth/sign-in", json={"username": username, "password": "guess again"}
        )
    locked = await api.http.post(
        "/api/v1/auth/sign-in", json={"username": username, "password": STAFF_PASSWORD}
    )
    assert locked.status_code == 429, "the sixth attempt within the window is refused"


async def test_a_cookie_session_needs_its_csrf_token_and_ends_at_once(
    api: Api, engine: AsyncEngine
) -> None:
    username = f"coordinator-{uuid.uuid4().hex[:8]}"
    await headers_for(engine, AccountRole.COORDINATOR, regions=["KZ-39"], username=username)
    signed = await api.http.post(
        "/api/v1/auth/sign-in", json={"username": username, "password": STAFF_PASSWORD}
    )
    body = signed.json()
    cookies = {"jedel_access": body["access_token"], "jedel_csrf": body["csrf_token"]}

    forged = await api.http.post(
        "/api/v1/auth/sign-out", cookies=cookies, headers={"Accept-Language": "en"}
    )
    assert forged.status_code == 403, "another site can make the browser send the cookie"
    assert "did not come from your page" in forged.json()["detail"]
    assert (await api.http.get("/api/v1/auth/me", cookies=cookies)).status_code == 200

    out = await api.http.post(
        "/api/v1/auth/sign-out", cookies=cookies, headers={"X-CSRF-Token": body["csrf_token"]}
    )
    assert out.status_code == 204
    after = await api.http.get("/api/v1/auth/me", cookies=cookies)
    bearer = await api.http.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert after.status_code == bearer.status_code == 401, "the session's tokens stop at once"
    refreshed = await api.http.post(
        "/api/v1/auth/refresh", json={"refresh_token": body["refresh_token"]}
    )
    assert refreshed.status_code == 401


async def test_a_refresh_renews_the_token_and_old_or_forged_tokens_are_refused(
    api: Api, engine: AsyncEngine
) -> None:
    username = f"analyst-{uuid.uuid4().hex[:8]}"
    await headers_for(engine, AccountRole.ANALYST, username=username)
    body = (
        await api.http.post(
            "/api/v1/auth/sign-in", json={"username": username, "password": STAFF_PASSWORD}
        )
    ).json()
    renewed = await api.http.post(
        "/api/v1/auth/refresh", json={"refresh_token": body["refresh_token"]}
    )
    assert renewed.status_code == 200
    me = await api.http.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {renewed.json()['access_token']}"}
    )
    assert me.json()["role"] == "analyst"

    principal = Principal(
        account_id=uuid.UUID(me.json()["account_id"]),
        role=AccountRole.ADMIN,  # a forger promotes themself
        session_id=uuid.uuid4(),
    )
    now = datetime.now(UTC)
    forged = issue_access(principal, secret="x" * 40, now=now, lifetime=timedelta(minutes=5))
    expired = issue_access(
        principal,
        secret=DEVELOPMENT_SECRET,
        now=now - timedelta(hours=1),
        lifetime=timedelta(minutes=15),
    )
    unknown_session = issue_access(
        principal, secret=DEVELOPMENT_SECRET, now=now, lifetime=timedelta(minutes=5)
    )
    for token in (forged, expired, unknown_session, "not-a-token"):
        refused = await api.http.get(
            "/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}
        )
        assert refused.status_code == 401, token
        assert refused.headers["www-authenticate"] == "Bearer"


async def test_every_answer_carries_security_headers(api: Api) -> None:
    for path in ("/healthz", "/api/v1/regions", "/docs", "/r/" + "A" * 40):
        response = await api.http.get(path)
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        policy = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy
        assert ("'unsafe-inline'" in policy.split("script-src")[1].split(";")[0]) == (
            path == "/docs"
        ), "only the contract pages run inline scripts"


async def test_the_public_map_does_not_show_who_is_missing(api: Api, engine: AsyncEngine) -> None:
    await seed_reference(engine)
    seen = Point(63.62531, 53.21478)
    area = as_multipolygon(geodesic_circle(seen.x, seen.y, 3000))
    incident_id = uuid.uuid4()
    now = datetime.now(UTC)
    async with build_sessionmaker(engine)() as session, session.begin():
        session.add(
            IncidentRow(
                id=incident_id,
                type="missing_person",
                priority="critical",
                status="open",
                alert_status="Actual",
                is_exercise=False,
                source="missing_person",
                severity=None,
                urgency="Immediate",
                certainty="Observed",
                texts=[
                    {
                        "language": language,
                        "event": "Missing person",
                        "headline": "Aigerim Bekova, 7, last seen near the market",
                        "description": "red coat",
                        "instruction": "needs insulin",
                    }
                    for language in ("kk", "ru", "en")
                ],
                area=from_shape(area, srid=4326),
                area_km2=28.3,
                center=from_shape(seen, srid=4326),
                region_codes=["KZ-39"],
                subject=None,
                opened_at=now,
                updated_at=now,
                expires_at=None,
                version=1,
            )
        )
    here = await headers_for(engine, AccountRole.DISPATCHER, regions=["KZ-39"])
    elsewhere = await headers_for(engine, AccountRole.DISPATCHER, regions=["KZ-75"])
    volunteer_id, _ = await _volunteer(engine)
    volunteer = await headers_for(engine, AccountRole.VOLUNTEER, volunteer_id=volunteer_id)
    path = f"/api/v1/incidents/{incident_id}"

    for headers in ({}, elsewhere, volunteer):
        public = await api.http.get(path, headers=headers)
        assert public.status_code == 200
        for secret in ("Aigerim", "insulin", "red coat", "63.62531"):
            assert secret not in public.text, secret
        properties = public.json()["properties"]
        assert properties["type"] == "missing_person"
        assert properties["center"] == [63.63, 53.21], "about a kilometre, not the spot"
        [[box]] = public.json()["geometry"]["coordinates"]
        assert len(box) == 5, "a box on a 0.02° grid, not the circle around the spot"
        assert all(round(x * 50, 6).is_integer() for x, _ in box)
        listed = await api.http.get("/api/v1/incidents", headers=headers)
        assert "Aigerim" not in listed.text and "insulin" not in listed.text
    full = await api.http.get(path, headers=here)
    assert "Aigerim Bekova" in full.text and "needs insulin" in full.text
    assert full.json()["properties"]["center"] == [63.62531, 53.21478]


async def test_an_account_added_by_the_cli_signs_in_and_disabling_it_ends_its_sessions(
    api: Api, engine: AsyncEngine
) -> None:
    await seed_reference(engine)
    username = f"kostanay-{uuid.uuid4().hex[:6]}"
    password = new_password()
    async with build_sessionmaker(engine)() as session, session.begin():
        with pytest.raises(AccountError, match="regions"):
            await add_staff(
                session,
                username=username,
                role=AccountRole.DISPATCHER,
                regions=[],
                password=password,
                display_name="",
                now=datetime.now(UTC),
            )
        added = await add_staff(
            session,
            username=username,
            role=AccountRole.DISPATCHER,
            regions=["KZ-39"],
            password=password,
            display_name="Kostanay duty desk",
            now=datetime.now(UTC),
        )
    assert added.regions == ["KZ-39"]
    signed = await api.http.post(
        "/api/v1/auth/sign-in", json={"username": username, "password": password}
    )
    assert signed.status_code == 200
    token = signed.json()["access_token"]
    me = await api.http.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["display_name"] == "Kostanay duty desk"

    async with build_sessionmaker(engine)() as session, session.begin():
        assert await disable(session, username, now=datetime.now(UTC)) == 1
    after = await api.http.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert after.status_code == 401
    again = await api.http.post(
        "/api/v1/auth/sign-in", json={"username": username, "password": password}
    )
    assert again.status_code == 401, "a disabled account cannot sign in"


async def test_an_admin_adds_and_disables_staff_through_the_api(
    api: Api, engine: AsyncEngine
) -> None:
    await seed_reference(engine)
    admin = await headers_for(engine, AccountRole.ADMIN)
    username = f"aktobe-{uuid.uuid4().hex[:6]}"
    added = await api.http.post(
        "/api/v1/accounts",
        json={"username": username, "role": "dispatcher", "regions": ["KZ-15"]},
        headers=admin,
    )
    assert added.status_code == 201, added.text
    assert added.headers["cache-control"] == "no-store"
    password = added.json()["password"]
    assert len(password) >= 12
    signed = await api.http.post(
        "/api/v1/auth/sign-in", json={"username": username, "password": password}
    )
    assert signed.json()["regions"] == ["KZ-15"]
    listed = await api.http.get("/api/v1/accounts", headers=admin)
    assert username in {account["username"] for account in listed.json()}
    assert "password" not in listed.text and "$argon2" not in listed.text

    nowhere = await api.http.post(
        "/api/v1/accounts",
        json={"username": username + "x", "role": "dispatcher", "regions": ["KZ-99"]},
        headers=admin,
    )
    assert nowhere.status_code == 400 and "unknown regions" in nowhere.json()["detail"]
    disabled = await api.http.post(f"/api/v1/accounts/{username}/disable", headers=admin)
    assert disabled.json()["disabled"] is True
    token = signed.json()["access_token"]
    me = await api.http.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401


async def test_a_volunteer_erased_on_request_keeps_only_an_id(
    api: Api, engine: AsyncEngine, redis_settings: RedisSettings
) -> None:
    volunteer_id, phone = await _volunteer(engine)
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO certifications (volunteer_id, type, issued_on, expires_on, home)"
                " VALUES (:v, 'first_aid', '2025-01-01', '2028-01-01',"
                " ST_GeogFromText('POINT(63.6 53.2)'))"
            ),
            {"v": volunteer_id},
        )
        await connection.execute(
            text(
                "INSERT INTO track_points (incident_id, volunteer_id, recorded_at, location)"
                " VALUES (:i, :v, now(), ST_GeogFromText('POINT(63.61 53.21)')),"
                " (:i, :v, now() - interval '1 minute', ST_GeogFromText('POINT(63.62 53.21)'))"
            ),
            {"i": uuid.uuid4(), "v": volunteer_id},
        )
    positions = LivePositions(api.app.state.redis)
    await positions.record(
        volunteer_id, longitude=63.6, latitude=53.2, recorded_at=datetime.now(UTC)
    )
    own = await headers_for(engine, AccountRole.VOLUNTEER, volunteer_id=volunteer_id)
    dispatcher = await headers_for(engine, AccountRole.DISPATCHER, regions=["KZ-39"])
    path = f"/api/v1/volunteers/{volunteer_id}/erase"

    assert (await api.http.post(path, headers=dispatcher)).status_code == 403
    erased = await api.http.post(path, headers=await headers_for(engine, AccountRole.ADMIN))
    assert erased.status_code == 200, erased.text
    assert erased.json()["certificates_deleted"] == 1
    assert erased.json()["accounts_deleted"] == 1
    assert erased.json()["track_points_deleted"] == 2, "where they went goes with them"

    async with engine.connect() as connection:
        row = (
            await connection.execute(
                text(
                    "SELECT full_name, phone, birth_date, availability,"
                    " ST_AsText(home::geometry) AS home FROM volunteers WHERE id = :v"
                ),
                {"v": volunteer_id},
            )
        ).one()
    assert row.full_name != "Sign-in Person" and phone not in row.phone
    assert str(row.birth_date) == "1900-01-01" and row.availability == "inactive"
    assert row.home != "POINT(63.6 53.2)"
    assert (await api.http.get("/api/v1/auth/me", headers=own)).status_code == 401
    assert await positions.of([volunteer_id]) == {}
    again = await api.http.post(
        f"/api/v1/volunteers/{uuid.uuid4()}/erase",
        headers=await headers_for(engine, AccountRole.ADMIN),
    )
    assert again.status_code == 404


async def test_signing_in_again_clears_the_accounts_ended_sessions(
    api: Api, engine: AsyncEngine
) -> None:
    """Every sign-in opens a session; those that have ended (signed out, expired) go with the
    next sign-in, while one still open on another device stays signed in."""
    username = f"dispatcher-{uuid.uuid4().hex[:8]}"
    await headers_for(engine, AccountRole.DISPATCHER, regions=["KZ-39"], username=username)
    credentials = {"username": username, "password": STAFF_PASSWORD}

    async def sign_in() -> str:
        signed = await api.http.post("/api/v1/auth/sign-in", json=credentials)
        assert signed.status_code == 200, signed.text
        return str(signed.json()["access_token"])

    async def sessions() -> dict[str, int]:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text(
                    "SELECT CASE WHEN revoked_at IS NOT NULL THEN 'signed out' "
                    "WHEN expires_at <= now() THEN 'expired' ELSE 'open' END, count(*) "
                    "FROM account_sessions s JOIN accounts a ON a.id = s.account_id "
                    "WHERE a.username = :username GROUP BY 1"
                ),
                {"username": username},
            )
            return {str(state): int(count) for state, count in rows}

    signed_out = await sign_in()
    out = await api.http.post(
        "/api/v1/auth/sign-out", headers={"Authorization": f"Bearer {signed_out}"}
    )
    assert out.status_code in (200, 204), out.text
    await sign_in()  # to expire
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "UPDATE account_sessions s SET expires_at = now() - interval '1 day' "
                "FROM accounts a WHERE a.id = s.account_id AND a.username = :username "
                "AND s.revoked_at IS NULL"
            ),
            {"username": username},
        )
    other_device = await sign_in()
    assert await sessions() == {"open": 1}, "the signed-out and the expired session are gone"

    await sign_in()

    assert await sessions() == {"open": 2}
    me = await api.http.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {other_device}"})
    assert me.status_code == 200, "a session still open stays signed in"
