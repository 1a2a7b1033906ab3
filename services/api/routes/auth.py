"""Signing in and out: volunteers with their phone and a one-time code, staff with a username and
password; refreshing the access token; who am I.

Asking for a code answers the same whether the number is registered or not, so the endpoint tells
nobody who volunteers. Every attempt counts against a limit per phone or username and per address
(429 with `Retry-After` past it).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response
from fastapi.responses import JSONResponse
from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.api import messages
from services.api.auth import accounts, codes, limits
from services.api.auth.deps import (
    ACCESS_COOKIE,
    CSRF_COOKIE,
    REFRESH_COOKIE,
    SignedInDep,
    clock,
)
from services.api.auth.passwords import verify_password
from services.api.auth.principals import AccountRole
from services.api.auth.schemas import (
    Accepted,
    CodeRequest,
    CodeSignIn,
    Me,
    PasswordSignIn,
    RefreshRequest,
    SignedIn,
    normalise_phone,
)
from services.api.auth.tables import AccountRow, AccountSessionRow
from services.api.auth.tokens import csrf_token, issue_access
from services.api.deps import LanguageDep, SessionmakerDep, SettingsDep
from services.api.errors import AuthUnavailable, InvalidPhone, NotSignedIn
from services.api.schemas import Problem
from services.api.settings import ApiSettings

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1/auth", tags=["sign-in"])

REFUSED: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Wrong code or password, or the session has ended"},
    429: {"model": Problem, "description": "Too many attempts; see Retry-After"},
    503: {"model": Problem, "description": "Sign-in cannot reach Redis right now"},
}


def _redis(request: Request) -> Redis:
    redis: Redis = request.app.state.redis
    return redis


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _spend(redis: Redis, *checks: tuple[str, limits.Limit]) -> None:
    try:
        for key, limit in checks:
            await limits.spend(redis, key, limit)
    except RedisError:
        raise AuthUnavailable() from None


def _limits(settings: ApiSettings) -> tuple[limits.Limit, limits.Limit, limits.Limit]:
    auth = settings.auth
    return (
        limits.Limit(auth.codes_per_phone, auth.window_s),
        limits.Limit(auth.sign_ins_per_username, auth.window_s),
        limits.Limit(auth.attempts_per_address, auth.window_s),
    )


def _phone(text: str) -> str:
    phone = normalise_phone(text)
    if phone is None:
        raise InvalidPhone(text)
    return phone


@router.post(
    "/code",
    status_code=202,
    response_model=Accepted,
    responses={400: {"model": Problem}, **REFUSED},
    summary="Send a volunteer a one-time sign-in code by SMS",
)
async def request_code(
    request: Request,
    body: Annotated[CodeRequest, Body()],
    sessionmaker: SessionmakerDep,
    settings: SettingsDep,
    language: LanguageDep,
) -> Accepted:
    phone = _phone(body.phone)
    per_phone, _, per_address = _limits(settings)
    redis = _redis(request)
    await _spend(redis, (f"code:{phone}", per_phone), (f"addr:{_address(request)}", per_address))
    now = clock(request)
    async with sessionmaker() as session:
        known = await accounts.volunteer_account(session, phone, now=now)
        written_in = await accounts.first_language(session, known) if known else "kk"
        await session.commit()
    if known is not None and known.volunteer_id is not None:
        code = codes.new_code()
        try:
            await codes.remember(
                redis,
                secret=settings.secret_key,
                phone=phone,
                code=code,
                ttl_s=settings.auth.code_ttl_s,
            )
        except RedisError:
            raise AuthUnavailable() from None
        await request.app.state.code_sender.send(
            phone=phone,
            code=code,
            volunteer_id=known.volunteer_id,
            language=written_in,
            expires_at=now + timedelta(seconds=settings.auth.code_ttl_s),
        )
    return Accepted(detail=messages.message("auth.code_sent", language))


@router.post(
    "/code/verify",
    response_model=SignedIn,
    responses={400: {"model": Problem}, **REFUSED},
    summary="Sign a volunteer in with the code sent to their phone",
)
async def sign_in_with_code(
    request: Request,
    body: Annotated[CodeSignIn, Body()],
    sessionmaker: SessionmakerDep,
    settings: SettingsDep,
) -> JSONResponse:
    phone = _phone(body.phone)
    _, _, per_address = _limits(settings)
    redis = _redis(request)
    await _spend(redis, (f"addr:{_address(request)}", per_address))
    try:
        right = await codes.redeem(
            redis,
            secret=settings.secret_key,
            phone=phone,
            code=body.code.strip(),
            max_tries=settings.auth.code_max_tries,
        )
    except RedisError:
        raise AuthUnavailable() from None
    if not right:
        raise NotSignedIn("auth.bad_code")
    now = clock(request)
    async with sessionmaker() as session:
        account = await accounts.volunteer_account(session, phone, now=now)
        if account is None:
            raise NotSignedIn("auth.bad_code")
        lifetime = timedelta(days=settings.auth.volunteer_session_days)
        row, refresh = await accounts.open_session(
            session,
            account,
            now=now,
            lifetime=lifetime,
            user_agent=request.headers.get("user-agent"),
        )
        await session.commit()
    return _signed_in(account, row, refresh, settings=settings, now=now)


@router.post(
    "/sign-in",
    response_model=SignedIn,
    responses={**REFUSED},
    summary="Sign staff in with a username and password",
)
async def sign_in_with_password(
    request: Request,
    body: Annotated[PasswordSignIn, Body()],
    sessionmaker: SessionmakerDep,
    settings: SettingsDep,
) -> JSONResponse:
    _, per_username, per_address = _limits(settings)
    await _spend(
        _redis(request),
        (f"user:{body.username.casefold()}", per_username),
        (f"addr:{_address(request)}", per_address),
    )
    now = clock(request)
    async with sessionmaker() as session:
        account = await accounts.staff_account(session, body.username)
        hashed = account.password_hash if account is not None else None
        if not verify_password(body.password, hashed) or account is None:
            raise NotSignedIn("auth.bad_password")
        lifetime = timedelta(hours=settings.auth.staff_session_hours)
        row, refresh = await accounts.open_session(
            session,
            account,
            now=now,
            lifetime=lifetime,
            user_agent=request.headers.get("user-agent"),
        )
        await session.commit()
    log.info("account %s (%s) signed in", account.id, account.role)
    return _signed_in(account, row, refresh, settings=settings, now=now)


@router.post(
    "/refresh",
    response_model=SignedIn,
    responses={401: REFUSED[401]},
    summary="A new access token for a session that still holds",
)
async def refresh(
    request: Request,
    sessionmaker: SessionmakerDep,
    settings: SettingsDep,
    body: Annotated[RefreshRequest | None, Body()] = None,
) -> JSONResponse:
    secret = (body.refresh_token if body else None) or request.cookies.get(REFRESH_COOKIE)
    if not secret:
        raise NotSignedIn()
    now = clock(request)
    async with sessionmaker() as session:
        found = await accounts.refreshed(session, secret, now=now)
    if found is None:
        raise NotSignedIn("auth.expired")
    account, row = found
    return _signed_in(account, row, secret, settings=settings, now=now)


@router.post(
    "/sign-out",
    status_code=204,
    responses={401: REFUSED[401]},
    summary="End this session: its tokens stop working at once",
)
async def sign_out(
    request: Request, principal: SignedInDep, sessionmaker: SessionmakerDep
) -> Response:
    async with sessionmaker() as session:
        await accounts.revoke_session(session, principal.session_id, now=clock(request))
        await session.commit()
    response = Response(status_code=204)
    for name in (ACCESS_COOKIE, REFRESH_COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, path=_cookie_path(name))
    return response


@router.get(
    "/me",
    response_model=Me,
    responses={401: REFUSED[401]},
    summary="Who this session signs in as",
)
async def me(principal: SignedInDep, sessionmaker: SessionmakerDep) -> Me:
    async with sessionmaker() as session:
        account = await session.get(AccountRow, principal.account_id)
    return Me(
        account_id=principal.account_id,
        role=principal.role,
        regions=sorted(principal.regions),
        volunteer_id=principal.volunteer_id,
        display_name=account.display_name if account is not None else "",
    )


def _cookie_path(name: str) -> str:
    # The refresh secret goes only where it is used.
    return "/api/v1/auth" if name == REFRESH_COOKIE else "/"


def _signed_in(
    account: AccountRow,
    row: AccountSessionRow,
    refresh_secret: str,
    *,
    settings: ApiSettings,
    now: datetime,
) -> JSONResponse:
    principal = accounts.principal_of(account, row.id)
    lifetime = timedelta(minutes=settings.auth.access_token_minutes)
    token = issue_access(principal, secret=settings.secret_key, now=now, lifetime=lifetime)
    csrf = csrf_token(row.id, secret=settings.secret_key)
    body = SignedIn(
        access_token=token,
        expires_at=now + lifetime,
        refresh_token=refresh_secret,
        session_expires_at=row.expires_at,
        csrf_token=csrf,
        role=principal.role,
        regions=sorted(principal.regions),
        volunteer_id=principal.volunteer_id,
    )
    response = JSONResponse(body.model_dump(mode="json"), headers={"Cache-Control": "no-store"})
    session_s = max(int((row.expires_at - now).total_seconds()), 1)
    secure = settings.auth.secure_cookies
    response.set_cookie(
        ACCESS_COOKIE, token, max_age=session_s, httponly=True, secure=secure, samesite="lax"
    )
    response.set_cookie(
        REFRESH_COOKIE,
        refresh_secret,
        max_age=session_s,
        httponly=True,
        secure=secure,
        samesite="strict",
        path=_cookie_path(REFRESH_COOKIE),
    )
    # Readable by the page's script, which echoes it in X-CSRF-Token.
    response.set_cookie(
        CSRF_COOKIE, csrf, max_age=session_s, httponly=False, secure=secure, samesite="lax"
    )
    if principal.role is AccountRole.VOLUNTEER:
        log.info("volunteer account %s signed in", account.id)
    return response
