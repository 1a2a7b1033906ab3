"""Who may be asked for which role, and why not: every rule gives a stable reason code.

A volunteer is eligible for a role of an incident when all of these hold:
- a certificate the role accepts is valid on the incident's local day (`issued_on ≤ day <
  expires_on`, the seed's rule), and their own transport suits the role (a 4×4 driver brings an
  off-road vehicle);
- 18 or older on that day when the playbook or the role is adults-only;
- available (not off duty, not inactive), and, unless the incident is urgent, not in their quiet
  hours (Kazakhstan local time, UTC+5; a window may wrap midnight);
- not committed to another incident;
- within the fatigue limits of `FatigueRules` (call-outs accepted and offers received).

`assess` checks every rule and returns every finding, not only the first, so a dispatcher sees the
whole picture; the texts for each reason are in `messages.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import NamedTuple
from uuid import UUID

from services.mobilizer.playbooks import Playbook, RoleDefinition
from shared.events.volunteers import Availability, CertificationType, Role, TransportMode
from shared.i18n import LANGUAGES
from shared.reference import KAZAKHSTAN_TZ

ADULT_AGE_YEARS = 18


class Reason(StrEnum):
    """Why a volunteer may not be asked; the values are stable codes for the API and the logs."""

    INACTIVE = "inactive"
    OFF_DUTY = "off_duty"
    MINOR = "minor"
    NO_VALID_CERTIFICATE = "no_valid_certificate"
    CERTIFICATE_EXPIRED = "certificate_expired"
    CERTIFICATE_NOT_YET_VALID = "certificate_not_yet_valid"
    UNSUITABLE_TRANSPORT = "unsuitable_transport"
    QUIET_HOURS = "quiet_hours"
    COMMITTED_ELSEWHERE = "committed_elsewhere"
    ALREADY_IN_THIS_GROUP = "already_in_this_group"
    TOO_MANY_CALLOUTS_TODAY = "too_many_callouts_today"
    TOO_MANY_CALLOUTS_THIS_WEEK = "too_many_callouts_this_week"
    TOO_MANY_OFFERS_TODAY = "too_many_offers_today"
    TOO_MANY_OFFERS_THIS_WEEK = "too_many_offers_this_week"
    RESTING_AFTER_DEPLOYMENT = "resting_after_deployment"


class Certificate(NamedTuple):
    """Valid from `issued_on` up to, not including, `expires_on`."""

    type: CertificationType
    issued_on: date
    expires_on: date

    def is_valid_on(self, day: date) -> bool:
        return self.issued_on <= day < self.expires_on


@dataclass(slots=True)
class Candidate:
    """A volunteer as matching sees them: plain values read from the registry and the offers.

    A value: nothing changes one after it is made (`dataclasses.replace` makes another). Not
    declared frozen only because a wave makes hundreds, and a frozen class's constructor costs
    several times more; the fields' order is the constructor's, for the same reason.
    """

    volunteer_id: UUID
    birth_date: date
    availability: Availability
    transport_mode: TransportMode
    home_lon: float
    home_lat: float
    region_code: str
    phone: str
    languages: tuple[str, ...] = ("kk",)
    quiet_hours_start: time | None = None
    quiet_hours_end: time | None = None
    live_lon: float | None = None
    live_lat: float | None = None
    live_at: datetime | None = None
    certificates: tuple[Certificate, ...] = ()
    group_role: Role | None = None
    """Their seat in the region's standing mobile group, if any."""
    on_call: bool = False
    committed_incident_id: UUID | None = None
    callouts_24h: int = 0
    """Offers they accepted in the 24 hours before now."""
    callouts_7d: int = 0
    last_deployment_ended_at: datetime | None = None
    last_deployment_hours: float | None = None
    offers_total: int = 0
    accepts_total: int = 0
    offers_24h: int = 0
    """Offers they received in the 24 hours before now, whatever became of them."""
    offers_7d: int = 0

    @property
    def language(self) -> str:
        """kk, ru or en: the first of their languages Jedel speaks, else kk."""
        for tag in self.languages:
            primary = tag.split("-")[0].strip().casefold()
            if primary in LANGUAGES:
                return primary
        return "kk"

    def age_on(self, day: date) -> int:
        had_birthday = (day.month, day.day) >= (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - (0 if had_birthday else 1)


@dataclass(frozen=True, slots=True)
class FatigueRules:
    """Limits that keep volunteers safe and willing: call-outs are offers they accepted; offers
    count every one they received (declined, unanswered and stood down too), since being asked
    for nothing again and again is what makes people stop answering."""

    max_callouts_per_day: int = 2
    max_callouts_per_week: int = 5
    max_offers_per_day: int = 3
    max_offers_per_week: int = 5
    rest_hours_after_long_deployment: float = 12.0
    long_deployment_hours: float = 8.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One reason with what makes it concrete (which certificate, until when, how many)."""

    reason: Reason
    role: Role | None = None
    certification: CertificationType | None = None
    on: date | None = None
    """The day a certificate expired or becomes valid."""
    until: datetime | None = None
    """When quiet hours or rest end (local time)."""
    count: int | None = None
    limit: int | None = None
    age_years: int | None = None
    transport_mode: TransportMode | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    eligible: bool
    findings: tuple[Finding, ...] = field(default=())

    @property
    def reasons(self) -> tuple[Reason, ...]:
        return tuple(finding.reason for finding in self.findings)


def local_day(now: datetime) -> date:
    """The incident's day in Kazakhstan, where certificates and ages are counted."""
    return now.astimezone(KAZAKHSTAN_TZ).date()


def assess(
    candidate: Candidate,
    role: Role,
    *,
    playbook: Playbook,
    roles: Mapping[Role, RoleDefinition],
    now: datetime,
    incident_id: UUID,
    rules: FatigueRules,
    person: tuple[Finding, ...] | None = None,
) -> Verdict:
    """Whether `candidate` may be asked for `role` in this incident, with every reason if not.

    `person` is `person_findings` of the candidate when the caller has them already (they do not
    depend on the role, and a wave assesses one person for several roles).
    """
    if person is None:
        person = person_findings(
            candidate, playbook=playbook, now=now, incident_id=incident_id, rules=rules
        )
    findings = person + role_findings(
        candidate, role, definition=roles[role], playbook=playbook, now=now
    )
    return Verdict(eligible=not findings, findings=findings)


def roles_for(
    candidate: Candidate,
    *,
    playbook: Playbook,
    roles: Mapping[Role, RoleDefinition],
    now: datetime,
    incident_id: UUID,
    rules: FatigueRules,
) -> tuple[Role, ...]:
    """The playbook's roles `candidate` may be asked for, in the playbook's order."""
    if person_findings(candidate, playbook=playbook, now=now, incident_id=incident_id, rules=rules):
        return ()
    # The same rules as `role_findings`, without building findings: this runs for every
    # candidate in the radius.
    day = local_day(now)
    is_adult = candidate.age_on(day) >= ADULT_AGE_YEARS
    return tuple(
        role
        for role, _ in playbook.roles
        if _fits(
            candidate,
            roles[role],
            day=day,
            age_ok=is_adult or not (playbook.adults_only or roles[role].adult_only),
        )
    )


def person_findings(
    candidate: Candidate,
    *,
    playbook: Playbook,
    now: datetime,
    incident_id: UUID,
    rules: FatigueRules,
) -> tuple[Finding, ...]:
    """The findings that do not depend on the role: availability, commitment, fatigue."""
    found: list[Finding] = []
    if candidate.availability is Availability.INACTIVE:
        found.append(Finding(reason=Reason.INACTIVE))
    elif candidate.availability is Availability.OFF_DUTY:
        found.append(Finding(reason=Reason.OFF_DUTY))
    if not playbook.urgent:
        quiet_until = quiet_hours_end(candidate, now=now)
        if quiet_until is not None:
            found.append(Finding(reason=Reason.QUIET_HOURS, until=quiet_until))
    if candidate.committed_incident_id == incident_id:
        found.append(Finding(reason=Reason.ALREADY_IN_THIS_GROUP))
    elif candidate.committed_incident_id is not None:
        found.append(Finding(reason=Reason.COMMITTED_ELSEWHERE))
    found.extend(_fatigue(candidate, now=now, rules=rules))
    return tuple(found)


def role_findings(
    candidate: Candidate,
    role: Role,
    *,
    definition: RoleDefinition,
    playbook: Playbook,
    now: datetime,
) -> tuple[Finding, ...]:
    """The findings that depend on the role: certificate, transport, age."""
    found: list[Finding] = []
    day = local_day(now)
    if playbook.adults_only or definition.adult_only:
        age = candidate.age_on(day)
        if age < ADULT_AGE_YEARS:
            found.append(Finding(reason=Reason.MINOR, role=role, age_years=age))
    certificate = _certificate_finding(candidate, role, definition=definition, day=day)
    if certificate is not None:
        found.append(certificate)
    modes = definition.transport_modes
    if modes is not None and candidate.transport_mode not in modes:
        found.append(
            Finding(
                reason=Reason.UNSUITABLE_TRANSPORT,
                role=role,
                transport_mode=candidate.transport_mode,
            )
        )
    return tuple(found)


def quiet_hours_end(candidate: Candidate, *, now: datetime) -> datetime | None:
    """When `candidate`'s quiet hours end if `now` falls inside them, else None.

    Times are Kazakhstan local time; start == end means no quiet hours.
    """
    start, end = candidate.quiet_hours_start, candidate.quiet_hours_end
    if start is None or end is None or start == end:
        return None
    local = now.astimezone(KAZAKHSTAN_TZ)
    clock = local.time().replace(tzinfo=None)
    inside = start <= clock < end if start < end else clock >= start or clock < end
    if not inside:
        return None
    ends_today = datetime.combine(local.date(), end, tzinfo=KAZAKHSTAN_TZ)
    return ends_today if ends_today > local else ends_today + timedelta(days=1)


def _fits(candidate: Candidate, definition: RoleDefinition, *, day: date, age_ok: bool) -> bool:
    modes = definition.transport_modes
    if not age_ok or (modes is not None and candidate.transport_mode not in modes):
        return False
    accepted = definition.certifications
    return any(
        c.type in accepted and c.issued_on <= day < c.expires_on for c in candidate.certificates
    )


def _certificate_finding(
    candidate: Candidate, role: Role, *, definition: RoleDefinition, day: date
) -> Finding | None:
    """None when a certificate the role accepts is valid on `day`; else the latest that expired,
    or the soonest that is not valid yet, or that there is none. (One pass: this runs for every
    person and role a wave looks at.)"""
    accepted = definition.certifications
    latest: Certificate | None = None
    soonest: Certificate | None = None
    for c in candidate.certificates:
        if c.type not in accepted:
            continue
        if c.expires_on <= day:
            if latest is None or c.expires_on > latest.expires_on:
                latest = c
        elif c.issued_on <= day:
            return None
        elif soonest is None or c.issued_on < soonest.issued_on:
            soonest = c
    if latest is not None:
        return Finding(
            reason=Reason.CERTIFICATE_EXPIRED,
            role=role,
            certification=latest.type,
            on=latest.expires_on,
        )
    if soonest is not None:
        return Finding(
            reason=Reason.CERTIFICATE_NOT_YET_VALID,
            role=role,
            certification=soonest.type,
            on=soonest.issued_on,
        )
    return Finding(reason=Reason.NO_VALID_CERTIFICATE, role=role)


def _fatigue(candidate: Candidate, *, now: datetime, rules: FatigueRules) -> list[Finding]:
    found = [
        Finding(reason=reason, count=count, limit=limit)
        for reason, count, limit in (
            (Reason.TOO_MANY_CALLOUTS_TODAY, candidate.callouts_24h, rules.max_callouts_per_day),
            (
                Reason.TOO_MANY_CALLOUTS_THIS_WEEK,
                candidate.callouts_7d,
                rules.max_callouts_per_week,
            ),
            (Reason.TOO_MANY_OFFERS_TODAY, candidate.offers_24h, rules.max_offers_per_day),
            (Reason.TOO_MANY_OFFERS_THIS_WEEK, candidate.offers_7d, rules.max_offers_per_week),
        )
        if count >= limit
    ]
    ended, hours = candidate.last_deployment_ended_at, candidate.last_deployment_hours
    if ended is not None and hours is not None and hours >= rules.long_deployment_hours:
        rested_at = ended + timedelta(hours=rules.rest_hours_after_long_deployment)
        if now < rested_at:
            found.append(
                Finding(
                    reason=Reason.RESTING_AFTER_DEPLOYMENT,
                    until=rested_at.astimezone(KAZAKHSTAN_TZ),
                )
            )
    return found
