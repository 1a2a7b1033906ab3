"""What matching says to people, in Kazakh, Russian and English (kk first; unknown languages get kk).

Reasons a volunteer was not asked, the names of roles, certificates and transport, and the lines of
an explanation. Dates and times are Kazakhstan local time, written `2026-04-02 07:00`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Final

from services.mobilizer.eligibility import Finding, Reason
from shared.events.volunteers import CertificationType, Role, TransportMode
from shared.i18n import CATALOGUE, ROLE_NAMES, Language, normalize_language, words_under
from shared.reference import KAZAKHSTAN_TZ

Texts = dict[Language, str]

# The words are in the shared catalogue (`shared/locale/<kk|ru|en>/LC_MESSAGES/jedel.po`):
# `reason.*`, `certification.*`, `transport.*`, `explanation.*`; these tables are its views.
# A reason says why, never the person's data: "Under 18", not how old a child is.
REASONS: Final[dict[Reason, Texts]] = {
    reason: CATALOGUE[f"reason.{reason.value}"] for reason in Reason
}
CERTIFICATIONS: Final[dict[CertificationType, Texts]] = {
    kind: CATALOGUE[f"certification.{kind.value}"] for kind in CertificationType
}
TRANSPORT: Final[dict[TransportMode, Texts]] = {
    mode: CATALOGUE[f"transport.{mode.value}"] for mode in TransportMode
}
EXPLANATIONS: Final[dict[str, Texts]] = words_under("explanation.")


def role_name(role: Role, language: str | None = None) -> str:
    """The role as everyone reads it (`shared.i18n.ROLE_NAMES`, shared with the call-outs)."""
    return _pick(ROLE_NAMES[role.value], language)


def certification_name(certification: CertificationType, language: str | None = None) -> str:
    return _pick(CERTIFICATIONS[certification], language)


def transport_name(mode: TransportMode, language: str | None = None) -> str:
    return _pick(TRANSPORT[mode], language)


def explanation_text(key: str, language: str | None = None, /, **values: object) -> str:
    return _pick(EXPLANATIONS[key], language).format(**values)


def describe(finding: Finding, language: str | None = None) -> str:
    """One finding as a sentence in `language` (kk, ru or en)."""
    return _pick(REASONS[finding.reason], language).format(
        role=role_name(finding.role, language) if finding.role else "",
        certification=(
            certification_name(finding.certification, language) if finding.certification else ""
        ),
        on=_day(finding.on),
        until=_moment(finding.until),
        count=finding.count,
        limit=finding.limit,
        age=finding.age_years,
        transport=transport_name(finding.transport_mode, language)
        if finding.transport_mode
        else "",
    )


def _pick(texts: Texts, language: str | None) -> str:
    return texts.get(normalize_language(language)) or texts["kk"]


def _day(day: date | None) -> str:
    return day.isoformat() if day else ""


def _moment(moment: datetime | None) -> str:
    return moment.astimezone(KAZAKHSTAN_TZ).strftime("%Y-%m-%d %H:%M") if moment else ""
