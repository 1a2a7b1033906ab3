"""From mobilization events to notifications: decoding, channels, ids, and the settings behind them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from pydantic import ValidationError

from services.notifier.channels import IN_APP, SMS, NotificationKind
from services.notifier.plan import notification_id, plan_offer, plan_stand_down
from services.notifier.settings import NotifierOptions, NotifierSettings
from services.notifier.subscribers import decode
from shared import answer_links
from shared.events.incidents import IncidentType, Priority
from shared.events.mobilization import (
    OfferAccepted,
    OfferStoodDown,
    StandDownReason,
    VolunteerOffered,
    WaveSent,
)
from shared.events.volunteers import Role
from shared.rejections import Rejected

NOW = datetime(2026, 4, 2, 7, 0, tzinfo=UTC)

SECRET = "plan-test-secret"


def offered(**overrides: object) -> VolunteerOffered:
    values: dict[str, object] = {
        "occurred_at": NOW,
        "incident_id": uuid4(),
        "offer_id": uuid4(),
        "volunteer_id": uuid4(),
        "role": Role.MEDIC,
        "wave": 1,
        "eta_s": 720,
        "distance_m": 9000,
        "expires_at": NOW + timedelta(minutes=10),
        "language": "ru",
        "contact_phone": "+77011234567",
        "incident_type": IncidentType.FLOOD,
        "priority": Priority.HIGH,
        "headline": "Паводок в Костанайской области",
    }
    values.update(overrides)
    return VolunteerOffered.model_validate(values)


def stood_down(**overrides: object) -> OfferStoodDown:
    values: dict[str, object] = {
        "occurred_at": NOW,
        "incident_id": uuid4(),
        "offer_id": uuid4(),
        "volunteer_id": uuid4(),
        "role": Role.SEARCHER,
        "reason": StandDownReason.GROUP_COMPLETE,
        "language": "en",
    }
    values.update(overrides)
    return OfferStoodDown.model_validate(values)


def test_an_offer_goes_by_sms_first_then_in_app_with_the_same_text() -> None:
    event = offered()
    sms, in_app = plan_offer(
        event, channels=(SMS, IN_APP), public_url="https://jedel.kz/", link_secret=SECRET
    )
    assert (sms.channel, in_app.channel) == (SMS, IN_APP)
    assert sms.text == in_app.text
    [link] = [word for word in sms.text.split() if word.startswith("https://")]
    assert link.startswith("https://jedel.kz/r/")
    claim = answer_links.read(link.removeprefix("https://jedel.kz/r/"))
    assert claim.offer_id == event.offer_id
    answer_links.verify(SECRET, claim, volunteer_id=event.volunteer_id, now=event.expires_at)
    with pytest.raises(answer_links.InvalidLink):  # bound to the volunteer: nobody else's link
        answer_links.verify(SECRET, claim, volunteer_id=uuid4(), now=event.expires_at)
    assert str(event.offer_id) not in sms.text
    assert "Ваша роль: медик" in sms.text
    assert sms.phone == "+77011234567"
    assert sms.kind is NotificationKind.OFFER
    assert sms.not_after == event.expires_at
    assert sms.notification_id != in_app.notification_id


def test_notification_ids_are_stable_per_event_and_channel() -> None:
    event = offered()
    first = plan_offer(
        event, channels=(SMS, IN_APP), public_url="https://jedel.kz", link_secret=SECRET
    )
    again = plan_offer(
        event, channels=(SMS, IN_APP), public_url="https://jedel.kz", link_secret=SECRET
    )
    assert [n.notification_id for n in first] == [n.notification_id for n in again]
    assert first[0].notification_id == notification_id(event.event_id, SMS)
    assert first[1].inbox_entry() == again[1].inbox_entry()


def test_the_inbox_entry_carries_what_the_app_shows() -> None:
    event = offered(is_exercise=True)
    [in_app] = plan_offer(
        event, channels=(IN_APP,), public_url="https://jedel.kz", link_secret=SECRET
    )
    entry = json.loads(in_app.inbox_entry())
    assert entry["id"] == str(in_app.notification_id)
    assert entry["kind"] == "offer"
    assert entry["offer_id"] == str(event.offer_id)
    assert entry["headline"] == "Паводок в Костанайской области"
    assert entry["is_exercise"] is True
    assert entry["text"].startswith("УЧЕНИЯ! ")
    assert "Паводок" in in_app.inbox_entry(), "stored as UTF-8, not \\u escapes"


def test_a_stand_down_without_a_phone_goes_in_app_only() -> None:
    event = stood_down()
    [in_app] = plan_stand_down(event, channels=(SMS, IN_APP), max_age=timedelta(hours=6))
    assert in_app.channel == IN_APP
    assert in_app.text == "Jedel: the group is complete, thank you - no need to come."
    assert in_app.kind is NotificationKind.STAND_DOWN
    assert in_app.not_after == NOW + timedelta(hours=6)


def test_a_stand_down_with_a_phone_goes_by_sms_too_in_the_volunteers_language() -> None:
    event = stood_down(contact_phone="+77011234567", language="kk")
    sms, _ = plan_stand_down(event, channels=(SMS, IN_APP), max_age=timedelta(hours=6))
    assert sms.text == "Jedel: топ жасақталды, рақмет — келудің қажеті жоқ."


def test_decode_reads_offers_and_stand_downs() -> None:
    event = offered()
    decoded = decode(event.model_dump_json().encode(), event_type="VolunteerOffered")
    assert decoded == event
    down = stood_down()
    assert decode(down.model_dump_json().encode(), event_type=None) == down


def test_decode_reads_answers_which_close_the_offer() -> None:
    accepted = OfferAccepted(
        incident_id=uuid4(), offer_id=uuid4(), volunteer_id=uuid4(), role=Role.MEDIC, eta_s=60
    )
    data = accepted.model_dump_json().encode()
    assert decode(data, event_type="OfferAccepted") == accepted
    assert decode(data, event_type=None) == accepted


def test_decode_skips_other_kinds_by_header_or_payload() -> None:
    wave = WaveSent(incident_id=uuid4(), wave=1, radius_m=5000, offers={Role.MEDIC: 2})
    data = wave.model_dump_json().encode()
    assert decode(data, event_type="WaveSent") is None
    assert decode(data, event_type=None) is None
    assert decode(b"not even json", event_type="GroupCompleted") is None


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"{not json", "malformed_event"),
        (b"[1, 2]", "malformed_event"),
        (b'{"event_id": "x"}', "malformed_event"),
        (b'{"kind": "VolunteerOffered", "offer_id": "nope"}', "invalid_event"),
    ],
)
def test_decode_rejects_what_cannot_be_read(data: bytes, code: str) -> None:
    with pytest.raises(Rejected) as refused:
        decode(data, event_type=None)
    assert refused.value.code == code


def test_channels_default_to_in_app_and_add_sms_with_a_gateway() -> None:
    assert NotifierOptions().enabled_channels == (IN_APP,)
    with_gateway = NotifierOptions(sms_gateway_url="http://gateway.local")
    assert with_gateway.enabled_channels == (SMS, IN_APP)
    assert NotifierOptions(channels=("in_app",)).enabled_channels == (IN_APP,)


def test_sms_without_a_gateway_is_refused() -> None:
    with pytest.raises(ValidationError, match="SMS_GATEWAY_URL"):
        NotifierOptions(channels=("sms", "in_app"))


def test_production_refuses_the_development_gateway_token_and_a_loopback_public_url() -> None:
    gateway = {"sms_gateway_url": "http://gateway.local", "public_url": "https://jedel.kz"}
    with pytest.raises(ValidationError, match="SMS_GATEWAY_TOKEN"):
        NotifierSettings(
            environment="production", secret_key="real", notifier=NotifierOptions(**gateway)
        )
    with pytest.raises(ValidationError, match="PUBLIC_URL"):
        NotifierSettings(environment="production", secret_key="real")
    accepted = NotifierSettings(
        environment="production",
        secret_key="real",
        notifier=NotifierOptions(**gateway, sms_gateway_token="token-from-the-vault"),
    )
    assert accepted.notifier.enabled_channels == (SMS, IN_APP)


def test_a_naive_expiry_is_taken_as_utc() -> None:
    event = offered(expires_at=datetime(2026, 4, 2, 7, 10))
    [in_app] = plan_offer(
        event, channels=(IN_APP,), public_url="https://jedel.kz", link_secret=SECRET
    )
    assert in_app.not_after == datetime(2026, 4, 2, 7, 10, tzinfo=UTC)
    assert "12:10" in in_app.text
