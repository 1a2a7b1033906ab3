"""Dependencies of the routes as `Annotated` aliases: settings, a page, one session per request,
the event publisher and the language the caller reads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.api.messages import preferred_language
from services.api.publisher import EventPublisher
from services.api.settings import ApiSettings
from shared.i18n import Language


def get_settings(request: Request) -> ApiSettings:
    settings: ApiSettings = request.app.state.settings
    return settings


def get_sessionmaker(request: Request) -> async_sessionmaker[AsyncSession]:
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    return sessionmaker


async def get_session(
    sessionmaker: Annotated[async_sessionmaker[AsyncSession], Depends(get_sessionmaker)],
) -> AsyncIterator[AsyncSession]:
    # Reads only: whatever transaction the request opened is rolled back when the session closes.
    async with sessionmaker() as session:
        yield session


def get_publisher(request: Request) -> EventPublisher:
    publisher: EventPublisher = request.app.state.publisher
    return publisher


def get_language(
    accept_language: Annotated[
        str | None,
        Header(description="kk, ru or en, with weights (`ru-RU,ru;q=0.9`); Kazakh otherwise"),
    ] = None,
) -> Language:
    return preferred_language(accept_language)


SettingsDep = Annotated[ApiSettings, Depends(get_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
# For routes that hold no connection while they wait (answers poll for the mobilizer's decision).
SessionmakerDep = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessionmaker)]
PublisherDep = Annotated[EventPublisher, Depends(get_publisher)]
LanguageDep = Annotated[Language, Depends(get_language)]


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int


def get_page(
    settings: SettingsDep,
    limit: Annotated[
        int | None,
        Query(ge=1, description="Page size; 100 unless set, at most 1000 unless configured"),
    ] = None,
    offset: Annotated[int, Query(ge=0, description="Items to skip")] = 0,
) -> Page:
    # The maximum is a setting, so it is checked here rather than declared on the parameter;
    # the error has the same shape as FastAPI's own.
    maximum = settings.api.max_page_size
    if limit is not None and limit > maximum:
        raise RequestValidationError(
            [
                {
                    "type": "less_than_equal",
                    "loc": ("query", "limit"),
                    "msg": f"Input should be less than or equal to {maximum}",
                    "input": limit,
                    "ctx": {"le": maximum},
                }
            ]
        )
    return Page(limit=limit or settings.api.default_page_size, offset=offset)


PageDep = Annotated[Page, Depends(get_page)]
