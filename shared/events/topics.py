"""Every Kafka topic Jedel uses; topic names live here and nowhere else."""

from __future__ import annotations

ALERTS_CAP = "alerts.cap.v1"
ALERTS_MISSING_PERSON = "alerts.missing_person.v1"
ALERTS_DEAD_LETTER = "alerts.dead_letter.v1"
# CAP Updates from Jedel's own dispatchers (an area placed on the map): only the API writes it,
# and the sender registry accepts `dispatch@jedel.kz` from nowhere else, so no outside producer
# can act as Jedel's dispatchers by naming them as its sender.
ALERTS_DISPATCH = "alerts.dispatch.v1"
INCIDENTS = "incidents.v1"
MOBILIZATION = "mobilization.v1"
RESPONSES = "responses.v1"
NOTIFICATIONS = "notifications.v1"
LOCATIONS = "locations.v1"
TRACKING = "tracking.v1"
SEARCH = "search.v1"
# One-time sign-in codes for the notifier to text (the API writes, only the notifier reads:
# not even the operators' console).
SIGN_IN_CODES = "auth.codes.v1"
# Events between services that a consumer could not handle (alerts have their own).
EVENTS_DEAD_LETTER = "events.dead_letter.v1"

ALL = (
    ALERTS_CAP,
    ALERTS_MISSING_PERSON,
    ALERTS_DEAD_LETTER,
    ALERTS_DISPATCH,
    INCIDENTS,
    MOBILIZATION,
    RESPONSES,
    NOTIFICATIONS,
    LOCATIONS,
    TRACKING,
    SEARCH,
    SIGN_IN_CODES,
    EVENTS_DEAD_LETTER,
)
