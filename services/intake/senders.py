"""Who may raise incidents, where, and how far Jedel trusts them: the sender registry (data, in
`senders.yaml`) and the decisions made on it (pure).

- `judge_sender`: may this sender send on this topic, for these regions, with (or without) this
  signature, and is it not suspended by an administrator? Returns the `SenderTrust` the incident
  will carry, or raises `Rejected`.
- `judge_revision`: may this sender update or cancel incidents that others raised?
- `judge_sent_time`: is the message dated too far ahead of the intake's clock?

Codes: unknown_sender, sender_suspended, sender_not_permitted, signature_required, bad_signature,
not_original_sender, sent_in_future. Every reason names who sent the message and who may.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Final, Literal, Protocol

import yaml
from cryptography import x509
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from services.intake.signatures import BadSignature, load_certificate_file, load_certificates
from shared.events import topics
from shared.events.incidents import SenderTrust
from shared.i18n import Language
from shared.reference import KAZAKHSTAN_TZ, region_by_code
from shared.rejections import Rejected

REGISTRY_FILE: Final = Path(__file__).with_name("senders.yaml")
SENDER_TOPICS: Final = (topics.ALERTS_CAP, topics.ALERTS_MISSING_PERSON, topics.ALERTS_DISPATCH)
_TOPIC_WORDS: Final = {
    topics.ALERTS_CAP: "CAP alerts",
    topics.ALERTS_MISSING_PERSON: "missing-person reports",
    topics.ALERTS_DISPATCH: "Jedel dispatchers' CAP updates",
}


class RegistryError(Exception):
    """The registry file cannot be used; the intake refuses to start with it."""


class SignaturePolicy(StrEnum):
    REQUIRED = "required"  # unsigned or badly signed messages under this name are refused
    VERIFY_IF_PRESENT = "verify_if_present"  # unsigned is accepted; a signature must verify


class Signature(Protocol):
    """A message's signature, checked against the certificates the registry holds for its sender
    (`signatures.EnvelopedSignature`); raises `BadSignature` when none verifies it."""

    def verify(self, certificates: Sequence[x509.Certificate]) -> x509.Certificate: ...


def sender_key(sender: str) -> str:
    """How sender ids are compared: case and runs of white space do not matter."""
    return " ".join(sender.split()).casefold()


@dataclass(frozen=True)
class Sender:
    id: str
    name: Mapping[Language, str]
    topics: frozenset[str]
    regions: frozenset[str] | None  # None: every region
    signature: SignaturePolicy = SignaturePolicy.VERIFY_IF_PRESENT
    certificates: tuple[x509.Certificate, ...] = field(default=(), repr=False)
    aliases: tuple[str, ...] = ()
    acts_for: frozenset[str] = frozenset()  # `sender_key`s of the senders it may stand in for
    example: bool = False
    acts_for_all: bool = False  # stands in for every sender (Jedel's own dispatchers)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(sender_key(name) for name in (self.id, *self.aliases)))

    def describe(self, language: Language = "en") -> str:
        return f"{self.name[language]} ({self.id})"


@dataclass(frozen=True)
class SenderRegistry:
    senders: tuple[Sender, ...]
    _by_key: Mapping[str, Sender] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_key: dict[str, Sender] = {}
        for sender in self.senders:
            for key in sender.keys:
                if key in by_key:
                    raise RegistryError(
                        f"{key!r} is registered twice ({by_key[key].id} and {sender.id})"
                    )
                by_key[key] = sender
        for sender in self.senders:
            unknown = sorted(key for key in sender.acts_for if key not in by_key)
            if unknown:
                raise RegistryError(f"{sender.id} acts for unregistered senders: {unknown}")
        object.__setattr__(self, "_by_key", by_key)

    @classmethod
    def load(cls, path: Path = REGISTRY_FILE) -> SenderRegistry:
        """Read and check a registry file; certificate paths are relative to the file."""
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
            checked = _RegistryFile.model_validate(raw)
            return cls(tuple(_sender(entry, base=path.parent) for entry in checked.senders))
        except (OSError, yaml.YAMLError, ValidationError, ValueError) as exc:
            raise RegistryError(f"{path}: {exc}") from exc
        except RegistryError as exc:
            raise RegistryError(f"{path}: {exc}") from exc

    def find(self, sender: str) -> Sender | None:
        return self._by_key.get(sender_key(sender))

    def describe(self, sender: str, language: Language = "en") -> str:
        """`Name (id)` for a registered sender, `'id' (not registered)` for any other."""
        found = self.find(sender)
        return found.describe(language) if found else f"'{sender}' (not registered)"

    def may_act_for(self, sender: str, original: str) -> bool:
        """Whether `sender` may update or cancel what `original` sent: the same sender under any
        of its names, or one whose `acts_for` names it."""
        found, of = self.find(sender), self.find(original)
        if found is None or of is None:
            return sender_key(sender) == sender_key(original)
        return found is of or found.acts_for_all or bool(found.acts_for & set(of.keys))

    def acting_for(self, original: str) -> tuple[Sender, ...]:
        """The senders registered to act for `original` (besides itself)."""
        of = self.find(original)
        if of is None:
            return ()
        return tuple(
            s for s in self.senders if s is not of and (s.acts_for_all or s.acts_for & set(of.keys))
        )


def judge_sender(
    registry: SenderRegistry,
    *,
    sender: str,
    topic: str,
    region_codes: Iterable[str],
    signature: Signature | None,
    accept_unverified: bool,
    suspended: Collection[str] = frozenset(),
) -> SenderTrust:
    """How far to trust a message from `sender` on `topic` for `region_codes` (those of the
    built draft; none for a Cancel), with the signature it carries, if any. `suspended`: the
    `sender_key`s of registered senders an administrator suspended."""
    what = _TOPIC_WORDS.get(topic, f"messages on {topic}")
    entry = registry.find(sender)
    if entry is None:
        if accept_unverified:
            return SenderTrust.UNVERIFIED
        raise Rejected(
            "unknown_sender",
            f"The sender '{sender}' is not in Jedel's sender registry, and only registered "
            f"organisations may send {what}. If it is a genuine sender, an administrator must "
            "add it to the registry.",
        )
    if sender_key(entry.id) in suspended:
        raise Rejected(
            "sender_suspended",
            f"{entry.describe()} is suspended by a Jedel administrator: nothing sent under its "
            "name is taken until an administrator resumes it.",
        )
    if topic not in entry.topics:
        allowed = " and ".join(_TOPIC_WORDS.get(t, t) for t in sorted(entry.topics)) or "nothing"
        raise Rejected(
            "sender_not_permitted",
            f"{entry.describe()} is registered to send {allowed}, not {what}.",
        )
    if entry.regions is not None:
        codes = tuple(dict.fromkeys(region_codes))
        outside = [code for code in codes if code not in entry.regions]
        if outside:
            raise Rejected(
                "sender_not_permitted",
                f"{entry.describe()} may alert only {_regions(sorted(entry.regions))}; this "
                f"message covers {_regions(outside)} as well, which it may not alert.",
            )
    if signature is None:
        if entry.signature is SignaturePolicy.REQUIRED:
            raise Rejected(
                "signature_required",
                f"{entry.describe()} signs everything it sends, and this message under its "
                "name carries no XML signature, so it may be forged. Only a signed copy is "
                "accepted.",
            )
        return SenderTrust.REGISTERED
    if not entry.certificates:
        # Nothing to check it against: the message is as trusted as an unsigned one.
        return SenderTrust.REGISTERED
    try:
        signature.verify(entry.certificates)
    except BadSignature as bad:
        raise Rejected(
            "bad_signature",
            f"The XML signature on this message does not match the certificate registered for "
            f"{entry.describe()}: it was changed after it was signed, or signed by someone "
            f"else ({bad.reason}).",
        ) from None
    return SenderTrust.SIGNED


def judge_revision(
    registry: SenderRegistry, *, sender: str, originals: Iterable[str], action: str
) -> None:
    """Refuse an update or cancellation (`action`: "update", "cancel", "end the search") of
    incidents unless `sender` raised each of them (`originals`: who did) or acts for who did."""
    for original in dict.fromkeys(originals):
        if registry.may_act_for(sender, original):
            continue
        deputies = registry.acting_for(original)
        also = (
            ", or a sender registered to act for it ("
            + ", ".join(deputy.describe() for deputy in deputies)
            + "),"
            if deputies
            else ""
        )
        raise Rejected(
            "not_original_sender",
            f"This message from {registry.describe(sender)} would {action} an incident raised by "
            f"{registry.describe(original)}. Only the sender that raised it{also} may {action} it.",
        )


def judge_sent_time(sent: datetime, *, now: datetime, max_skew: timedelta, what: str) -> None:
    """Refuse a message dated more than `max_skew` ahead of `now` (the intake's clock): kept, its
    date would outrank every correction sent before that moment. `what` names the field."""
    ahead = sent - now
    if ahead <= max_skew:
        return
    raise Rejected(
        "sent_in_future",
        f"The message is dated {_when(sent)} ({what}), {_duration(ahead)} ahead of the intake's "
        f"clock ({_when(now)}); more than {_duration(max_skew)} ahead is refused. The sender's "
        "clock is probably wrong.",
    )


def _regions(codes: Iterable[str]) -> str:
    names = region_by_code()
    return ", ".join(f"{names[code].name_en} ({code})" if code in names else code for code in codes)


def _when(moment: datetime) -> str:
    return moment.astimezone(KAZAKHSTAN_TZ).strftime("%Y-%m-%d %H:%M %z")


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    days, rest = divmod(seconds // 60, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = (f"{days} d" if days else "", f"{hours} h" if hours else "", f"{minutes} min")
    return " ".join(part for part in parts if part and part != "0 min") or "0 min"


# The file, as checked on load.

_Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Names(_Strict):
    kk: _Text
    ru: _Text
    en: _Text


class _Certificate(_Strict):
    pem: str | None = None
    path: Path | None = None


class _Entry(_Strict):
    id: _Text
    aliases: list[_Text] = Field(default_factory=list)
    name: _Names
    regions: Literal["all"] | list[str]
    topics: list[str] = Field(min_length=1)
    acts_for: Literal["all"] | list[_Text] = Field(default_factory=list)
    signature: SignaturePolicy = SignaturePolicy.VERIFY_IF_PRESENT
    certificates: list[_Certificate] = Field(default_factory=list)
    example: bool = False


class _RegistryFile(_Strict):
    senders: list[_Entry]


def _sender(entry: _Entry, *, base: Path) -> Sender:
    unknown_topics = sorted(set(entry.topics) - set(SENDER_TOPICS))
    if unknown_topics:
        raise RegistryError(f"{entry.id}: unknown topics {unknown_topics}; use {SENDER_TOPICS}")
    regions = None
    if entry.regions != "all":
        unknown_regions = sorted(set(entry.regions) - set(region_by_code()))
        if unknown_regions or not entry.regions:
            raise RegistryError(
                f"{entry.id}: regions must be 'all' or ISO 3166-2 codes of Kazakhstan's regions "
                f"(KZ-10 … KZ-79); unknown: {unknown_regions or 'an empty list'}"
            )
        regions = frozenset(entry.regions)
    certificates = tuple(cert for item in entry.certificates for cert in _certificates(item, base))
    if entry.signature is SignaturePolicy.REQUIRED and not certificates:
        raise RegistryError(f"{entry.id}: signature 'required' needs at least one certificate")
    return Sender(
        id=entry.id,
        name={"kk": entry.name.kk, "ru": entry.name.ru, "en": entry.name.en},
        topics=frozenset(entry.topics),
        regions=regions,
        signature=entry.signature,
        certificates=certificates,
        aliases=tuple(entry.aliases),
        acts_for=frozenset()
        if entry.acts_for == "all"
        else frozenset(sender_key(other) for other in entry.acts_for),
        example=entry.example,
        acts_for_all=entry.acts_for == "all",
    )


def _certificates(item: _Certificate, base: Path) -> tuple[x509.Certificate, ...]:
    if (item.pem is None) == (item.path is None):
        raise RegistryError("a certificate is given either as `pem` (inline) or as `path`")
    if item.pem is not None:
        found = load_certificates(item.pem.encode())
    else:
        assert item.path is not None
        found = load_certificate_file(item.path if item.path.is_absolute() else base / item.path)
    if not found:
        raise RegistryError("a certificate entry holds no PEM certificate")
    return found
