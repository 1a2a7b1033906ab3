"""Who the request acts as, as route dependencies: `CallerDep` (anyone, maybe signed in),
`require(...)` for the roles a route admits.

A token comes as `Authorization: Bearer …` (apps, scripts) or in the `jedel_access` cookie (the
browser pages). A cookie-borne request that changes something must also carry the session's CSRF
token in `X-CSRF-Token` (the pages read it from the `jedel_csrf` cookie): another site can make a
browser send the cookie, but cannot read it.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.api.auth import accounts
from services.api.auth.principals import AccountRole, Principal
from services.api.auth.tokens import InvalidToken, csrf_token, read_access
from services.api.errors import Forbidden, NotSignedIn
from services.api.settings import ApiSettings
from shared.events.base import utc_now

ACCESS_COOKIE = "jedel_access"
REFRESH_COOKIE = "jedel_refresh"
CSRF_COOKIE = "jedel_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_bearer = HTTPBearer(auto_error=False, description="An access token from /api/v1/auth/…")


def clock(request: Request) -> datetime:
    """Now, as the app sees it (tests move `app.state.clock`)."""
    now: Callable[[], datetime] = getattr(request.app.state, "clock", utc_now)
    return now()


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    settings: ApiSettings = request.app.state.settings
    from_cookie = credentials is None
    token = credentials.credentials if credentials is not None else None
    if token is None:
        token = request.cookies.get(ACCESS_COOKIE)
    if not token:
        return None
    now = clock(request)
    try:
        principal = read_access(token, secret=settings.secret_key, now=now)
    except InvalidToken:
        raise NotSignedIn("auth.expired") from None
    async with request.app.state.sessionmaker() as session:
        if not await accounts.session_alive(session, principal, now=now):
            raise NotSignedIn("auth.expired")
    if from_cookie and request.method not in SAFE_METHODS:
        expected = csrf_token(principal.session_id, secret=settings.secret_key)
        if request.headers.get(CSRF_HEADER) != expected:
            raise Forbidden("auth.csrf")
    request.state.principal = principal
    return principal


CallerDep = Annotated[Principal | None, Depends(current_principal)]


def require(
    *roles: AccountRole,
) -> Callable[[Principal | None], Coroutine[Any, Any, Principal]]:
    """A dependency admitting only signed-in callers of these roles (401 anonymous, 403 others)."""
    admitted = frozenset(roles)

    async def admitted_principal(caller: CallerDep) -> Principal:
        if caller is None:
            raise NotSignedIn()
        if caller.role not in admitted:
            raise Forbidden()
        return caller

    admitted_principal.admitted_roles = admitted  # type: ignore[attr-defined]
    return admitted_principal


VolunteerDep = Annotated[Principal, Depends(require(AccountRole.VOLUNTEER))]
OperatorDep = Annotated[
    Principal,
    Depends(require(AccountRole.DISPATCHER, AccountRole.COORDINATOR, AccountRole.ADMIN)),
]
StaffDep = Annotated[
    Principal,
    Depends(
        require(
            AccountRole.DISPATCHER, AccountRole.COORDINATOR, AccountRole.ANALYST, AccountRole.ADMIN
        )
    ),
]
# The queue of refused alerts: dispatchers (scoped by `principals.sees_refusal`) and admins.
DispatcherDep = Annotated[Principal, Depends(require(AccountRole.DISPATCHER, AccountRole.ADMIN))]
# Reports of the registry: counts, nothing personal.
AnalystDep = Annotated[Principal, Depends(require(AccountRole.ANALYST, AccountRole.ADMIN))]
AdminDep = Annotated[Principal, Depends(require(AccountRole.ADMIN))]
SignedInDep = Annotated[Principal, Depends(require(*AccountRole))]
