"""The demo's live table of the Kostanay flood's group, from the mobilizer's events."""

from __future__ import annotations

from typing import Any

from services.cli.demo_group import GroupState


def test_the_table_counts_each_roles_answers_and_shows_the_group_complete() -> None:
    state = GroupState()
    events: list[dict[str, Any]] = [
        {"kind": "MobilizationStarted", "needed": {"medic": 1, "searcher": 2}, "playbook": "flood"},
        {"kind": "WaveSent", "wave": 1, "radius_m": 5000, "offers_sent": 4, "offer_budget": 9},
        *(
            {
                "kind": "VolunteerOffered",
                "role": role,
                "offer_id": f"o{n}",
                "volunteer_id": f"v{n}",
                "expires_at": "2026-12-07T10:05:00+05:00",
            }
            for n, role in enumerate(("medic", "searcher", "searcher", "searcher"))
        ),
        {"kind": "OfferAccepted", "role": "medic", "offer_id": "o0", "eta_s": 600},
        {"kind": "OfferDeclined", "role": "searcher", "offer_id": "o1"},
        {"kind": "OfferAccepted", "role": "searcher", "offer_id": "o2", "eta_s": 420},
    ]
    for event in events:
        state.apply(event)

    assert (state.asked, state.places, state.offer_budget) == (4, 3, 9)
    assert state.counts["searcher"] == {"asked": 3, "declined": 1, "accepted": 1}
    assert state.accepted_offers == ["o0", "o2"]
    assert not state.complete, "two of three places are filled"

    state.apply({"kind": "OfferAccepted", "role": "searcher", "offer_id": "o3", "eta_s": 900})
    state.apply({"kind": "GroupCompleted", "members": []})

    assert state.complete
    assert sorted(state.etas["searcher"]) == [420, 900]
