"""What the API refuses, as typed exceptions; `main` maps each to its HTTP answer."""

from __future__ import annotations

from uuid import UUID


class IncidentNotFound(LookupError):  # noqa: N818 - the name STYLE.md gives it
    def __init__(self, incident_id: UUID) -> None:
        super().__init__(f"incident {incident_id} not found")
        self.incident_id = incident_id


class InvalidQueryError(ValueError):
    """A query parameter that passed type checks but means nothing (a bbox inside out, say)."""


class MobilizationNotFound(LookupError):  # noqa: N818 - named like IncidentNotFound
    """The incident was never mobilised (unknown, a drill, or not opened yet)."""

    def __init__(self, incident_id: UUID) -> None:
        super().__init__(f"incident {incident_id} has no mobilisation")
        self.incident_id = incident_id


class OfferNotFound(LookupError):  # noqa: N818 - named like IncidentNotFound
    def __init__(self, offer_id: UUID) -> None:
        super().__init__(f"offer {offer_id} not found")
        self.offer_id = offer_id


class VolunteerNotFound(LookupError):  # noqa: N818 - named like IncidentNotFound
    def __init__(self, volunteer_id: UUID) -> None:
        super().__init__(f"volunteer {volunteer_id} not found")
        self.volunteer_id = volunteer_id


class NotYourOffer(PermissionError):  # noqa: N818 - a refusal, not a failure
    def __init__(self, offer_id: UUID) -> None:
        super().__init__(f"offer {offer_id} was made to another volunteer")
        self.offer_id = offer_id


class BrokerUnavailable(ConnectionError):  # noqa: N818 - named for what the caller is told
    """The answer could not be handed to the broker; nothing was decided, the caller may retry."""


class NotSignedIn(PermissionError):  # noqa: N818 - a refusal, not a failure
    """401: no credentials, or credentials that no longer hold (`key`: the message to show)."""

    def __init__(self, key: str = "auth.required") -> None:
        super().__init__(key)
        self.key = key


class Forbidden(PermissionError):  # noqa: N818 - a refusal, not a failure
    """403: signed in, but the role or the region does not allow it."""

    def __init__(self, key: str = "auth.forbidden") -> None:
        super().__init__(key)
        self.key = key


class AuthUnavailable(ConnectionError):  # noqa: N818 - named for what the caller is told
    """Sign-in needs Redis (codes, rate limits) and it cannot be reached: 503, try again."""


class InvalidPhone(ValueError):  # noqa: N818 - a refusal, not a failure
    """A phone number that is not one (400, said in the caller's language)."""


class GroupNotSteerable(ValueError):  # noqa: N818 - a refusal, not a failure
    """The group cannot be steered that way now (closed, or already as wide as it goes)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class RefusalNotFound(LookupError):  # noqa: N818 - named like IncidentNotFound
    """No refused alert by that id (404)."""

    def __init__(self, refusal_id: UUID) -> None:
        super().__init__(f"refused alert {refusal_id} not found")
        self.refusal_id = refusal_id


class RefusalHandled(ValueError):  # noqa: N818 - a refusal, not a failure
    """409: the refused alert cannot be acted on that way (already handled; not resubmittable)."""

    def __init__(self, key: str = "refusal.handled") -> None:
        super().__init__(key)
        self.key = key


class BadCorrection(ValueError):  # noqa: N818 - a refusal, not a failure
    """422: a corrected message the intake would refuse unread (too large)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class NotDeployed(ValueError):  # noqa: N818 - a refusal, not a failure
    """409: the volunteer holds no open place on that call-out (not accepted, or released)."""

    key = "field.not_deployed"


class InboundSmsUnavailable(ConnectionError):  # noqa: N818 - named for what the caller is told
    """503: no token is configured for the SMS gateway's webhook, so no reply can be taken."""


class SenderNotFound(LookupError):  # noqa: N818 - named like IncidentNotFound
    """404: no sender by that name in the registry (or, to resume, none suspended)."""

    def __init__(self, sender_id: str) -> None:
        super().__init__(f"sender {sender_id!r} not found")
        self.sender_id = sender_id
