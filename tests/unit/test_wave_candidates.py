"""How many people a wave looks at: few while there is time, more as the deadline nears."""

from __future__ import annotations

from services.mobilizer.dispatch import Matching
from services.mobilizer.eligibility import FatigueRules
from services.mobilizer.playbooks import load_playbooks
from services.mobilizer.ranking import AcceptanceModel, GeodesicRouter
from shared.events.incidents import IncidentType, Priority
from shared.events.volunteers import Role

PLAYBOOKS = load_playbooks()
MATCHING = Matching(
    playbooks=PLAYBOOKS, router=GeodesicRouter(), model=AcceptanceModel(), rules=FatigueRules()
)


def test_a_wave_with_time_to_spare_looks_at_a_few_per_place() -> None:
    flood = PLAYBOOKS.for_incident(IncidentType.FLOOD, Priority.CRITICAL)
    few = MATCHING.first_wave_candidates(flood)
    assert set(few) == set(flood.needed())
    for role, places in flood.roles:
        asks_at_most = min(flood.max_offers_per_role_per_wave, 3 * places, flood.first_wave_max)
        assert few[role] >= 2 * asks_at_most, "room for the ineligible and the other roles"
        assert few[role] <= 3 * asks_at_most, "no more than the wave may need"
    # Near the deadline a wave may ask a whole round's worth at once: it looks further.
    assert all(n <= MATCHING.candidates_for(flood) for n in few.values())
    assert min(few.values()) < MATCHING.candidates_for(flood)


def test_the_look_shrinks_with_the_places_still_open() -> None:
    search = PLAYBOOKS.for_incident(IncidentType.MISSING_PERSON, Priority.CRITICAL)
    all_open = MATCHING.few_candidates(search, {Role.SEARCHER: 10})
    one_left = MATCHING.few_candidates(search, {Role.SEARCHER: 1})
    assert one_left[Role.SEARCHER] < all_open[Role.SEARCHER]
    # One place left: the wave asks at most 3, so it looks at the 8 nearest searchers.
    assert one_left[Role.SEARCHER] == 8
