"""What the append-only activity log must not keep: personal data. Pure.

The log is kept forever and can never be changed, so it refers to people by id only; their names,
phones and homes stay on the rows that can be erased or pseudonymised on request (`volunteers`).
Removed before an entry is written:
- the phone an offer was sent to (`contact_phone`);
- a missing-person incident's texts beyond the kind of event (they name the person, their age,
  clothes and medical needs) and the subject's age and last-seen point (its category stays);
- a volunteer's free-text reason for declining (`RespondToOffer.reason`: it may say anything).
"""

from __future__ import annotations

from typing import Any, Final

PERSONAL_KEYS: Final = frozenset({"contact_phone"})
SUBJECT_KEEPS: Final = frozenset({"category"})


def without_personal_data(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as the log may keep it (a new dict; `payload` is not changed)."""
    kept = {key: value for key, value in payload.items() if key not in PERSONAL_KEYS}
    if kind == "RespondToOffer" and kept.get("reason") is not None:
        kept["reason"] = None
        kept["reason_given"] = True
    if kept.get("source") == "missing_person":
        texts = kept.get("texts")
        if isinstance(texts, list):
            kept["texts"] = [
                {key: text[key] for key in ("language", "event") if key in text}
                for text in texts
                if isinstance(text, dict)
            ]
        subject = kept.get("subject")
        if isinstance(subject, dict):
            kept["subject"] = {key: subject[key] for key in SUBJECT_KEEPS if key in subject}
        kept.pop("headline", None)
    return kept
