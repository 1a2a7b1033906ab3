"""`jedel validate`: what one CAP file becomes, said the way the intake would decide it.

Decides nothing itself: the file goes through the intake's own `prepare_cap` and `judge_cap`
(the sender registry and options of `IntakeSettings`, the clock of this machine); this module
only puts the outcome into the dispatcher's words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from services.intake.cap import CapAlert
from services.intake.draft import IncidentDraft
from services.intake.gazetteer import Gazetteer
from services.intake.main import load_senders
from services.intake.regions import RegionIndex
from services.intake.senders import SenderRegistry
from services.intake.settings import IntakeOptions, IntakeSettings
from services.intake.subscribers import judge_cap, prepare_cap
from services.notifier.messages import INCIDENT_TYPES
from shared.events import topics
from shared.events.incidents import SenderTrust
from shared.geo import geodesic_area_km2
from shared.i18n import CATALOGUE, normalize_language, translate
from shared.reference import load_regions
from shared.rejections import Rejected

_CLIPPED_SHARE = 0.999  # less of the sent area than this left after clipping: say so


@dataclass(frozen=True)
class Verdict:
    accepted: bool
    lines: tuple[str, ...]


def verdict(
    data: bytes,
    *,
    language: str = "kk",
    settings: IntakeSettings | None = None,
    senders: SenderRegistry | None = None,
    now: datetime | None = None,
) -> Verdict:
    """What the intake would make of `data` arriving on the CAP topic now."""
    settings = settings or IntakeSettings()
    senders = senders or load_senders(settings)
    options: IntakeOptions = settings.intake
    lang = normalize_language(language)
    gazetteer = Gazetteer.default()
    try:
        alert, draft = prepare_cap(
            data,
            regions=RegionIndex(load_regions()),
            gazetteer=gazetteer,
            senders=senders,
            max_bytes=options.max_cap_bytes,
        )
        draft = judge_cap(
            alert,
            draft,
            data=data,
            topic=topics.ALERTS_CAP,
            senders=senders,
            options=options,
            now=now or datetime.now(UTC),
        )
    except Rejected as rejection:
        title_key = f"rejection.{rejection.code}"
        title = translate(title_key, lang) if title_key in CATALOGUE else rejection.code
        said = translate(
            "validate.refused", lang, code=rejection.code, title=title, reason=rejection.reason
        )
        return Verdict(False, (said,))
    lines = [
        translate(
            "validate.valid",
            lang,
            version=alert.version,
            msg_type=alert.msg_type,
            status=alert.status,
            sender=senders.describe(alert.sender, lang),
        )
    ]
    lines.extend(_what_it_becomes(alert, draft, gazetteer, lang=lang, now=now))
    return Verdict(True, tuple(lines))


def _what_it_becomes(
    alert: CapAlert,
    draft: IncidentDraft | None,
    gazetteer: Gazetteer,
    *,
    lang: str,
    now: datetime | None,
) -> list[str]:
    if alert.msg_type == "Cancel":
        return [translate("validate.cancel", lang, count=len(alert.references))]
    if draft is None:
        return [translate("validate.recorded", lang)]
    lines = [
        translate(
            "validate.becomes",
            lang,
            type=INCIDENT_TYPES[draft.type][normalize_language(lang)],
            priority=translate(f"priority.{draft.priority.value}", lang),
            area=f"{draft.area_km2:,.0f}",
            regions=", ".join(draft.region_codes) or "—",
        )
    ]
    if draft.sender_trust is SenderTrust.UNVERIFIED:
        lines.append(translate("validate.unverified_sender", lang))
    elif draft.sender_trust is SenderTrust.SIGNED:
        lines.append(translate("validate.signed", lang))
    if draft.area_to_confirm:
        lines.append(
            translate("validate.area_to_confirm", lang, why=_doubts(alert, gazetteer, lang))
        )
    if draft.outside_service_area:
        lines.append(translate("validate.outside_service_area", lang))
    elif _was_clipped(draft):
        lines.append(translate("validate.clipped", lang))
    if draft.is_expired(now or datetime.now(UTC)) and draft.expires_at is not None:
        lines.append(translate("validate.expired", lang, expires=draft.expires_at.isoformat()))
    if not draft.announces:
        lines.append(translate("validate.not_announced", lang, status=alert.status))
    return lines


def _doubts(alert: CapAlert, gazetteer: Gazetteer, lang: str) -> str:
    """The names the gazetteer could not place, or placed in more than one spot."""
    doubts: list[str] = []
    areas = [area for info in alert.infos for area in info.areas if area.geometry is None]
    for area in areas:
        resolution = gazetteer.resolve(area.description, area.geocodes)
        doubts.extend(
            f"«{text}» — {translate('validate.not_found', lang)}" for text in resolution.unresolved
        )
        doubts.extend(
            f"«{text}» — {translate('validate.several_places', lang)} ({len(places)})"
            for text, places in resolution.ambiguous
        )
    unique = list(dict.fromkeys(doubts))
    return "; ".join(unique) if unique else translate("validate.no_place", lang)


def _was_clipped(draft: IncidentDraft) -> bool:
    sent = sum(geodesic_area_km2(part.geometry) for part in draft.parts)
    return sent > 0 and draft.area_km2 < _CLIPPED_SHARE * sent and len(draft.parts) == 1
