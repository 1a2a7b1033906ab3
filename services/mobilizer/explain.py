"""Why each volunteer was or was not asked, as plain values the API and the CLI show.

One `Explanation` per volunteer and incident, built from what matching decided: the offer they got
(wave, role, ETA, acceptance estimate), or the eligibility verdicts per role, their distance against
the radius reached, and their place in each role's ranking. `lines(language)` renders it in kk, ru
or en.

The mobilizer stores the facts (`stored`), not the sentences: they are rendered when read
(`from_stored`), in the reader's language, so a wave writes a few small columns per person and a
corrected translation reaches old explanations too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from services.mobilizer import messages
from services.mobilizer.eligibility import Finding, Reason, Verdict
from shared.events.volunteers import CertificationType, Role, TransportMode


class Outcome(StrEnum):
    ASKED = "asked"
    NOT_ELIGIBLE = "not_eligible"
    OUTSIDE_RADIUS = "outside_radius"
    TOO_LATE = "too_late"
    RANKED_BELOW = "ranked_below"


@dataclass(frozen=True, slots=True)
class Offered:
    role: Role
    wave: int
    eta_s: int
    p_accept: float


@dataclass(frozen=True, slots=True)
class Placement:
    """A volunteer's place (1 = first) in a role's ranking, and how many of it were asked."""

    rank: int
    asked_count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Explanation:
    volunteer_id: UUID
    outcome: Outcome
    role: Role | None = None
    wave: int | None = None
    eta_s: int | None = None
    p_accept: float | None = None
    rank: int | None = None
    asked_count: int | None = None
    distance_m: int | None = None
    radius_m: int | None = None
    latest_eta_s: int | None = None
    findings: tuple[Finding, ...] = ()

    def lines(self, language: str | None = None) -> tuple[str, ...]:
        """The explanation in `language` (kk, ru or en), one statement per line."""
        if self.outcome is Outcome.ASKED:
            return (self._asked(language),)
        if self.outcome is Outcome.NOT_ELIGIBLE:
            heading = messages.explanation_text("not_eligible", language)
            return (heading, *_finding_lines(self.findings, language))
        if self.outcome is Outcome.OUTSIDE_RADIUS:
            return (
                messages.explanation_text(
                    "outside_radius",
                    language,
                    distance_km=_km(self.distance_m),
                    radius_km=_km(self.radius_m),
                ),
            )
        if self.outcome is Outcome.TOO_LATE:
            return (
                messages.explanation_text(
                    "too_late",
                    language,
                    eta_min=_minutes(self.eta_s),
                    latest_min=_minutes(self.latest_eta_s),
                ),
            )
        if self.role is None or self.rank is None:
            return (messages.explanation_text("not_yet_asked", language),)
        return (
            messages.explanation_text(
                "ranked_below",
                language,
                role=messages.role_name(self.role, language),
                rank=self.rank,
                asked=self.asked_count or 0,
            ),
        )

    def render(self, language: str | None = None) -> str:
        return "\n".join(self.lines(language))

    def stored(self) -> dict[str, Any]:
        """The facts to keep (the `explanations` columns besides the keys and the wave)."""
        return {
            "outcome": self.outcome.value,
            "role": self.role.value if self.role else None,
            "eta_s": self.eta_s,
            "distance_m": self.distance_m,
            "p_accept": self.p_accept,
            "rank": self.rank,
            "asked_count": self.asked_count,
            "radius_m": self.radius_m,
            "latest_eta_s": self.latest_eta_s,
            "reasons": [finding.reason.value for finding in self.findings],
            "findings": [_finding_facts(finding) for finding in self.findings],
        }

    @classmethod
    def from_stored(
        cls,
        volunteer_id: UUID,
        *,
        outcome: str,
        wave: int,
        role: str | None,
        eta_s: int | None,
        distance_m: int | None,
        p_accept: float | None,
        rank: int | None,
        asked_count: int | None,
        radius_m: int | None,
        findings: Sequence[Mapping[str, Any]],
        latest_eta_s: int | None = None,
    ) -> Explanation:
        """The explanation `stored` kept (the wave is the offer's when asked)."""
        return cls(
            volunteer_id=volunteer_id,
            outcome=Outcome(outcome),
            role=Role(role) if role else None,
            wave=wave,
            eta_s=eta_s,
            p_accept=p_accept,
            rank=rank,
            asked_count=asked_count,
            distance_m=distance_m,
            radius_m=radius_m,
            latest_eta_s=latest_eta_s,
            findings=tuple(_finding_from(facts) for facts in findings),
        )

    def _asked(self, language: str | None) -> str:
        return messages.explanation_text(
            "asked",
            language,
            wave=self.wave,
            role=messages.role_name(self.role, language) if self.role else "",
            eta_min=_minutes(self.eta_s),
            p=round((self.p_accept or 0.0) * 100),
        )


def explain(
    volunteer_id: UUID,
    *,
    offer: Offered | None,
    verdicts: Mapping[Role, Verdict],
    placements: Mapping[Role, Placement],
    distance_m: int,
    radius_m: int,
    late: tuple[int, int] | None = None,
) -> Explanation:
    """Why `volunteer_id` was or was not asked.

    `verdicts` holds the eligibility verdict for each of the playbook's roles; `placements` their
    place in the ranking of each role they are eligible for within the radius; `late` their ETA
    and the cut-off it exceeded when they could not arrive in time.
    """
    if offer is not None:
        return Explanation(
            volunteer_id=volunteer_id,
            outcome=Outcome.ASKED,
            role=offer.role,
            wave=offer.wave,
            eta_s=offer.eta_s,
            p_accept=offer.p_accept,
            distance_m=distance_m,
        )
    eligible = [role for role, verdict in verdicts.items() if verdict.eligible]
    if not eligible:
        findings = tuple(dict.fromkeys(f for v in verdicts.values() for f in v.findings))
        return Explanation(
            volunteer_id=volunteer_id, outcome=Outcome.NOT_ELIGIBLE, findings=findings
        )
    # Too late whatever the radius: widening would not bring them in time.
    if late is not None:
        eta_s, latest_eta_s = late
        return Explanation(
            volunteer_id=volunteer_id,
            outcome=Outcome.TOO_LATE,
            eta_s=eta_s,
            latest_eta_s=latest_eta_s,
            distance_m=distance_m,
            radius_m=radius_m,
        )
    if distance_m > radius_m:
        return Explanation(
            volunteer_id=volunteer_id,
            outcome=Outcome.OUTSIDE_RADIUS,
            distance_m=distance_m,
            radius_m=radius_m,
        )
    placed = [(role, placements[role]) for role in eligible if role in placements]
    if not placed:
        return Explanation(
            volunteer_id=volunteer_id, outcome=Outcome.RANKED_BELOW, distance_m=distance_m
        )
    role, placement = min(placed, key=lambda item: item[1].rank - item[1].asked_count)
    return Explanation(
        volunteer_id=volunteer_id,
        outcome=Outcome.RANKED_BELOW,
        role=role,
        rank=placement.rank,
        asked_count=placement.asked_count,
        distance_m=distance_m,
        radius_m=radius_m,
    )


def _finding_lines(findings: tuple[Finding, ...], language: str | None) -> list[str]:
    # "No valid certificate" comes once per role the playbook needs: say it once, naming them,
    # and leave out the transport of roles they are not trained for anyway.
    uncertified = [f.role for f in findings if f.reason is Reason.NO_VALID_CERTIFICATE and f.role]
    lines: list[str] = []
    for finding in findings:
        if finding.reason is Reason.NO_VALID_CERTIFICATE or (
            finding.reason is Reason.UNSUITABLE_TRANSPORT and finding.role in uncertified
        ):
            continue
        text = messages.describe(finding, language)
        if text not in lines:
            lines.append(text)
    if uncertified:
        roles = ", ".join(messages.role_name(role, language) for role in uncertified)
        lines.append(messages.explanation_text("no_role", language, roles=roles))
    return lines


def _finding_facts(finding: Finding) -> dict[str, Any]:
    """A finding as JSON: its reason and whichever details it has."""
    facts: dict[str, Any] = {"reason": finding.reason.value}
    for name in ("role", "certification", "transport_mode"):
        value = getattr(finding, name)
        if value is not None:
            facts[name] = value.value
    for name in ("on", "until"):
        value = getattr(finding, name)
        if value is not None:
            facts[name] = value.isoformat()
    for name in ("count", "limit", "age_years"):
        value = getattr(finding, name)
        if value is not None:
            facts[name] = value
    return facts


def _finding_from(facts: Mapping[str, Any]) -> Finding:
    def enum(name: str, kind: Any) -> Any:
        return kind(facts[name]) if facts.get(name) is not None else None

    return Finding(
        reason=Reason(facts["reason"]),
        role=enum("role", Role),
        certification=enum("certification", CertificationType),
        transport_mode=enum("transport_mode", TransportMode),
        on=date.fromisoformat(facts["on"]) if facts.get("on") else None,
        until=datetime.fromisoformat(facts["until"]) if facts.get("until") else None,
        count=facts.get("count"),
        limit=facts.get("limit"),
        age_years=facts.get("age_years"),
    )


def _minutes(seconds: int | None) -> int:
    return max(1, round((seconds or 0) / 60))


def _km(distance_m: int | None) -> str:
    return f"{(distance_m or 0) / 1000:.1f}"
