"""The sender registry and the decisions on it: who may send what, where, and change whose (pure)."""

from __future__ import annotations

import json
import random
import textwrap
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509

from bench.support.cap_stream import cap_alert
from services.cli.samples import SENDER, build_samples
from services.intake.cap import parse_cap
from services.intake.senders import (
    REGISTRY_FILE,
    RegistryError,
    SenderRegistry,
    SignaturePolicy,
    judge_revision,
    judge_sender,
    judge_sent_time,
    sender_key,
)
from services.intake.signatures import BadSignature
from shared.events import topics
from shared.events.incidents import SenderTrust
from shared.rejections import Rejected
from tests.factories import CAP, FLOOD_DAY, missing_person_report
from tests.unit.test_signatures import self_signed

SHIPPED = SenderRegistry.load()
KOSTANAY = "dchs.kostanay@emer.gov.kz"
MINISTRY = "cap@emer.gov.kz"
ALMATY_POLICE = "Almaty City Police Department"


class FakeSignature:
    """A signature that verifies against one certificate only (or none)."""

    def __init__(self, good_with: x509.Certificate | None) -> None:
        self.good_with = good_with
        self.checked_against: list[x509.Certificate] = []

    def verify(self, certificates: Sequence[x509.Certificate]) -> x509.Certificate:
        self.checked_against.extend(certificates)
        if self.good_with is not None and self.good_with in certificates:
            return self.good_with
        raise BadSignature("Digest mismatch for reference 0 ()")


def judge(registry: SenderRegistry = SHIPPED, **overrides: object) -> SenderTrust:
    arguments: dict[str, object] = {
        "sender": KOSTANAY,
        "topic": topics.ALERTS_CAP,
        "region_codes": ("KZ-39",),
        "signature": None,
        "accept_unverified": False,
        **overrides,
    }
    return judge_sender(registry, **arguments)  # type: ignore[arg-type]


def refusal(registry: SenderRegistry = SHIPPED, **overrides: object) -> Rejected:
    with pytest.raises(Rejected) as refused:
        judge(registry, **overrides)
    return refused.value


def write_registry(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "senders.yaml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


NAMES = "name: {kk: Сынақ, ru: Тест, en: Test}"


# The shipped registry.


def test_every_cap_fixture_sender_is_registered() -> None:
    fixtures = sorted(CAP.glob("*.xml")) + sorted((CAP / "encodings").glob("*.xml"))
    senders = set()
    for path in fixtures:
        try:
            senders.add(parse_cap(path.read_bytes()).sender)
        except Rejected:
            continue  # encodings the parser does not read yet; their sender is cap@ as well
    assert senders == {MINISTRY}
    assert all(SHIPPED.find(sender) for sender in senders)


def test_the_demo_the_tests_and_the_bench_send_as_registered_senders() -> None:
    units = {missing_person_report()["reporting_unit"]}
    for sample in build_samples(FLOOD_DAY, "run"):
        if sample.topic == topics.ALERTS_MISSING_PERSON:
            units.add(json.loads(sample.payload)["reporting_unit"])
    bench = parse_cap(cap_alert("B-1", sent=FLOOD_DAY, rng=random.Random(1))).sender
    for sender, topic in [
        (SENDER, topics.ALERTS_CAP),
        (bench, topics.ALERTS_CAP),
        *((unit, topics.ALERTS_MISSING_PERSON) for unit in units),
    ]:
        found = SHIPPED.find(sender)
        assert found is not None, sender
        assert topic in found.topics


def test_a_police_unit_under_each_of_its_names_is_one_sender() -> None:
    kazakh = SHIPPED.find("Алматы қаласы Полиция департаменті")
    assert kazakh is not None
    assert SHIPPED.find("almaty  city police department") is kazakh
    assert SHIPPED.may_act_for(ALMATY_POLICE, "Алматы қаласы Полиция департаменті")


def test_every_shipped_entry_is_marked_as_an_example() -> None:
    assert all(sender.example for sender in SHIPPED.senders)
    assert "EXAMPLE CONFIGURATION" in REGISTRY_FILE.read_text(encoding="utf-8")


# Who may send what, where.


def test_a_registered_sender_alerting_its_own_region_is_registered() -> None:
    assert judge() is SenderTrust.REGISTERED


def test_an_unknown_sender_is_refused_naming_it() -> None:
    refused = refusal(sender="someone@example.com")
    assert refused.code == "unknown_sender"
    assert "'someone@example.com'" in refused.reason
    assert "registry" in refused.reason


def test_an_unknown_sender_is_unverified_when_the_option_is_on() -> None:
    signature = FakeSignature(None)
    trust = judge(sender="someone@example.com", accept_unverified=True, signature=signature)
    assert trust is SenderTrust.UNVERIFIED
    assert signature.checked_against == [], "nothing to check it against"


def test_a_regional_department_may_not_alert_another_region() -> None:
    refused = refusal(region_codes=("KZ-39", "KZ-11"))
    assert refused.code == "sender_not_permitted"
    assert "Department of Emergency Situations of Kostanay Region" in refused.reason
    assert "Kostanay Region (KZ-39)" in refused.reason
    assert "Akmola Region (KZ-11)" in refused.reason


def test_a_national_sender_may_alert_every_region() -> None:
    assert judge(sender=MINISTRY, region_codes=("KZ-75", "KZ-63")) is SenderTrust.REGISTERED


def test_a_sender_may_use_only_its_topics() -> None:
    refused = refusal(sender=ALMATY_POLICE, region_codes=("KZ-75",))
    assert refused.code == "sender_not_permitted"
    assert "missing-person reports, not CAP alerts" in refused.reason


def test_a_cancel_without_an_area_is_judged_on_the_topic_alone() -> None:
    assert judge(region_codes=()) is SenderTrust.REGISTERED


# Signatures.


def signing_registry(
    tmp_path: Path, policy: SignaturePolicy
) -> tuple[SenderRegistry, x509.Certificate]:
    _, certificate, pem = self_signed("Kostanay DES")
    path = write_registry(
        tmp_path,
        f"""
        senders:
          - id: {KOSTANAY}
            {NAMES}
            regions: [KZ-39]
            topics: [alerts.cap.v1]
            signature: {policy.value}
            certificates:
              - path: kostanay.pem
        """,
    )
    (tmp_path / "kostanay.pem").write_text(pem)
    return SenderRegistry.load(path), certificate


def test_a_required_signature_that_verifies_is_signed(tmp_path: Path) -> None:
    registry, certificate = signing_registry(tmp_path, SignaturePolicy.REQUIRED)
    assert judge(registry, signature=FakeSignature(certificate)) is SenderTrust.SIGNED


def test_a_required_signature_that_is_missing_is_refused(tmp_path: Path) -> None:
    registry, _ = signing_registry(tmp_path, SignaturePolicy.REQUIRED)
    refused = refusal(registry)
    assert refused.code == "signature_required"
    assert "Test (dchs.kostanay@emer.gov.kz)" in refused.reason


def test_a_signature_that_does_not_verify_is_refused(tmp_path: Path) -> None:
    registry, _ = signing_registry(tmp_path, SignaturePolicy.VERIFY_IF_PRESENT)
    refused = refusal(registry, signature=FakeSignature(None))
    assert refused.code == "bad_signature"
    assert "Test (dchs.kostanay@emer.gov.kz)" in refused.reason
    assert "Digest mismatch" in refused.reason


def test_an_optional_signature_is_checked_when_present(tmp_path: Path) -> None:
    registry, certificate = signing_registry(tmp_path, SignaturePolicy.VERIFY_IF_PRESENT)
    assert judge(registry) is SenderTrust.REGISTERED
    assert judge(registry, signature=FakeSignature(certificate)) is SenderTrust.SIGNED


def test_a_signature_from_a_sender_without_certificates_is_not_checked() -> None:
    signature = FakeSignature(None)
    assert judge(signature=signature) is SenderTrust.REGISTERED
    assert signature.checked_against == []


# Who may change whose incidents.


def test_the_original_sender_may_update_and_cancel() -> None:
    judge_revision(SHIPPED, sender=KOSTANAY, originals=[KOSTANAY], action="update")


def test_a_sender_acting_for_the_original_may_cancel() -> None:
    judge_revision(SHIPPED, sender=MINISTRY, originals=[KOSTANAY], action="cancel")


def test_another_sender_may_not_change_an_incident_and_is_told_who_may() -> None:
    with pytest.raises(Rejected) as refused:
        judge_revision(
            SHIPPED, sender="dchs.akmola@emer.gov.kz", originals=[KOSTANAY], action="update"
        )
    assert refused.value.code == "not_original_sender"
    reason = refused.value.reason
    assert "Department of Emergency Situations of Akmola Region" in reason
    assert "raised by Department of Emergency Situations of Kostanay Region" in reason
    assert "Ministry of Emergency Situations" in reason, "who may act for it"


def test_acting_for_goes_one_way() -> None:
    with pytest.raises(Rejected) as refused:
        judge_revision(SHIPPED, sender=KOSTANAY, originals=[MINISTRY], action="cancel")
    assert refused.value.code == "not_original_sender"


def test_unknown_senders_may_change_only_their_own() -> None:
    judge_revision(SHIPPED, sender="a@example.com", originals=["A@example.com"], action="update")
    with pytest.raises(Rejected) as refused:
        judge_revision(
            SHIPPED, sender="b@example.com", originals=["a@example.com"], action="update"
        )
    assert "'b@example.com' (not registered)" in refused.value.reason


def test_every_incident_must_be_the_senders_own() -> None:
    with pytest.raises(Rejected):
        judge_revision(SHIPPED, sender=KOSTANAY, originals=[KOSTANAY, MINISTRY], action="cancel")


def test_another_police_unit_may_not_end_a_search() -> None:
    with pytest.raises(Rejected) as refused:
        judge_revision(
            SHIPPED,
            sender="Kostanay Region Police Department",
            originals=["Алматы қаласы Полиция департаменті"],
            action="end the search for",
        )
    assert "may end the search for it" in refused.value.reason


# The date.


def test_a_message_dated_within_the_skew_is_accepted() -> None:
    now = datetime(2026, 4, 2, 2, 0, tzinfo=UTC)
    judge_sent_time(now + timedelta(minutes=10), now=now, max_skew=timedelta(minutes=10), what="x")
    judge_sent_time(now - timedelta(days=30), now=now, max_skew=timedelta(minutes=10), what="x")


def test_a_message_dated_beyond_the_skew_is_refused_saying_by_how_much() -> None:
    now = datetime(2026, 4, 2, 2, 0, tzinfo=UTC)
    with pytest.raises(Rejected) as refused:
        judge_sent_time(
            now + timedelta(hours=5, minutes=40),
            now=now,
            max_skew=timedelta(minutes=10),
            what="its CAP <sent>",
        )
    assert refused.value.code == "sent_in_future"
    reason = refused.value.reason
    assert "2026-04-02 12:40 +0500 (its CAP <sent>)" in reason
    assert "5 h 40 min ahead of the intake's clock (2026-04-02 07:00 +0500)" in reason
    assert "more than 10 min ahead" in reason


# The file.


def test_inline_and_file_certificates_are_both_read(tmp_path: Path) -> None:
    _, first, first_pem = self_signed("one")
    _, second, second_pem = self_signed("two")
    (tmp_path / "two.pem").write_text(second_pem)
    inline = textwrap.indent(first_pem, " " * 10)
    path = tmp_path / "senders.yaml"
    path.write_text(
        "senders:\n"
        f"  - id: {KOSTANAY}\n"
        f"    {NAMES}\n"
        "    regions: all\n"
        "    topics: [alerts.cap.v1]\n"
        "    signature: required\n"
        "    certificates:\n"
        "      - pem: |\n"
        f"{inline}"
        f"      - path: {tmp_path / 'two.pem'}\n",
        encoding="utf-8",
    )
    [sender] = SenderRegistry.load(path).senders
    assert sender.certificates == (first, second)


@pytest.mark.parametrize(
    ("entry", "complaint"),
    [
        ("regions: [KZ-99]\n    topics: [alerts.cap.v1]", "KZ-99"),
        ("regions: []\n    topics: [alerts.cap.v1]", "an empty list"),
        ("regions: all\n    topics: [incidents.v1]", "incidents.v1"),
        ("regions: all\n    topics: [alerts.cap.v1]\n    signature: required", "certificate"),
        ("regions: all\n    topics: [alerts.cap.v1]\n    signature: sometimes", "signature"),
        ("regions: all\n    topics: [alerts.cap.v1]\n    acts_for: [ghost@x]", "ghost@x"),
        ("regions: all\n    topics: [alerts.cap.v1]\n    colour: red", "colour"),
        (
            "regions: all\n    topics: [alerts.cap.v1]\n    certificates: [{path: none.pem}]",
            "none.pem",
        ),
        ("regions: all\n    topics: [alerts.cap.v1]\n    certificates: [{pem: junk}]", "PEM"),
    ],
)
def test_a_broken_registry_is_refused_saying_what_is_wrong(
    tmp_path: Path, entry: str, complaint: str
) -> None:
    path = tmp_path / "senders.yaml"
    path.write_text(f"senders:\n  - id: a@b\n    {NAMES}\n    {entry}\n", encoding="utf-8")
    with pytest.raises(RegistryError) as broken:
        SenderRegistry.load(path)
    assert complaint in str(broken.value)
    assert str(path) in str(broken.value)


def test_the_same_sender_twice_is_refused(tmp_path: Path) -> None:
    entry = f"  - id: A@b\n    {NAMES}\n    regions: all\n    topics: [alerts.cap.v1]\n"
    alias = (
        f"  - id: c@d\n    aliases: [a@B]\n    {NAMES}\n    regions: all\n"
        "    topics: [alerts.cap.v1]\n"
    )
    path = tmp_path / "senders.yaml"
    path.write_text("senders:\n" + entry + alias, encoding="utf-8")
    with pytest.raises(RegistryError, match="registered twice"):
        SenderRegistry.load(path)


def test_a_suspended_sender_is_refused_under_any_of_its_names() -> None:
    suspended = frozenset({sender_key(KOSTANAY)})
    refused = refusal(sender=KOSTANAY.upper(), suspended=suspended)
    assert refused.code == "sender_suspended"
    assert "Department of Emergency Situations of Kostanay Region" in refused.reason
    assert "administrator" in refused.reason
    # Others are not: the Ministry still alerts Kostanay.
    assert judge(sender="cap@emer.gov.kz", suspended=suspended) is SenderTrust.REGISTERED


def test_jedels_dispatchers_may_update_what_anyone_raised_and_nobody_theirs() -> None:
    assert SHIPPED.may_act_for("dispatch@jedel.kz", KOSTANAY)
    assert SHIPPED.may_act_for("dispatch@jedel.kz", "Қостанай облысының Полиция департаменті")
    assert not SHIPPED.may_act_for(KOSTANAY, "dispatch@jedel.kz")
    assert "dispatch@jedel.kz" in {s.id for s in SHIPPED.acting_for(KOSTANAY)}
