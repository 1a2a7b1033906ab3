"""Liveness and readiness in one: the API is only useful when it can read the database."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from services.api.deps import SessionDep, SettingsDep
from services.api.schemas import Health

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
