"""The activity log keeps people's ids, never their phones, names or medical needs."""

from __future__ import annotations

from services.registry.redaction import without_personal_data


def test_an_offer_is_logged_without_the_phone_it_went_to() -> None:
    payload = {"kind": "VolunteerOffered", "volunteer_id": "v", "contact_phone": "+77011234567"}
    kept = without_personal_data("VolunteerOffered", payload)
    assert kept == {"kind": "VolunteerOffered", "volunteer_id": "v"}
    assert payload["contact_phone"] == "+77011234567", "the input is left as it was"


def test_a_missing_person_is_logged_by_category_only() -> None:
    payload = {
        "kind": "IncidentOpened",
        "source": "missing_person",
        "headline": "Aigerim, 7",
        "texts": [
            {
                "language": "ru",
                "event": "Пропал человек",
                "headline": "Айгерим, 7 лет",
                "description": "красная куртка",
                "instruction": "нужен инсулин",
            }
        ],
        "subject": {
            "category": "child",
            "age_years": 7,
            "last_seen_lon": 76.9,
            "last_seen_lat": 43.2,
            "last_seen_at": "2026-04-02T10:00:00+05:00",
        },
        "region_codes": ["KZ-75"],
    }
    kept = without_personal_data("IncidentOpened", payload)
    assert kept["texts"] == [{"language": "ru", "event": "Пропал человек"}]
    assert kept["subject"] == {"category": "child"}
    assert "headline" not in kept
    assert kept["region_codes"] == ["KZ-75"]


def test_a_flood_keeps_its_texts_and_a_decline_loses_its_free_text() -> None:
    flood = {
        "kind": "IncidentOpened",
        "source": "cap",
        "texts": [{"language": "kk", "headline": "Су"}],
    }
    assert without_personal_data("IncidentOpened", flood) == flood
    decline = {"kind": "RespondToOffer", "answer": "decline", "reason": "в больнице с мамой"}
    assert without_personal_data("RespondToOffer", decline) == {
        "kind": "RespondToOffer",
        "answer": "decline",
        "reason": None,
        "reason_given": True,
    }
    refused = {"kind": "ResponseRefused", "reason": "offer_closed"}
    assert without_personal_data("ResponseRefused", refused) == refused, "codes are not free text"
