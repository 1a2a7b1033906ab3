"""Accounts and sessions in the database: find who signs in, open, check and revoke sessions, keep
consents, and log who viewed personal data. Functions take a session and never commit; the caller
owns the transaction."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.auth.principals import AccountRole, Principal
from services.api.auth.tables import (
    AccountRow,
    AccountSessionRow,
    ConsentRow,
    PersonalDataViewRow,
)
from services.api.auth.tokens import new_refresh_secret, refresh_hash
from services.api.tables import VolunteerRow


def principal_of(account: AccountRow, session_id: UUID) -> Principal:
    return Principal(
        account_id=account.id,
        role=AccountRole(account.role),
        session_id=session_id,
        regions=frozenset(account.regions or ()),
        volunteer_id=account.volunteer_id,
    )


async def staff_account(session: AsyncSession, username: str) -> AccountRow | None:
    account = await session.scalar(
        select(AccountRow).where(func.lower(AccountRow.username) == username.casefold())
    )
    return account if account is not None and account.disabled_at is None else None


async def volunteer_account(
    session: AsyncSession, phone: str, *, now: datetime
) -> AccountRow | None:
    """The account of the volunteer with this phone, made on their first sign-in; None when no
    volunteer has the number or their account is disabled."""
    volunteer_id = await session.scalar(select(VolunteerRow.id).where(VolunteerRow.phone == phone))
    if volunteer_id is None:
        return None
    account = await session.scalar(
        select(AccountRow).where(AccountRow.volunteer_id == volunteer_id)
    )
    if account is None:
        # The name stays on the volunteer's row: erasing it there erases it everywhere.
        account = AccountRow(
            id=uuid4(),
            role=AccountRole.VOLUNTEER.value,
            volunteer_id=volunteer_id,
            display_name="",
            regions=[],
            created_at=now,
        )
        session.add(account)
        await session.flush()
    return account if account.disabled_at is None else None


async def first_language(session: AsyncSession, account: AccountRow) -> str:
    """The volunteer's first language (what their texts are written in); kk if none."""
    languages = await session.scalar(
        select(VolunteerRow.languages).where(VolunteerRow.id == account.volunteer_id)
    )
    return str(languages[0]) if languages else "kk"


async def open_session(
    session: AsyncSession,
    account: AccountRow,
    *,
    now: datetime,
    lifetime: timedelta,
    user_agent: str | None,
) -> tuple[AccountSessionRow, str]:
    """A new session and its refresh secret (returned once; only its hash is kept). The
    account's sessions that have ended (expired or signed out) go: nothing reads them again, and
    a session is opened at every sign-in, so they would pile up without end."""
    await session.execute(
        delete(AccountSessionRow).where(
            AccountSessionRow.account_id == account.id,
            or_(AccountSessionRow.expires_at <= now, AccountSessionRow.revoked_at.is_not(None)),
        )
    )
    secret = new_refresh_secret()
    row = AccountSessionRow(
        id=uuid4(),
        account_id=account.id,
        refresh_hash=refresh_hash(secret),
        created_at=now,
        expires_at=now + lifetime,
        user_agent=(user_agent or "")[:300] or None,
    )
    session.add(row)
    await session.flush()
    return row, secret


async def refreshed(
    session: AsyncSession, refresh_secret: str, *, now: datetime
) -> tuple[AccountRow, AccountSessionRow] | None:
    """The account and live session a refresh secret belongs to, if both still hold."""
    found = (
        await session.execute(
            select(AccountRow, AccountSessionRow)
            .join(AccountSessionRow, AccountSessionRow.account_id == AccountRow.id)
            .where(AccountSessionRow.refresh_hash == refresh_hash(refresh_secret))
        )
    ).first()
    if found is None:
        return None
    account, row = found
    if row.revoked_at is not None or row.expires_at <= now or account.disabled_at is not None:
        return None
    return account, row


async def revoke_session(session: AsyncSession, session_id: UUID, *, now: datetime) -> None:
    await session.execute(
        update(AccountSessionRow)
        .where(AccountSessionRow.id == session_id, AccountSessionRow.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    SESSIONS.forget(session_id)


async def revoke_sessions_of(session: AsyncSession, account_id: UUID, *, now: datetime) -> int:
    ids = (
        await session.scalars(
            update(AccountSessionRow)
            .where(
                AccountSessionRow.account_id == account_id, AccountSessionRow.revoked_at.is_(None)
            )
            .values(revoked_at=now)
            .returning(AccountSessionRow.id)
        )
    ).all()
    for session_id in ids:
        SESSIONS.forget(session_id)
    return len(ids)


class SessionCache:
    """Which sessions were seen alive in the last `ttl_s` seconds, so a burst of requests costs one
    lookup. A revocation in this process is seen at once; one in another process within `ttl_s`."""

    def __init__(self, ttl_s: float = 2.0) -> None:
        self.ttl_s = ttl_s
        self._alive: dict[UUID, float] = {}

    def fresh(self, session_id: UUID) -> bool:
        seen = self._alive.get(session_id)
        return seen is not None and time.monotonic() - seen < self.ttl_s

    def remember(self, session_id: UUID) -> None:
        if len(self._alive) > 10_000:
            self._alive.clear()
        self._alive[session_id] = time.monotonic()

    def forget(self, session_id: UUID) -> None:
        self._alive.pop(session_id, None)


SESSIONS = SessionCache()


async def session_alive(session: AsyncSession, principal: Principal, *, now: datetime) -> bool:
    if SESSIONS.fresh(principal.session_id):
        return True
    found = (
        await session.execute(
            select(
                AccountSessionRow.revoked_at, AccountSessionRow.expires_at, AccountRow.disabled_at
            )
            .join(AccountRow, AccountRow.id == AccountSessionRow.account_id)
            .where(
                AccountSessionRow.id == principal.session_id,
                AccountSessionRow.account_id == principal.account_id,
            )
        )
    ).first()
    if found is None:
        return False
    revoked_at, expires_at, disabled_at = found
    alive = revoked_at is None and disabled_at is None and expires_at > now
    if alive:
        SESSIONS.remember(principal.session_id)
    return bool(alive)


async def record_consent(
    session: AsyncSession, volunteer_id: UUID, *, kind: str, given: bool, now: datetime
) -> None:
    session.add(ConsentRow(volunteer_id=volunteer_id, kind=kind, given=given, recorded_at=now))
    await session.flush()


async def consent_given(session: AsyncSession, volunteer_id: UUID, kind: str) -> bool:
    """The latest consent of that kind; none recorded means not given."""
    given = await session.scalar(
        select(ConsentRow.given)
        .where(ConsentRow.volunteer_id == volunteer_id, ConsentRow.kind == kind)
        .order_by(ConsentRow.recorded_at.desc(), ConsentRow.id.desc())
        .limit(1)
    )
    return bool(given)


async def log_view(
    session: AsyncSession,
    principal: Principal,
    *,
    route: str,
    incident_id: UUID | None,
    volunteer_ids: Iterable[UUID],
    now: datetime,
) -> None:
    """Record that `principal` was shown these people's personal data."""
    ids = list(dict.fromkeys(volunteer_ids))
    if not ids:
        return
    session.add(
        PersonalDataViewRow(
            account_id=principal.account_id,
            role=principal.role.value,
            route=route,
            incident_id=incident_id,
            volunteer_ids=ids,
            viewed_at=now,
        )
    )
    await session.flush()
