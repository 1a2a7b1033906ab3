"""From a mobilization event to the notifications it causes: which channels, what text, which ids.

Pure: values in, values out. Each (event, channel) pair gets a stable notification id, so a
redelivered event produces the very same notifications.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid5

from services.notifier.channels import SMS, NotificationKind, OutgoingNotification
from services.notifier.messages import offer_text, stand_down_text
from shared import answer_links
from shared.events.mobilization import OfferStoodDown, VolunteerOffered
from shared.i18n import normalize_language

NOTIFICATION_IDS = UUID("6c1f6b5e-2d8a-4f57-9a63-0d1c9a7e4b21")


def notification_id(source_event_id: UUID, channel: str) -> UUID:
    return uuid5(NOTIFICATION_IDS, f"{source_event_id}/{channel}")


def answer_url(public_url: str, event: VolunteerOffered, *, secret: str) -> str:
    """The offer's answer link: a token signed for this volunteer and offer (`shared.answer_links`),
    the same for every delivery of the same offer."""
    token = answer_links.sign(
        secret,
        offer_id=event.offer_id,
        volunteer_id=event.volunteer_id,
        offer_expires_at=_aware(event.expires_at),
    )
    return f"{public_url.rstrip('/')}/r/{token}"


def plan_offer(
    event: VolunteerOffered, *, channels: Sequence[str], public_url: str, link_secret: str
) -> list[OutgoingNotification]:
    """The offer through every enabled channel that can reach the volunteer, in `channels` order."""
    language = normalize_language(event.language)
    link = answer_url(public_url, event, secret=link_secret)
    text = offer_text(
        language=language,
        incident_type=event.incident_type,
        role=event.role,
        eta_s=event.eta_s,
        expires_at=event.expires_at,
        answer_url=link,
        is_exercise=event.is_exercise,
    )
    return [
        OutgoingNotification(
            notification_id=notification_id(event.event_id, channel),
            channel=channel,
            kind=NotificationKind.OFFER,
            source_event_id=event.event_id,
            incident_id=event.incident_id,
            offer_id=event.offer_id,
            volunteer_id=event.volunteer_id,
            role=event.role,
            language=language,
            text=text,
            occurred_at=event.occurred_at,
            not_after=_aware(event.expires_at),
            phone=event.contact_phone,
            answer_url=link,
            expires_at=event.expires_at,
            incident_type=event.incident_type,
            headline=event.headline,
            is_exercise=event.is_exercise,
        )
        for channel in _reachable(channels, phone=event.contact_phone)
    ]


def plan_stand_down(
    event: OfferStoodDown, *, channels: Sequence[str], max_age: timedelta
) -> list[OutgoingNotification]:
    """The stand-down through every enabled channel that can reach the volunteer.

    A stand-down older than `max_age` is not worth sending (a replay after a long outage): the
    offer it withdraws has long closed.
    """
    language = normalize_language(event.language)
    text = stand_down_text(language=language, reason=event.reason, was_member=event.was_member)
    return [
        OutgoingNotification(
            notification_id=notification_id(event.event_id, channel),
            channel=channel,
            kind=NotificationKind.STAND_DOWN,
            source_event_id=event.event_id,
            incident_id=event.incident_id,
            offer_id=event.offer_id,
            volunteer_id=event.volunteer_id,
            role=event.role,
            language=language,
            text=text,
            occurred_at=event.occurred_at,
            not_after=_aware(event.occurred_at) + max_age,
            phone=event.contact_phone,
            stand_down_reason=event.reason,
        )
        for channel in _reachable(channels, phone=event.contact_phone)
    ]


def _aware(moment: datetime) -> datetime:
    """Contracts carry aware times; a naive one is taken as UTC rather than failing the comparison."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _reachable(channels: Sequence[str], *, phone: str | None) -> list[str]:
    return [channel for channel in channels if channel != SMS or phone]
