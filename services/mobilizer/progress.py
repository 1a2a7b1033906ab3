"""Offers and places of one mobilisation → where each role stands (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from services.mobilizer.tables import OfferRow
from services.mobilizer.waves import Outstanding, RoleProgress
from shared.events.mobilization import OfferStatus
from shared.events.volunteers import Role


@dataclass(frozen=True, slots=True)
class OfferState:
    """What progress needs of an offer: a plain row, cheaper than the ORM's for hundreds."""

    volunteer_id: UUID
    role: str
    status: str
    p_accept: float
    offered_at: datetime


def progress_of(
    needed: Mapping[str, int], offers: Sequence[OfferRow | OfferState], *, now: datetime
) -> dict[Role, RoleProgress]:
    """Per role: places, accepts, the offers still out (estimate and age: the longer the silence,
    the less an offer counts), and everyone asked.

    `asked` holds everyone asked in this incident, whatever the role: nobody is asked twice.
    """
    asked: frozenset[UUID] = frozenset(offer.volunteer_id for offer in offers)
    progress = {}
    for role_name, places in needed.items():
        role = Role(role_name)
        mine = [offer for offer in offers if offer.role == role.value]
        progress[role] = RoleProgress(
            role=role,
            needed=places,
            accepted=sum(1 for offer in mine if offer.status == OfferStatus.ACCEPTED),
            pending=tuple(
                Outstanding(offer.p_accept, max(0.0, (now - offer.offered_at).total_seconds()))
                for offer in mine
                if offer.status == OfferStatus.PENDING
            ),
            asked=asked,
        )
    return progress
