"""The roles, the principal a request acts as, and the access rules — pure, no I/O.

Every route states who may call it through `services.api.auth.deps`; the rules a route needs beyond
"which roles" (a region, one's own offer) are the functions here, so they are tested once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from uuid import UUID


class AccountRole(StrEnum):
    VOLUNTEER = "volunteer"
    DISPATCHER = "dispatcher"
    COORDINATOR = "coordinator"
    ANALYST = "analyst"
    ADMIN = "admin"


STAFF = frozenset(
    {AccountRole.DISPATCHER, AccountRole.COORDINATOR, AccountRole.ANALYST, AccountRole.ADMIN}
)
# Roles that act on incidents in their regions: they see the group, its members and why each
# person was or was not asked. Admins see every region.
OPERATORS = frozenset({AccountRole.DISPATCHER, AccountRole.COORDINATOR, AccountRole.ADMIN})
# Roles bound to regions; the others (analyst, admin, volunteer) are not.
REGIONAL = frozenset({AccountRole.DISPATCHER, AccountRole.COORDINATOR})


@dataclass(frozen=True)
class Principal:
    """A signed-in caller, as its access token says."""

    account_id: UUID
    role: AccountRole
    session_id: UUID
    regions: frozenset[str] = field(default_factory=frozenset)
    volunteer_id: UUID | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF


def covers_regions(principal: Principal, region_codes: Iterable[str]) -> bool:
    """Whether the principal works where something is: an admin everywhere, a dispatcher or
    coordinator where one of their regions is touched, nobody else."""
    if principal.role is AccountRole.ADMIN:
        return True
    if principal.role not in REGIONAL:
        return False
    return not principal.regions.isdisjoint(region_codes)


def may_operate(principal: Principal | None, region_codes: Iterable[str]) -> bool:
    """Whether the caller may see an incident's group and people, and act on it."""
    return (
        principal is not None
        and principal.role in OPERATORS
        and covers_regions(principal, region_codes)
    )


def owns_offer(principal: Principal | None, volunteer_id: UUID) -> bool:
    """Whether the caller is the volunteer an offer was made to."""
    return (
        principal is not None
        and principal.role is AccountRole.VOLUNTEER
        and principal.volunteer_id == volunteer_id
    )


def sees_refusal(principal: Principal | None, region_codes: Iterable[str]) -> bool:
    """Whether the caller sees an alert the intake refused, and may resubmit or dismiss it: an
    admin always; a dispatcher when it is about one of their regions, or when nobody knows where
    it is about (a message too broken to say is every dispatcher's to look at)."""
    if principal is None:
        return False
    if principal.role is AccountRole.ADMIN:
        return True
    if principal.role is not AccountRole.DISPATCHER:
        return False
    regions = frozenset(region_codes)
    return not regions or not principal.regions.isdisjoint(regions)
