"""Signed-in callers for the tests: an account and a live session in the real database, and an
access token minted exactly as the API mints it at sign-in (`/api/v1/auth/...` has tests of its
own). The secret is the one test settings use unless given."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from services.api.auth import accounts
from services.api.auth.passwords import hash_password
from services.api.auth.principals import AccountRole
from services.api.auth.tables import AccountRow
from services.api.auth.tokens import csrf_token, issue_access
from shared.events.base import utc_now
from shared.settings import DEVELOPMENT_SECRET

STAFF_PASSWORD = "correct horse battery staple"


async def _account(
    engine: AsyncEngine,
    role: AccountRole,
    *,
    volunteer_id: uuid.UUID | None,
    regions: Iterable[str],
    username: str | None,
    now: datetime,
) -> AccountRow:
    async with async_sessionmaker(engine, expire_on_commit=False)() as session:
        if volunteer_id is not None:
            found = await session.scalar(
                select(AccountRow).where(AccountRow.volunteer_id == volunteer_id)
            )
            if found is not None:
                return found
        account = AccountRow(
            id=uuid.uuid4(),
            role=role.value,
            volunteer_id=volunteer_id,
            username=None if role is AccountRole.VOLUNTEER else username or f"t-{uuid.uuid4()}",
            password_hash=None if role is AccountRole.VOLUNTEER else hash_password(STAFF_PASSWORD),
            display_name=f"test {role.value}",
            regions=sorted(regions),
            created_at=now,
        )
        session.add(account)
        await session.commit()
        return account


async def headers_for(
    engine: AsyncEngine,
    role: AccountRole,
    *,
    volunteer_id: uuid.UUID | None = None,
    regions: Iterable[str] = (),
    username: str | None = None,
    secret: str = DEVELOPMENT_SECRET,
    now: datetime | None = None,
) -> dict[str, str]:
    """`Authorization` for a new session of an account of `role` (a volunteer's: their own)."""
    now = now or utc_now()
    account = await _account(
        engine, role, volunteer_id=volunteer_id, regions=regions, username=username, now=now
    )
    async with async_sessionmaker(engine, expire_on_commit=False)() as session:
        row, _ = await accounts.open_session(
            session, account, now=now, lifetime=timedelta(hours=1), user_agent="tests"
        )
        await session.commit()
    principal = accounts.principal_of(account, row.id)
    token = issue_access(principal, secret=secret, now=now, lifetime=timedelta(minutes=15))
    return {
        "Authorization": f"Bearer {token}",
        # What a cookie session would echo; harmless with a bearer token.
        "X-CSRF-Token": csrf_token(row.id, secret=secret),
    }


async def as_volunteer(engine: AsyncEngine, volunteer_id: uuid.UUID) -> dict[str, str]:
    return await headers_for(engine, AccountRole.VOLUNTEER, volunteer_id=volunteer_id)
