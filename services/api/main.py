"""The HTTP API: incidents and regions as GeoJSON, answers to offers, the group and the
explanations for dispatchers, health, and the contracts served offline.

`create_app` builds the application; the database engine and the Kafka producer are made when the
app starts, not here. Run it with `python -m services.api.main` (host and port from
`JEDEL_API__HOST`/`__PORT`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from uuid import UUID

import uvicorn
from fastapi import FastAPI, Request
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.api import callouts
from services.api.asyncapi import asyncapi_document
from services.api.auth.delivery import LoggedCodes, TextedCodes
from services.api.auth.limits import TooManyAttempts
from services.api.errors import (
    AuthUnavailable,
    BadCorrection,
    BrokerUnavailable,
    Forbidden,
    GroupNotSteerable,
    InboundSmsUnavailable,
    IncidentNotFound,
    InvalidPhone,
    InvalidQueryError,
    MobilizationNotFound,
    NotDeployed,
    NotSignedIn,
    NotYourOffer,
    OfferNotFound,
    RefusalHandled,
    RefusalNotFound,
    SenderNotFound,
    VolunteerNotFound,
)
from services.api.live import LiveHub
from services.api.messages import message, preferred_language
from services.api.publisher import EventPublisher
from services.api.routes import (
    accounts,
    answer_page,
    areas,
    auth,
    console,
    docs,
    health,
    incidents,
    live,
    me,
    mobilization,
    offers,
    own_offers,
    positions,
    refused_alerts,
    regions,
    reports,
    senders,
    sms,
    volunteer_app,
    volunteers,
)
from services.api.security import SecurityHeaders
from services.api.settings import ApiSettings
from shared.db import build_engine, build_sessionmaker
from shared.logs import configure_logging
from shared.metrics import HttpMetrics
from shared.redis_client import connect_redis

STATIC_DIR = Path(__file__).parent / "static"

DESCRIPTION = (
    "Jedel turns emergency alerts in Kazakhstan into incidents and mobilises trained volunteers. "
    "Geometry is GeoJSON (RFC 7946): WGS 84, `[lon, lat]`. The event contracts are at "
    "[/asyncapi](/asyncapi)."
)


def _lifespan(settings: ApiSettings) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = build_engine(settings.database, application_name="jedel-api")
        app.state.sessionmaker = build_sessionmaker(engine)
        # Without a broker the API still serves every read; answers connect again when they come.
        publisher = EventPublisher(settings.kafka, timeout_s=settings.api.publish_timeout_s)
        await publisher.connect()
        app.state.publisher = publisher
        app.state.redis = connect_redis(settings.redis)
        app.state.code_sender = LoggedCodes() if settings.auth.log_codes else TextedCodes(publisher)
        app.state.live = LiveHub(app.state.redis, _regions_reader(app.state.sessionmaker))
        app.state.live.start()
        try:
            yield
        finally:
            await app.state.live.stop()
            await publisher.stop()
            await app.state.redis.aclose()
            await engine.dispose()

    return lifespan


def _regions_reader(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> Callable[[UUID], Awaitable[list[str]]]:
    async def regions_of(incident_id: UUID) -> list[str]:
        async with sessionmaker() as session:
            return await callouts.operating_regions(session, incident_id)

    return regions_of


async def _not_found(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(status_code=404, content={"detail": str(exc)})


async def _bad_query(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(status_code=400, content={"detail": str(exc)})


def _said(status_code: int, key: str) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    """A handler answering `status_code` with the message `key` in the caller's language."""

    async def handler(request: Request, exc: Exception) -> JSONResponse:
        language = preferred_language(request.headers.get("accept-language"))
        return JSONResponse(
            status_code=status_code,
            content={"detail": message(key, language)},
            headers={"Content-Language": language},
        )

    return handler


def _refused(status_code: int) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    """A handler for refusals that carry a message `key` (`NotSignedIn`, `Forbidden`,
    `GroupNotSteerable`): the message it names."""

    async def handler(request: Request, exc: Exception) -> JSONResponse:
        language = preferred_language(request.headers.get("accept-language"))
        key = getattr(exc, "key", "auth.forbidden")
        headers: dict[str, str] = {"Content-Language": language}
        if status_code == 401:
            headers["WWW-Authenticate"] = "Bearer"
        return JSONResponse(
            status_code=status_code, content={"detail": message(key, language)}, headers=headers
        )

    return handler


async def _too_many(request: Request, exc: Exception) -> JSONResponse:
    language = preferred_language(request.headers.get("accept-language"))
    seconds = exc.retry_after_s if isinstance(exc, TooManyAttempts) else 60
    return JSONResponse(
        status_code=429,
        content={"detail": message("auth.too_many", language, seconds=seconds)},
        headers={"Retry-After": str(seconds), "Content-Language": language},
    )


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    settings = settings or ApiSettings()
    contracts = asyncapi_document(settings.kafka)
    app = FastAPI(
        title="Jedel API",
        description=DESCRIPTION,
        version=contracts["info"]["version"],
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=_lifespan(settings),
    )
    app.state.settings = settings
    app.state.asyncapi_document = contracts
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(HttpMetrics)  # outermost: every request is counted, errors included
    app.add_exception_handler(IncidentNotFound, _not_found)
    app.add_exception_handler(InvalidQueryError, _bad_query)
    app.add_exception_handler(MobilizationNotFound, _said(404, "mobilization.not_found"))
    app.add_exception_handler(OfferNotFound, _said(404, "offer.not_found"))
    app.add_exception_handler(VolunteerNotFound, _said(404, "volunteer.not_found"))
    app.add_exception_handler(NotYourOffer, _said(403, "offer.not_yours"))
    app.add_exception_handler(BrokerUnavailable, _said(503, "broker.unavailable"))
    app.add_exception_handler(NotSignedIn, _refused(401))
    app.add_exception_handler(Forbidden, _refused(403))
    app.add_exception_handler(GroupNotSteerable, _refused(409))
    app.add_exception_handler(RefusalNotFound, _said(404, "refusal.not_found"))
    app.add_exception_handler(RefusalHandled, _refused(409))
    app.add_exception_handler(BadCorrection, _refused(422))
    app.add_exception_handler(NotDeployed, _refused(409))
    app.add_exception_handler(InboundSmsUnavailable, _said(503, "sms.not_configured"))
    app.add_exception_handler(SenderNotFound, _said(404, "sender.not_found"))
    app.add_exception_handler(TooManyAttempts, _too_many)
    app.add_exception_handler(AuthUnavailable, _said(503, "auth.unavailable"))
    app.add_exception_handler(InvalidPhone, _said(400, "auth.bad_phone"))
    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(accounts.router)
    app.include_router(incidents.router)
    app.include_router(mobilization.router)
    app.include_router(areas.router)
    app.include_router(offers.router)
    app.include_router(positions.router)
    app.include_router(own_offers.router)
    app.include_router(me.router)
    app.include_router(volunteers.router)
    app.include_router(answer_page.router)
    app.include_router(volunteer_app.router)
    app.include_router(console.router)
    app.include_router(regions.router)
    app.include_router(live.router)
    app.include_router(refused_alerts.router)
    app.include_router(sms.router)
    app.include_router(senders.router)
    app.include_router(reports.router)
    app.include_router(docs.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def main() -> None:
    settings = ApiSettings()
    configure_logging("api", level=settings.log_level, json_lines=settings.json_logs)
    uvicorn.run(
        create_app(settings), host=settings.api.host, port=settings.api.port, log_config=None
    )


if __name__ == "__main__":
    main()
