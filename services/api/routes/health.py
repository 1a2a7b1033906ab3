"""Liveness, readiness and metrics.

- `/healthz`: the API is only useful when it can read the database (what orchestrators poll).
- `/readyz`: everything the API works with: the database for every read, the broker for answers
  to offers; 503 names what it waits for. (The API itself uses no Redis.)
- `/metrics`: Prometheus text (`shared.metrics`): aggregate counts and times, per route template,
  with nothing personal in them. Open like the health checks; deployments keep the port inside.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from sqlalchemy import text

from services.api.deps import PublisherDep, SessionDep, SessionmakerDep, SettingsDep
from services.api.schemas import Health, Readiness
from shared import status

log = logging.getLogger(__name__)

router = APIRouter(tags=["health"])


@router.get(
    "/healthz",
    response_model=Health,
    responses={503: {"model": Health, "description": "The database cannot be reached"}},
)
async def healthz(session: SessionDep, settings: SettingsDep) -> Health | JSONResponse:
    try:
        async with asyncio.timeout(settings.api.health_timeout_s):
            await session.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means the same thing here: not ready
        log.warning("health check: database unavailable: %r", exc)
        reason = "timed out" if isinstance(exc, TimeoutError) else type(exc).__name__
        return JSONResponse(
            status_code=503,
            content={"status": "unavailable", "database": f"unreachable ({reason})"},
        )
    return Health(status="ok", database="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Not ready: see `waiting_for`"}},
)
async def readyz(
    sessionmaker: SessionmakerDep, publisher: PublisherDep, settings: SettingsDep
) -> Readiness | JSONResponse:
    async def database() -> None:
        async with sessionmaker() as session:
            await session.execute(text("SELECT 1"))

    async def broker() -> None:
        if not await publisher.ping():
            raise status.NotReadyError("the broker does not answer")

    ready, body = await status.readiness(
        {"database": database, "broker": broker}, timeout_s=settings.api.health_timeout_s
    )
    if not ready:
        log.warning("not ready: waiting for %s", ", ".join(body["waiting_for"]))
        return JSONResponse(status_code=503, content=body)
    return Readiness.model_validate(body)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text"}},
)
async def prometheus_metrics() -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
