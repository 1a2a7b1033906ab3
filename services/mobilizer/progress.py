"""Offers and places of one mobilisation → where each role stands (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from uuid import UUID

from services.mobilizer.tables import OfferRow
from services.mobilizer.waves import RoleProgress
from shared.events.volunteers import Role


def progress_of(needed: Mapping[str, int], offers: Sequence[OfferRow]) -> dict[Role, RoleProgress]:
    """Per role: places, accepts, the estimates of the offers still out, and everyone asked.

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
            accepted=sum(1 for offer in mine if offer.status == "accepted"),
            pending=tuple(offer.p_accept for offer in mine if offer.status == "pending"),
            asked=asked,
        )
    return progress
