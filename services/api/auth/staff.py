"""Staff accounts: add, list, disable — for `jedel accounts` and the admins' endpoints.
Volunteers' accounts are made when they first sign in with their phone."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.auth import accounts
from services.api.auth.passwords import hash_password
from services.api.auth.principals import REGIONAL, AccountRole
from services.api.auth.tables import AccountRow
from services.api.tables import RegionRow


@dataclass(frozen=True)
class StaffAccount:
    id: UUID
    username: str
    role: AccountRole
    regions: list[str]
    disabled: bool


class AccountError(ValueError):
    """What the command refuses, said plainly."""


def new_password() -> str:
    return secrets.token_urlsafe(12)  # 16 characters, ~96 bits


async def add_staff(
    session: AsyncSession,
    *,
    username: str,
    role: AccountRole,
    regions: list[str],
    password: str,
    display_name: str,
    now: datetime,
    replace_password: bool = False,
) -> StaffAccount:
    """A staff account (or, with `replace_password`, the existing one with a new password)."""
    if role is AccountRole.VOLUNTEER:
        raise AccountError("volunteers sign in with their phone; no account is added for them")
    if role in REGIONAL and not regions:
        raise AccountError(f"a {role.value} works in regions: give at least one --region")
    known = set(await session.scalars(select(RegionRow.code)))
    unknown = sorted(set(regions) - known)
    if unknown:
        raise AccountError(f"unknown regions {unknown} (seed the reference data first?)")
    existing = await session.scalar(
        select(AccountRow).where(func.lower(AccountRow.username) == username.casefold())
    )
    if existing is not None and not replace_password:
        raise AccountError(f"an account named {username!r} exists already")
    row = existing or AccountRow(id=uuid4(), username=username, created_at=now)
    row.role = role.value
    row.regions = sorted(set(regions))
    row.password_hash = hash_password(password)
    row.display_name = display_name or username
    row.disabled_at = None
    if existing is None:
        session.add(row)
    else:
        await accounts.revoke_sessions_of(session, row.id, now=now)
    await session.flush()
    return _staff(row)


async def list_staff(session: AsyncSession) -> list[StaffAccount]:
    rows = await session.scalars(
        select(AccountRow)
        .where(AccountRow.role != AccountRole.VOLUNTEER.value)
        .order_by(AccountRow.username)
    )
    return [_staff(row) for row in rows]


async def disable(session: AsyncSession, username: str, *, now: datetime) -> int:
    """Disable an account and end its sessions; the number of sessions ended."""
    row = await session.scalar(
        select(AccountRow).where(func.lower(AccountRow.username) == username.casefold())
    )
    if row is None:
        raise AccountError(f"no account named {username!r}")
    row.disabled_at = now
    return await accounts.revoke_sessions_of(session, row.id, now=now)


def _staff(row: AccountRow) -> StaffAccount:
    return StaffAccount(
        id=row.id,
        username=row.username or "",
        role=AccountRole(row.role),
        regions=list(row.regions or ()),
        disabled=row.disabled_at is not None,
    )
