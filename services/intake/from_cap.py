"""A parsed CAP alert → an incident draft: its shape, regions, type and priority (pure)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import shapely
from shapely.geometry import MultiPolygon, Point
from shapely.geometry.base import BaseGeometry

from services.intake.cap import CapAlert, CapArea, CapInfo, classify_alert
from services.intake.draft import AreaPart, IncidentDraft
from services.intake.gazetteer import Gazetteer, Place, PlaceKind
from services.intake.regions import RegionIndex
from shared.events.incidents import AlertStatus, IncidentSource, LocalizedText
from shared.geo import as_multipolygon, geodesic_area_km2
from shared.i18n import LANGUAGES
from shared.rejections import Rejected

MAX_NAMED_POINTS = 100_000
"""Boundary points of the places one message's areas may name, all areas together: every region
of Kazakhstan is 12,400; 500 towns are 32,000."""
_SEVERITY_RANK = {"Extreme": 4, "Severe": 3, "Moderate": 2, "Minor": 1}


def draft_from_cap(
    alert: CapAlert,
    *,
    regions: RegionIndex,
    gazetteer: Gazetteer,
    home_regions: Collection[str] | None = None,
) -> IncidentDraft:
    """The incident an Alert or Update describes.

    Areas are read from their polygons and circles, else from what they name (`<areaDesc>` and
    `<geocode>`, through the gazetteer). What cannot be placed with certainty still becomes an
    incident, flagged `area_to_confirm`: on the places that were found, or — when none were — on
    `home_regions` (the regions the sender alerts for), else on the regions an ambiguous name
    could mean, else on all of Kazakhstan. An area wholly outside Kazakhstan is kept as sent and
    flagged `outside_service_area`; one partly inside is clipped to it.
    """
    if not alert.infos:
        raise Rejected("no_area", "the alert has no <info> block, so nothing says what or where")
    parts: list[AreaPart] = []
    # What the parts are unions of, each once: areas named through the gazetteer share its
    # places, and their union is the parts' union without redoing each part's (16 KiB of areas
    # naming six regions each took 1.2 s to union again, their 20 regions 0.08 s).
    pieces: dict[int, BaseGeometry] = {}
    to_confirm = False
    candidate_regions: list[str] = []
    unplaced: list[str] = []
    budget = _Budget(MAX_NAMED_POINTS)
    named_only = True  # every part from the gazetteer's places (no polygon or circle sent)
    for cap_area in _distinct_areas(alert.infos):
        placed = _resolve_area(cap_area, gazetteer, budget)
        named_only = named_only and cap_area.geometry is None
        to_confirm = to_confirm or placed.to_confirm
        candidate_regions.extend(placed.candidate_regions)
        if placed.part is not None:
            parts.append(placed.part)
            pieces.update((id(piece), piece) for piece in placed.pieces)
        elif cap_area.description:
            unplaced.append(cap_area.description)
    if not parts:
        to_confirm = True
        parts.append(_fallback_part(regions, home_regions, candidate_regions, " / ".join(unplaced)))
        pieces = {id(parts[0].geometry): parts[0].geometry}
    facts = (
        _NAMED_SHAPES.facts(tuple(pieces.values()), regions)
        if named_only
        else _Shape.of(tuple(pieces.values()), regions)
    )
    area, outside = facts.area, facts.outside
    lead = max(alert.infos, key=lambda info: _SEVERITY_RANK.get(info.severity, 0))
    classification = classify_alert(alert)
    return IncidentDraft(
        source=IncidentSource.CAP,
        type=classification.type,
        priority=classification.priority,
        alert_status=AlertStatus(alert.status),
        severity=lead.severity,
        urgency=lead.urgency,
        certainty=lead.certainty,
        texts=texts_of(alert.infos),
        parts=tuple(parts),
        area=area,
        area_km2=facts.area_km2,
        center=facts.center,
        region_codes=() if outside else _regions_of(tuple(parts), facts),
        expires_at=_expiry(alert.infos),
        # Names not found in Kazakhstan are no doubt about an alert that lies outside it.
        area_to_confirm=to_confirm and not outside,
        outside_service_area=outside,
    )


def texts_of(infos: Iterable[CapInfo]) -> tuple[LocalizedText, ...]:
    """One wording per language, Kazakh first, then Russian, English and any other."""
    by_language: dict[str, LocalizedText] = {}
    for info in infos:
        language = info.language.split("-")[0].casefold() or "en"
        by_language.setdefault(
            language,
            LocalizedText(
                language=language,
                event=info.event,
                headline=info.headline,
                description=info.description,
                instruction=info.instruction,
            ),
        )
    order: dict[str, int] = {language: rank for rank, language in enumerate(LANGUAGES)}
    return tuple(sorted(by_language.values(), key=lambda text: order.get(text.language, 99)))


def center_of(area: BaseGeometry) -> Point:
    centroid = area.centroid
    return centroid if area.contains(centroid) else area.representative_point()


def _distinct_areas(infos: Iterable[CapInfo]) -> list[CapArea]:
    """Each language's <info> usually repeats the same areas: keep each shape once, with the
    descriptions of every language joined (Kazakh first when the sender put it first)."""
    by_shape: dict[tuple[bytes | None, tuple[tuple[str, str], ...]], list[CapArea]] = {}
    # The parser builds a shape sent twice in the same words once: its form is read once too.
    forms: dict[int, bytes] = {}
    for info in infos:
        for area in info.areas:
            shape = None
            if area.geometry is not None:
                shape = forms.get(id(area.geometry))
                if shape is None:
                    shape = forms[id(area.geometry)] = area.geometry.normalize().wkb
            by_shape.setdefault((shape, area.geocodes), []).append(area)
    return [
        replace(same[0], description=" / ".join(dict.fromkeys(a.description for a in same)))
        for same in by_shape.values()
    ]


@dataclass(frozen=True)
class _Placed:
    part: AreaPart | None  # None: nothing in the area could be placed
    to_confirm: bool
    candidate_regions: tuple[str, ...] = ()  # regions an ambiguous name could be in
    pieces: tuple[BaseGeometry, ...] = ()  # what `part.geometry` is the union of


class _Budget:
    """Points of named places a message may still draw on: each area naming places costs a union
    of their boundaries, and is stored with its shape."""

    def __init__(self, points: int) -> None:
        self.left = points

    def spend(self, places: Sequence[Place]) -> None:
        self.left -= sum(shapely.get_num_coordinates(place.geometry) for place in places)
        if self.left < 0:
            raise Rejected(
                "too_complex",
                f"the places its areas name add up to more than {MAX_NAMED_POINTS:,} boundary "
                "points; name each place once, or send a polygon",
            )


def _resolve_area(area: CapArea, gazetteer: Gazetteer, budget: _Budget) -> _Placed:
    if area.geometry is not None:
        geometry = as_multipolygon(area.geometry)
        return _Placed(AreaPart(area.description, area.geocodes, geometry), False, (), (geometry,))
    resolution = gazetteer.resolve(area.description, area.geocodes)
    budget.spend(resolution.places)
    candidates = tuple(
        dict.fromkeys(place.region_code for _, places in resolution.ambiguous for place in places)
    )
    geometry = resolution.geometry
    if geometry is None:
        return _Placed(None, True, candidates)
    whole_regions = all(place.kind is PlaceKind.REGION for place in resolution.places)
    part = AreaPart(
        area.description,
        area.geocodes,
        geometry,
        region_codes=tuple(p.code for p in resolution.places) if whole_regions else None,
    )
    pieces = tuple(place.geometry for place in resolution.places)
    return _Placed(part, resolution.to_confirm, candidates, pieces)


def _fallback_part(
    regions: RegionIndex,
    home_regions: Collection[str] | None,
    candidates: Sequence[str],
    description: str,
) -> AreaPart:
    """Where to put an alert none of whose areas could be placed: the sender's regions, else
    the regions its ambiguous names could mean, else Kazakhstan. The part keeps the sender's
    words, for the dispatcher who confirms the area."""
    for codes in (sorted(home_regions or ()), sorted(set(candidates))):
        geometry = regions.union_of(codes)
        if geometry is not None:
            return AreaPart(description, (), geometry, region_codes=tuple(codes))
    return AreaPart(description, (), regions.country, region_codes=regions.codes)


def _regions_of(parts: tuple[AreaPart, ...], shape: _Shape) -> tuple[str, ...]:
    if all(part.region_codes is not None for part in parts):
        return tuple(dict.fromkeys(code for part in parts for code in part.region_codes or ()))
    return shape.touched


@dataclass
class _Shape:
    """What an alert's area is, once its pieces are known: their union as sent, the part inside
    Kazakhstan (`area`: the union itself when none of it is), its size, centre and regions."""

    area: MultiPolygon
    outside: bool
    area_km2: float
    center: Point
    regions: RegionIndex
    _touched: tuple[str, ...] | None = None

    @classmethod
    def of(cls, pieces: Sequence[BaseGeometry], regions: RegionIndex) -> _Shape:
        sent_area = as_multipolygon(shapely.union_all(list(pieces)))
        area = regions.clip_to_country(sent_area)
        outside = area is None
        area = sent_area if area is None else area
        return cls(area, outside, geodesic_area_km2(area), center_of(area), regions)

    @property
    def touched(self) -> tuple[str, ...]:
        """The regions `area` overlaps, the largest share first (worked out when first asked)."""
        if self._touched is None:
            self._touched = self.regions.touched_by(self.area)
        return self._touched


class _NamedShapes:
    """`_Shape`s of areas made only of places the gazetteer names, kept by which places: senders
    name the same districts and regions alert after alert, and a region's outline is a thousand
    points to union, clip, measure and place (2.5 ms an alert naming one, 0.1 ms remembered).

    The pieces are the gazetteer's places (or the index's unions of regions), the same objects
    alert after alert; each entry holds its pieces, so no other geometry can take their
    identities while it is kept. Forgets all when full."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._known: dict[tuple[int, frozenset[int]], tuple[tuple[BaseGeometry, ...], _Shape]] = {}

    def facts(self, pieces: tuple[BaseGeometry, ...], regions: RegionIndex) -> _Shape:
        key = (id(regions), frozenset(map(id, pieces)))
        known = self._known.get(key)
        if known is not None and known[1].regions is regions:
            return known[1]
        shape = _Shape.of(pieces, regions)
        if len(self._known) >= self.size:
            self._known.clear()
        self._known[key] = (pieces, shape)
        return shape


_NAMED_SHAPES = _NamedShapes()


def _expiry(infos: Iterable[CapInfo]) -> datetime | None:
    expiries = [info.expires for info in infos]
    # One <info> without an end keeps the whole alert open.
    if not expiries or any(expiry is None for expiry in expiries):
        return None
    return max(expiry for expiry in expiries if expiry is not None)
