"""Standing regional mobile volunteer groups (roadmap items 2.3.1–2.3.2), planned from a population.

One group per region; Kostanay's (KZ-39), where the spring floods hit hardest, is the pilot. A seat
goes to an adult, available volunteer of the region whose certificate for the role is valid on
`today`, and nobody takes two seats. Scarce roles are filled first; within a role, candidates are
taken in the order given (the generator's order is already random). That rule is what lets a
`CandidatePool` — a bounded sample kept while streaming a million volunteers — plan exactly the
groups the whole population would.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol
from uuid import UUID

from services.api.seed.population import VolunteerDraft
from shared.events.volunteers import Availability, CertificationType, Role

PILOT_REGION = "KZ-39"
ON_CALL_SHARE = 0.8

ROLE_CERTIFICATION: Mapping[Role, CertificationType] = {
    Role.LEADER: CertificationType.TEAM_LEADER,
    Role.MEDIC: CertificationType.FIRST_AID,
    Role.WATER_RESCUER: CertificationType.WATER_RESCUE,
    Role.MOUNTAIN_RESCUER: CertificationType.MOUNTAIN_RESCUE,
    Role.SEARCHER: CertificationType.SEARCH_AND_RESCUE,
    Role.DRONE_PILOT: CertificationType.DRONE_PILOT,
    Role.DRIVER_4X4: CertificationType.OFFROAD_DRIVER,
    Role.PSYCHOLOGIST: CertificationType.PSYCHOLOGIST,
    Role.DOG_HANDLER: CertificationType.DOG_HANDLER,
    Role.RADIO_OPERATOR: CertificationType.RADIO_OPERATOR,
    Role.FIREFIGHTER: CertificationType.FIREFIGHTING,
}
"""The certificate a role needs."""

STANDING_GROUP: tuple[tuple[Role, int], ...] = (
    # Scarcest first, so a volunteer with several certificates fills the seat only they can.
    (Role.PSYCHOLOGIST, 1),
    (Role.DRONE_PILOT, 1),
    (Role.LEADER, 1),
    (Role.RADIO_OPERATOR, 1),
    (Role.WATER_RESCUER, 2),
    (Role.DRIVER_4X4, 2),
    (Role.SEARCHER, 4),
    (Role.MEDIC, 2),
)
"""The seats of a standing group, in the order they are filled."""

_SEATS = sum(count for _, count in STANDING_GROUP)
_STANDING_ROLE_FOR = {ROLE_CERTIFICATION[role]: role for role, _ in STANDING_GROUP}


class RegionNamed(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def name_kk(self) -> str: ...


@dataclass(frozen=True, slots=True)
class MemberDraft:
    volunteer_id: UUID
    role: Role
    on_call: bool


@dataclass(frozen=True, slots=True)
class MobileGroupDraft:
    id: UUID
    region_code: str
    name: str
    is_pilot: bool
    members: tuple[MemberDraft, ...]

    def unfilled(self) -> dict[Role, int]:
        """Seats of the standing group the region's volunteers could not fill."""
        held = {role: 0 for role, _ in STANDING_GROUP}
        for member in self.members:
            held[member.role] = held.get(member.role, 0) + 1
        return {role: count - held[role] for role, count in STANDING_GROUP if held[role] < count}


def fits_role(volunteer: VolunteerDraft, role: Role, *, today: date) -> bool:
    """An adult, available volunteer holding a certificate for `role` valid on `today`."""
    return (
        volunteer.availability is Availability.AVAILABLE
        and volunteer.is_adult_on(today)
        and volunteer.holds_valid(ROLE_CERTIFICATION[role], today)
    )


def plan_mobile_groups(
    volunteers: Sequence[VolunteerDraft],
    *,
    regions: Iterable[RegionNamed],
    today: date,
    seed: int,
) -> list[MobileGroupDraft]:
    """One standing group per region, with as many seats filled as the region's volunteers allow."""
    by_region: dict[str, list[VolunteerDraft]] = {}
    for volunteer in volunteers:
        by_region.setdefault(volunteer.region_code, []).append(volunteer)
    return [
        _plan_group(region, by_region.get(region.code, []), today=today, seed=seed)
        for region in sorted(regions, key=lambda r: r.code)
    ]


def group_name(region: RegionNamed, *, is_pilot: bool) -> str:
    """The group's Kazakh name, e.g. "Қостанай облысының мобильді ерікті тобы (пилот)"."""
    # Oblast names end in "облысы" and take the genitive "-ның"; the three city regions are named
    # by the city alone.
    owner = (
        f"{region.name_kk}ның" if region.name_kk.endswith("ы") else f"{region.name_kk} қаласының"
    )
    return f"{owner} мобильді ерікті тобы" + (" (пилот)" if is_pilot else "")


def _plan_group(
    region: RegionNamed, volunteers: Sequence[VolunteerDraft], *, today: date, seed: int
) -> MobileGroupDraft:
    rng = random.Random(f"jedel-mobile-group:{seed}:{region.code}")  # noqa: S311 - reproducible
    group_id = UUID(int=rng.getrandbits(128), version=4)
    seated: set[UUID] = set()
    members: list[MemberDraft] = []
    for role, count in STANDING_GROUP:
        chosen = 0
        for volunteer in volunteers:
            if chosen == count:
                break
            if volunteer.id in seated or not fits_role(volunteer, role, today=today):
                continue
            seated.add(volunteer.id)
            members.append(MemberDraft(volunteer.id, role, on_call=rng.random() < ON_CALL_SHARE))
            chosen += 1
    is_pilot = region.code == PILOT_REGION
    return MobileGroupDraft(
        id=group_id,
        region_code=region.code,
        name=group_name(region, is_pilot=is_pilot),
        is_pilot=is_pilot,
        members=tuple(members),
    )


class CandidatePool:
    """A bounded sample of a streamed population from which the standing groups can be planned.

    Per region and role it keeps the first volunteers that fit, as many as a group has seats:
    enough for `plan_mobile_groups` to reach the same result as on the whole population, because
    earlier roles can take at most the other seats.
    """

    def __init__(self, *, today: date) -> None:
        self._today = today
        self._kept: dict[UUID, VolunteerDraft] = {}
        self._counts: dict[tuple[str, Role], int] = {}

    def add(self, volunteer: VolunteerDraft) -> None:
        # Called once per generated volunteer: the cheap tests go first.
        if volunteer.availability is not Availability.AVAILABLE or not volunteer.certifications:
            return
        if not volunteer.is_adult_on(self._today):
            return
        for certification in volunteer.certifications:
            role = _STANDING_ROLE_FOR.get(certification.type)
            if role is None or not certification.is_valid_on(self._today):
                continue
            key = (volunteer.region_code, role)
            kept = self._counts.get(key, 0)
            if kept < _SEATS:
                self._counts[key] = kept + 1
                self._kept.setdefault(volunteer.id, volunteer)

    def volunteers(self) -> list[VolunteerDraft]:
        """The kept volunteers, in the order they were added."""
        return list(self._kept.values())
