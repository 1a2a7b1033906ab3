"""Each wave writes down why every volunteer it looked at was or was not asked.

The explanation is recorded when the decision is made, with what matching knew then: its facts
(outcome, role, ETA, rank, every finding with its details), which the API and `jedel explain`
render in the reader's language (`Explanation.from_stored`).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from geoalchemy2.shape import to_shape
from sqlalchemy.ext.asyncio import AsyncSession

from services.mobilizer.explain import Offered, Placement, explain
from services.mobilizer.ranking import geodesic_distance_m
from services.mobilizer.tables import ExplanationRow, MobilizationRow
from services.mobilizer.waves import WaveDecision
from shared.db import insert_rows

if TYPE_CHECKING:
    from services.mobilizer.dispatch import Considered

# A wave may look at hundreds of people per role; keep the nearest of each role's look.
KEEP_PER_ROLE = 20


async def record_explanations(
    session: AsyncSession,
    mobilization: MobilizationRow,
    considered: Considered,
    plan: WaveDecision,
    *,
    now: datetime,
    radius_m: int | None = None,
) -> None:
    """`radius_m`: the wave's radius, when the row may since have changed (its own otherwise)."""
    center = to_shape(mobilization.center)
    radius_m = mobilization.radius_m if radius_m is None else radius_m
    offered = {offer.volunteer_id: offer for offer in plan.offers}
    placements = {
        role: {
            r.volunteer_id: Placement(rank=index + 1, asked_count=0) for index, r in enumerate(rs)
        }
        for role, rs in considered.ranked.items()
    }
    asked_per_role = plan.offers_per_role()
    kept = []
    per_role: dict[object, int] = {}
    for volunteer_id, verdicts in considered.verdicts.items():
        role_key = next(iter(verdicts))
        per_role[role_key] = per_role.get(role_key, 0) + 1
        if per_role[role_key] > KEEP_PER_ROLE and volunteer_id not in offered:
            continue
        candidate = considered.people[volunteer_id]
        offer = offered.get(volunteer_id)
        explanation = explain(
            volunteer_id,
            offer=Offered(offer.role, plan.wave, offer.eta_s, offer.p_accept) if offer else None,
            verdicts=verdicts,
            placements={
                role: Placement(rank=p[volunteer_id].rank, asked_count=asked_per_role.get(role, 0))
                for role, p in placements.items()
                if volunteer_id in p
            },
            distance_m=round(
                geodesic_distance_m(candidate.home_lon, candidate.home_lat, center.x, center.y)
            ),
            radius_m=radius_m,
            late=(considered.measured[volunteer_id].eta_s, plan.latest_eta_s)
            if volunteer_id in plan.too_late
            else None,
        )
        kept.append(
            {
                "incident_id": mobilization.incident_id,
                "volunteer_id": volunteer_id,
                "wave": plan.wave,
                **explanation.stored(),
                "text": None,
                "decided_at": now,
            }
        )
    if not kept:
        return
    await insert_rows(
        session,
        ExplanationRow.__table__,
        kept,
        # A first wave's explanations are written after it commits: a later decision may have
        # written its own by then, and an older one never overwrites a newer.
        on_conflict="ON CONFLICT (incident_id, volunteer_id) DO UPDATE SET "
        + ", ".join(f"{column} = EXCLUDED.{column}" for column in _UPDATED)
        + " WHERE explanations.decided_at <= EXCLUDED.decided_at",
    )


_UPDATED = (
    "wave",
    "outcome",
    "role",
    "eta_s",
    "distance_m",
    "p_accept",
    "reasons",
    "findings",
    "rank",
    "asked_count",
    "radius_m",
    "latest_eta_s",
    "text",
    "decided_at",
)
