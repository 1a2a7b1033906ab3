"""A dispatcher steers a mobilisation: raise its offer budget.

decode → lock the mobilisation → `raised_budget` (pure) → save, plan the next wave now → publish
`OfferBudgetRaised`. A command for a mobilisation that is over changes nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.mobilizer.dispatch import Decisions
from services.mobilizer.repository import MobilizationRepository
from shared.events.mobilization import MobilizationStatus, OfferBudgetRaised, RaiseOfferBudget

log = logging.getLogger(__name__)

# However often it is raised, an incident asks at most this many people in all.
MAX_OFFER_BUDGET = 2_000


def raised_budget(budget: int | None, sent: int, by: int) -> int:
    """The budget after adding `by`: never below what was already sent, never above the cap."""
    base = max(budget or 0, sent)
    return min(base + by, MAX_OFFER_BUDGET)


async def raise_budget(
    session: AsyncSession, command: RaiseOfferBudget, *, now: datetime
) -> Decisions:
    decisions = Decisions()
    mobilization = await MobilizationRepository(session).get(command.incident_id)
    if mobilization is None or mobilization.status != MobilizationStatus.ACTIVE:
        log.info("incident %s: budget not raised, no active mobilisation", command.incident_id)
        return decisions
    sent = mobilization.offers_sent or 0
    mobilization.offer_budget = raised_budget(mobilization.offer_budget, sent, command.by)
    # Plan the next wave now; a shortage warned of before may be warned of again.
    mobilization.next_wave_at = now
    mobilization.understaffed_at = None
    decisions.add(
        command.incident_id,
        OfferBudgetRaised(
            incident_id=command.incident_id,
            offer_budget=mobilization.offer_budget,
            offers_sent=sent,
            by=command.by,
            account_id=command.account_id,
        ),
    )
    return decisions
