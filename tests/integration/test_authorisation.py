"""Who may call what: every route of the API, generated from its route table, tried by every kind of
caller. A route added without a line in `POLICY` fails `test_every_route_has_a_policy`.

The callers are real accounts with live sessions in the database; the incident is mobilised in
Kostanay region (KZ-39) and its offer was made to `volunteer`. "Allowed" means the answer is not
401/403 (a 404 for a missing item or a 422 for a bad body still means the door was open);
"refused" means exactly 401 for the anonymous and 403 for the signed in.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.routing import Mount

from services.api.auth import accounts
from services.api.auth.principals import AccountRole
from services.api.main import create_app
from services.api.seed import seed_reference
from services.api.settings import ApiOptions, ApiSettings
from shared import answer_links
from shared.db import build_sessionmaker
from shared.events.base import utc_now
from shared.settings import DEVELOPMENT_SECRET, DatabaseSettings, KafkaSettings, RedisSettings
from tests.accounts import headers_for
from tests.factories import insert_volunteer

pytestmark = pytest.mark.integration


class Access(Enum):
    PUBLIC = "anyone, signed in or not"
    SIGN_IN = "anyone may try; what they prove decides (wrong credentials: 401, never 403)"
    SIGNED_IN = "any signed-in account"
    OWN_OFFER = "only the volunteer the offer was made to"
    VOLUNTEER = "any volunteer, about themself only"
    OPERATOR = "dispatchers and coordinators of the incident's regions, and admins"
    DISPATCHERS = "any dispatcher (each sees their regions' refused alerts) and admins"
    REFUSAL = "dispatchers of the refused alert's regions, and admins"
    ADMIN = "admins only"
    ANALYST = "analysts and admins: counts, nothing personal"
    GATEWAY = "only the SMS gateway, by its own token: every person is 401, signed in or not"


POLICY: dict[str, Access] = {
    # Health, metrics and the contracts hold nothing personal.
    "GET /healthz": Access.PUBLIC,
    "GET /readyz": Access.PUBLIC,
    "GET /metrics": Access.PUBLIC,
    "GET /openapi.json": Access.PUBLIC,
    "GET /docs": Access.PUBLIC,
    "GET /asyncapi": Access.PUBLIC,
    "GET /asyncapi.json": Access.PUBLIC,
    "GET /app": Access.PUBLIC,  # the shell only: every datum it shows comes from a guarded route
    "GET /app/sw.js": Access.PUBLIC,
    "GET /console": Access.PUBLIC,  # the shell only, like /app
    # The public map: incidents without personal data (privacy tests below), regions.
    "GET /api/v1/incidents": Access.PUBLIC,
    "GET /api/v1/incidents/{incident_id}": Access.PUBLIC,
    "GET /api/v1/regions": Access.PUBLIC,
    "GET /api/v1/settlements": Access.PUBLIC,  # reference data: names, points, populations
    # Anyone may listen; what each hears is filtered by who they are (test_live.py).
    "GET /api/v1/live": Access.PUBLIC,
    # Signing in is open to all; its own limits and checks are tested in test_sign_in.
    "POST /api/v1/auth/code": Access.PUBLIC,
    "POST /api/v1/auth/code/verify": Access.SIGN_IN,
    "POST /api/v1/auth/sign-in": Access.SIGN_IN,
    "POST /api/v1/auth/refresh": Access.SIGN_IN,
    "POST /api/v1/auth/sign-out": Access.SIGNED_IN,
    "GET /api/v1/auth/me": Access.SIGNED_IN,
    # The SMS answer page: its signed token is the credential (a wrong one is refused below).
    "GET /r/{token}": Access.PUBLIC,
    "POST /r/{token}/accept": Access.PUBLIC,
    "POST /r/{token}/decline": Access.PUBLIC,
    "POST /api/v1/offers/{offer_id}/accept": Access.OWN_OFFER,
    "POST /api/v1/offers/{offer_id}/decline": Access.OWN_OFFER,
    "POST /api/v1/sms/inbound": Access.GATEWAY,
    "POST /api/v1/me/offers/{offer_id}/field-status": Access.OWN_OFFER,
    "GET /api/v1/accounts": Access.ADMIN,
    "GET /api/v1/senders": Access.ADMIN,
    "GET /api/v1/reports/regions": Access.ANALYST,
    "POST /api/v1/senders/suspend": Access.ADMIN,
    "POST /api/v1/senders/resume": Access.ADMIN,
    "POST /api/v1/accounts": Access.ADMIN,
    "POST /api/v1/accounts/{username}/disable": Access.ADMIN,
    "POST /api/v1/volunteers/{volunteer_id}/erase": Access.ADMIN,
    "GET /api/v1/me/offers": Access.VOLUNTEER,
    "POST /api/v1/me/locations": Access.VOLUNTEER,
    "GET /api/v1/me/consents": Access.VOLUNTEER,
    "PUT /api/v1/me/consents/{kind}": Access.VOLUNTEER,
    "GET /api/v1/me": Access.VOLUNTEER,
    "PUT /api/v1/me/availability": Access.VOLUNTEER,
    "GET /api/v1/incidents/{incident_id}/mobilization": Access.OPERATOR,
    "GET /api/v1/incidents/{incident_id}/explanations": Access.OPERATOR,
    "GET /api/v1/incidents/{incident_id}/tracks": Access.OPERATOR,
    "GET /api/v1/incidents/{incident_id}/standing-groups": Access.OPERATOR,
    "POST /api/v1/incidents/{incident_id}/mobilization/budget": Access.OPERATOR,
    "POST /api/v1/incidents/{incident_id}/mobilization/members/{volunteer_id}/release": (
        Access.OPERATOR
    ),
    "POST /api/v1/incidents/{incident_id}/mobilization/call-off": Access.OPERATOR,
    "POST /api/v1/incidents/{incident_id}/mobilization/widen": Access.OPERATOR,
    "POST /api/v1/incidents/{incident_id}/mobilization/ask": Access.OPERATOR,
    "POST /api/v1/incidents/{incident_id}/area": Access.OPERATOR,
    # The queue of refused alerts: a refused report names a missing person (test_refused_alerts).
    "GET /api/v1/refused-alerts": Access.DISPATCHERS,
    "GET /api/v1/refused-alerts/{refusal_id}": Access.REFUSAL,
    "POST /api/v1/refused-alerts/{refusal_id}/resubmit": Access.REFUSAL,
    "POST /api/v1/refused-alerts/{refusal_id}/dismiss": Access.REFUSAL,
}

CALLERS = (
    "anonymous",
    "volunteer",
    "other_volunteer",
    "dispatcher_here",
    "dispatcher_elsewhere",
    "coordinator_here",
    "analyst",
    "admin",
)
ALLOWED: dict[Access, frozenset[str]] = {
    Access.PUBLIC: frozenset(CALLERS),
    Access.SIGN_IN: frozenset(CALLERS),
    Access.SIGNED_IN: frozenset(CALLERS) - {"anonymous"},
    Access.OWN_OFFER: frozenset({"volunteer"}),
    Access.VOLUNTEER: frozenset({"volunteer", "other_volunteer"}),
    Access.OPERATOR: frozenset({"dispatcher_here", "coordinator_here", "admin"}),
    Access.ADMIN: frozenset({"admin"}),
    Access.ANALYST: frozenset({"analyst", "admin"}),
    Access.GATEWAY: frozenset(),
    Access.DISPATCHERS: frozenset({"dispatcher_here", "dispatcher_elsewhere", "admin"}),
    Access.REFUSAL: frozenset({"dispatcher_here", "admin"}),
}


def route_table(app: FastAPI) -> set[str]:
    """Every `METHOD /path` the app answers (HEAD and OPTIONS come with GET and CORS)."""
    found = set()
    for route in app.routes:
        # FastAPI ≥ 0.160 keeps an included router as one entry that expands into its routes.
        expand = getattr(route, "effective_route_contexts", None)
        if isinstance(route, Mount):
            continue  # /static: files, no personal data
        routes: list[Any] = list(expand()) if expand is not None else [route]
        for each in routes:
            for method in getattr(each, "methods", None) or ():
                if method not in {"HEAD", "OPTIONS"}:
                    found.add(f"{method} {each.path}")
    assert len(found) > 10, "the route table came out (nearly) empty: the walk is wrong"
    return found


def test_every_route_has_a_policy() -> None:
    routes = route_table(create_app(ApiSettings(environment="test")))
    missing = sorted(routes - POLICY.keys())
    stale = sorted(POLICY.keys() - routes)
    assert not missing, f"routes with no line in POLICY (say who may call them): {missing}"
    assert not stale, f"POLICY lines for routes that no longer exist: {stale}"


@dataclass(frozen=True)
class World:
    incident_id: uuid.UUID
    offer_id: uuid.UUID
    refusal_id: uuid.UUID
    link: str
    headers: dict[str, dict[str, str]]


async def _volunteer(engine: AsyncEngine) -> uuid.UUID:
    return await insert_volunteer(engine, "Matrix Person", phone_prefix="+7709")


@pytest.fixture(scope="module")
async def world(engine: AsyncEngine) -> World:
    """A group being formed in KZ-39 and one offer of it; an account for every kind of caller."""
    await seed_reference(engine)  # the volunteers' region must exist
    volunteer, other = await _volunteer(engine), await _volunteer(engine)
    incident_id, offer_id, refusal_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    now = utc_now()
    expires_at = now + timedelta(minutes=10)
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO mobilizations (incident_id, status, playbook, incident_type, priority,"
                " is_exercise, headline, center, region_code, needed, radius_m, wave, started_at,"
                " deadline_at, incident_version, offer_budget, offers_sent) VALUES (:i, 'active',"
                " 'matrix', 'flood', 'high', false, 'Matrix flood',"
                " ST_GeogFromText('POINT(63.6 53.2)'), 'KZ-39', '{\"leader\": 1}', 5000, 1, :now,"
                " :deadline, 1, 12, 1)"
            ),
            {"i": incident_id, "now": now, "deadline": now + timedelta(hours=1)},
        )
        await connection.execute(
            text(
                "INSERT INTO offers (id, incident_id, volunteer_id, role, wave, status, eta_s,"
                " distance_m, p_accept, offered_at, expires_at, language, contact_phone) VALUES"
                " (:o, :i, :v, 'leader', 1, 'pending', 600, 4000, 0.5, :now, :expires, 'kk',"
                " '+77090000000')"
            ),
            {"o": offer_id, "i": incident_id, "v": volunteer, "now": now, "expires": expires_at},
        )
        # A refused missing-person report about KZ-39. Read from a topic nothing resubmits to,
        # so a caller let in to resubmit it meets 409 and nothing reaches the intake.
        await connection.execute(
            text(
                "INSERT INTO refused_alerts (id, code, reason, source_topic, source_partition,"
                " source_offset, sender, region_codes, message, refused_at, status) VALUES"
                " (:r, 'sent_in_future', 'Matrix', 'matrix.alerts', 0, :offset, 'Matrix unit',"
                " '{KZ-39}', :message, :now, 'open')"
            ),
            {
                "r": refusal_id,
                "offset": uuid.uuid4().int % 2**62,
                "message": b'{"name": "Matrix Person"}',
                "now": now,
            },
        )
    async with build_sessionmaker(engine)() as session, session.begin():
        for person in (volunteer, other):  # so that their location reports are taken
            await accounts.record_consent(
                session, person, kind="location_sharing", given=True, now=now
            )
    headers = {
        "anonymous": {},
        "volunteer": await headers_for(engine, AccountRole.VOLUNTEER, volunteer_id=volunteer),
        "other_volunteer": await headers_for(engine, AccountRole.VOLUNTEER, volunteer_id=other),
        "dispatcher_here": await headers_for(engine, AccountRole.DISPATCHER, regions=["KZ-39"]),
        "dispatcher_elsewhere": await headers_for(
            engine, AccountRole.DISPATCHER, regions=["KZ-75"]
        ),
        "coordinator_here": await headers_for(engine, AccountRole.COORDINATOR, regions=["KZ-39"]),
        "analyst": await headers_for(engine, AccountRole.ANALYST),
        "admin": await headers_for(engine, AccountRole.ADMIN),
    }
    link = answer_links.sign(
        DEVELOPMENT_SECRET, offer_id=offer_id, volunteer_id=volunteer, offer_expires_at=expires_at
    )
    return World(
        incident_id=incident_id,
        offer_id=offer_id,
        refusal_id=refusal_id,
        link=link,
        headers=headers,
    )


@pytest.fixture(scope="module")
async def client(
    database_settings: DatabaseSettings,
    kafka_settings: KafkaSettings,
    redis_settings: RedisSettings,
) -> AsyncIterator[httpx.AsyncClient]:
    settings = ApiSettings(
        environment="test",
        database=database_settings,
        kafka=kafka_settings,
        redis=redis_settings,
        # An answer is queued, not waited for; a live stream ends at once (ASGI buffers it).
        api=ApiOptions(
            answer_wait_s=0, live_max_s=0.1, sms_inbound_token=SecretStr("the-gateway-only")
        ),
    )
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=(f"10.9.{uuid.uuid4().int % 250}.1", 1)),
            base_url="http://testserver",
            timeout=30,
        ) as http,
    ):
        yield http


def _path(template: str, world: World) -> str:
    values = {
        "incident_id": str(world.incident_id),
        "offer_id": str(world.offer_id),
        "refusal_id": str(world.refusal_id),
        "token": world.link,
        "kind": "location_sharing",
        "username": "nobody-by-this-name",
        # Nobody: an admin gets 404, nothing is erased; a dispatcher releases no one.
        "volunteer_id": str(uuid.uuid4()),
    }
    path = template
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, f"no value for a parameter of {template}: add it to _path"
    return path


BODIES: dict[str, dict[str, Any]] = {
    "POST /api/v1/me/locations": {
        "fixes": [{"longitude": 63.6, "latitude": 53.2, "recorded_at": utc_now().isoformat()}]
    },
    "PUT /api/v1/me/consents/{kind}": {"given": True},
    "PUT /api/v1/me/availability": {"availability": "available"},
    # The offer is pending, not taken: its volunteer meets 409, everyone else the door.
    "POST /api/v1/me/offers/{offer_id}/field-status": {"status": "on_scene"},
    "POST /api/v1/accounts": {"username": "x", "role": "analyst"},  # too short: 422 if let in
    # A valid body, so a dispatcher of another region meets the region check, not validation.
    "POST /api/v1/incidents/{incident_id}/mobilization/budget": {"by": 1},
    "POST /api/v1/refused-alerts/{refusal_id}/resubmit": {"message": "{}"},
    # A leader is needed in the matrix's group; nobody by this id: 404 once let in.
    "POST /api/v1/incidents/{incident_id}/mobilization/ask": {
        "volunteer_id": str(uuid.uuid4()),
        "role": "leader",
    },
    "POST /api/v1/incidents/{incident_id}/area": {"center": [63.6, 53.2], "radius_m": 2000},
    # Nobody by that name: an admin meets 404, and no real sender is stopped for other tests.
    "POST /api/v1/senders/suspend": {"sender_id": "nobody@example.com", "reason": "matrix"},
    "POST /api/v1/senders/resume": {"sender_id": "nobody@example.com"},
    "POST /api/v1/sms/inbound": {"from": "+7 709 000 00 01", "text": "да"},
    "POST /api/v1/auth/code": {"phone": "+7 709 000 00 01"},
    "POST /api/v1/auth/code/verify": {"phone": "+7 709 000 00 01", "code": "000000"},
    "POST /api/v1/auth/sign-in": {"username": "nobody-here", "password": "wrong password 1"},
}


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("route", sorted(POLICY))
async def test_each_caller_gets_what_the_policy_says(
    client: httpx.AsyncClient, world: World, route: str, caller: str
) -> None:
    method, template = route.split(" ", 1)
    if route == "POST /api/v1/auth/sign-out":
        # Signing out ends the session; use one of its own so the others stay signed in.
        headers = await _fresh_session(caller, world)
    else:
        headers = world.headers[caller]
    response = await client.request(
        method, _path(template, world), headers=headers, json=BODIES.get(route)
    )
    allowed = caller in ALLOWED[POLICY[route]]
    if POLICY[route] is Access.SIGN_IN:
        assert response.status_code not in (403, 500), response.text[:200]
    elif POLICY[route] is Access.GATEWAY:
        assert response.status_code == 401, f"{caller}: {response.status_code}"
    elif allowed:
        assert response.status_code not in (401, 403), (
            f"{caller} should be let in to {route} ({POLICY[route].value}): "
            f"{response.status_code} {response.text[:200]}"
        )
    else:
        expected = 401 if caller == "anonymous" else 403
        assert response.status_code == expected, (
            f"{caller} should be refused {route} ({POLICY[route].value}) with {expected}: "
            f"{response.status_code} {response.text[:200]}"
        )
        assert "Matrix Person" not in response.text


_ENGINE: list[AsyncEngine] = []


@pytest.fixture(scope="module", autouse=True)
def _keep_engine(engine: AsyncEngine) -> None:
    _ENGINE[:] = [engine]


async def _fresh_session(caller: str, world: World) -> dict[str, str]:
    if caller == "anonymous":
        return {}
    [engine] = _ENGINE
    role = {
        "volunteer": AccountRole.VOLUNTEER,
        "other_volunteer": AccountRole.VOLUNTEER,
        "dispatcher_here": AccountRole.DISPATCHER,
        "dispatcher_elsewhere": AccountRole.DISPATCHER,
        "coordinator_here": AccountRole.COORDINATOR,
        "analyst": AccountRole.ANALYST,
        "admin": AccountRole.ADMIN,
    }[caller]
    if role is AccountRole.VOLUNTEER:
        return await headers_for(engine, role, volunteer_id=await _volunteer(engine))
    return await headers_for(engine, role, regions=["KZ-39"])


async def test_a_wrong_answer_link_opens_nothing(client: httpx.AsyncClient, world: World) -> None:
    forged = answer_links.sign(
        "another-secret-of-at-least-32-characters",
        offer_id=world.offer_id,
        volunteer_id=uuid.uuid4(),
        offer_expires_at=utc_now() + timedelta(minutes=10),
    )
    for path in (f"/r/{forged}", f"/r/{world.offer_id}", "/r/" + "A" * 40):
        page = await client.get(path, params={"lang": "en"})
        assert page.status_code == 404
        assert "This link is not valid or has expired" in page.text
        assert "Matrix flood" not in page.text
    refused = await client.post(f"/r/{forged}/accept")
    assert refused.status_code == 404
