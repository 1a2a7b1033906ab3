"""An incident that changes while its group is built: a worse flood needs a bigger group.

A CAP `Update` (or a police report updated) arrives as `IncidentUpdated` with a higher `version`.
When its type or priority calls for another playbook, the group is resized: places already
accepted stay (nobody is sent home by a re-plan), offers for places no longer needed are stood
down (`group_reduced`), new places are asked for at once, and a complete group that now needs
more people is active again. The deadline counts from the start of the mobilisation under the new
playbook. Updates that change nothing the group depends on, or arrive out of order, change nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy.ext.asyncio import AsyncSession

from services.mobilizer.closing import complete, stand_down
from services.mobilizer.dispatch import Decisions, Matching, send_wave, start
from services.mobilizer.progress import progress_of
from services.mobilizer.repository import MobilizationRepository
from services.mobilizer.waves import is_complete
from shared.events.incidents import IncidentUpdated
from shared.events.mobilization import (
    GroupResized,
    MobilizationStatus,
    OfferStatus,
    StandDownReason,
)


async def revise(
    session: AsyncSession, incident: IncidentUpdated, *, matching: Matching, now: datetime
) -> Decisions:
    repo = MobilizationRepository(session)
    mobilization = await repo.get(incident.incident_id)
    if mobilization is None:
        # Never mobilised (its opening was a drill or a test, say, and now it is real): start.
        return await start(session, incident, matching=matching, now=now)
    decisions = Decisions()
    if (
        mobilization.status == MobilizationStatus.CLOSED
        or incident.version <= mobilization.incident_version
    ):
        return decisions
    mobilization.incident_version = incident.version
    headline = next((text.headline for text in incident.texts if text.headline), None)
    mobilization.headline = headline or mobilization.headline
    mobilization.center = from_shape(Point(incident.center_lon, incident.center_lat), srid=4326)
    playbook = matching.playbooks.for_incident(incident.type, incident.priority)
    needed = {role.value: count for role, count in playbook.roles}
    if playbook.name == mobilization.playbook and needed == mobilization.needed:
        return decisions
    previous = mobilization.playbook
    mobilization.playbook = playbook.name
    mobilization.incident_type = incident.type.value
    mobilization.priority = incident.priority.value
    mobilization.needed = needed
    mobilization.deadline_at = mobilization.started_at + timedelta(seconds=playbook.deadline_s)
    # A bigger group brings its own budget; a budget a dispatcher raised is never cut.
    mobilization.offer_budget = max(mobilization.offer_budget or 0, playbook.offer_budget())
    decisions.add(
        incident.incident_id,
        GroupResized(
            incident_id=incident.incident_id,
            playbook=playbook.name,
            needed=playbook.needed(),
            deadline_at=mobilization.deadline_at,
            previous_playbook=previous,
        ),
    )
    offers = await repo.offers_of(incident.incident_id)
    progress = progress_of(needed, offers, now=now)
    still_open = {role.value for role, p in progress.items() if p.open_places > 0}
    for role in {
        offer.role for offer in offers if offer.status == OfferStatus.PENDING
    } - still_open:
        stand_down(
            offers,
            reason=StandDownReason.GROUP_REDUCED,
            now=now,
            decisions=decisions,
            role=role,
        )
    if is_complete(progress):
        if mobilization.status == MobilizationStatus.ACTIVE:
            complete(mobilization, offers, now=now, decisions=decisions)
        return decisions
    mobilization.status = MobilizationStatus.ACTIVE
    mobilization.completed_at = None
    mobilization.understaffed_at = None
    await send_wave(session, mobilization, matching=matching, now=now, decisions=decisions)
    return decisions
