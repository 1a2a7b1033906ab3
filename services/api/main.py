"""The HTTP API: incidents and regions as GeoJSON, health, and the contracts served offline.

`create_app` builds the application; the database engine is made when the app starts, not here.
Run it with `python -m services.api.main` (host and port from `JEDEL_API__HOST`/`__PORT`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Request
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from services.api.asyncapi import asyncapi_document
from services.api.errors import IncidentNotFound, InvalidQueryError
from services.api.routes import docs, health, incidents, regions
from services.api.settings import ApiSettings
from shared.db import build_engine, build_sessionmaker

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
        try:
            yield
        finally:
            await engine.dispose()

    return lifespan


async def _not_found(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(status_code=404, content={"detail": str(exc)})


async def _bad_query(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(status_code=400, content={"detail": str(exc)})


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
    app.add_exception_handler(IncidentNotFound, _not_found)
    app.add_exception_handler(InvalidQueryError, _bad_query)
    app.include_router(health.router)
    app.include_router(incidents.router)
    app.include_router(regions.router)
    app.include_router(docs.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def main() -> None:
    settings = ApiSettings()
    uvicorn.run(create_app(settings), host=settings.api.host, port=settings.api.port)


if __name__ == "__main__":
    main()
