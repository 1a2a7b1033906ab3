"""Places of Kazakhstan by name: a CAP ``<areaDesc>`` (and ``<geocode>``) to regions, districts
and settlements.

Pure: the vendored reference data is read once (``Gazetteer.default()``); ``resolve`` does no I/O.

Matching is exact on normalised names, never fuzzy: text is NFC-normalised and casefolded, and
Kazakh, Russian and Latin-Kazakh spellings are folded onto one Latin skeleton (қ/к/q → k,
ә/á/ä → a, ы/і/й/ı/y → i, ж/j/dzh → zh, х/kh → h, hyphens and apostrophes dropped), so
"Қостанай", "Костанай", "Qostanaı" and "Qostanay" are one key. Russian adjectives are reduced to
their stem ("Костанайская", "Костанайской" → "костанайск") and their gender kept as a hint
(feminine: область, masculine: район). Generic words (облысы, область, обл., ауданы, район, р-н,
қаласы, г., село, с., Region, District…) are not part of names; they tell which kind of place is
meant. A name that matches places of several kinds is narrowed by that hint, then by the regions
named elsewhere in the same description; whatever is left with more than one candidate is
reported as ambiguous, and words that match nothing as unresolved — for a dispatcher to confirm.

Bounded and linear: at most ``MAX_DESCRIPTION_CHARS`` characters (cut at a word boundary) and
``MAX_FRAGMENTS`` fragments are read; each token is looked up at most ``_max_tokens`` times in a
dict. No regular expression touches the sender's text.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache

import shapely
from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from shared.geo import geodesic_circle
from shared.reference.districts import District, load_districts
from shared.reference.names import REGION_VARIANTS, SETTLEMENT_VARIANTS
from shared.reference.regions import Region, load_regions
from shared.reference.settlements import Settlement, load_settlements

MAX_DESCRIPTION_CHARS = 2000
MAX_FRAGMENTS = 50
CITY_REGIONS = frozenset({"KZ-71", "KZ-75", "KZ-79"})  # Astana, Almaty, Shymkent
# A settlement is drawn as a circle holding its population at this density, and no smaller than
# the minimum radius: Kazakh towns and villages are low-rise and spread out (Kostanay, 210,000
# people, gets 8 km; a village of 3,000 gets the minimum).
SETTLEMENT_DENSITY_PER_KM2 = 1000.0
SETTLEMENT_MIN_RADIUS_KM = 3.0
# A settlement named like a district and lying inside the district's circle is taken to be part
# of it ("Темир" is Temir District, not also its town) unless it is this big: larger towns are
# mostly cities of oblast significance, outside any district (Kostanay is not in Kostanay
# District, though the district's circle covers it).
DISTRICT_TOWN_MAX_POPULATION = 20_000
_MAX_NAME_TOKENS = 6
_GEONAMEID_DIGITS = 12  # GeoNames ids have 8 digits or fewer today


class PlaceKind(StrEnum):
    REGION = "region"
    DISTRICT = "district"
    SETTLEMENT = "settlement"


@dataclass(frozen=True)
class Place:
    kind: PlaceKind
    code: str  # ISO 3166-2 (regions), Jedel district id ("KZ-39-ZHITIKARA"), GeoNames id
    name_kk: str  # for settlements the best Cyrillic name available (often Russian)
    name_ru: str
    name_en: str
    region_code: str  # ISO 3166-2; a region's own code for a region
    geometry: MultiPolygon = field(compare=False, repr=False)  # lon/lat, WGS 84
    approximate: bool = field(default=False, compare=False)  # a circle, not a boundary


@dataclass(frozen=True)
class NameResolution:
    places: tuple[Place, ...]  # every place confidently named, in order of mention
    unresolved: tuple[str, ...]  # fragments that matched nothing
    ambiguous: tuple[tuple[str, tuple[Place, ...]], ...]  # fragment -> its candidates

    @property
    def to_confirm(self) -> bool:
        return bool(self.unresolved or self.ambiguous)

    @property
    def geometry(self) -> MultiPolygon | None:
        if not self.places:
            return None
        return _as_multipolygon(shapely.union_all([place.geometry for place in self.places]))


# --------------------------------------------------------------------------- normalisation


class _Hint(StrEnum):
    REGION = "region"  # an oblast
    DISTRICT = "district"
    CITY = "city"  # a city of republican significance or any settlement
    VILLAGE = "village"  # a settlement


_PRE, _POST, _BOTH = "pre", "post", "both"  # where a generic word stands relative to the name

_CYRILLIC = {
    "а": "a", "ә": "a", "б": "b", "в": "v", "г": "g", "ғ": "g", "д": "d", "е": "e", "ё": "e",
    "ж": "zh", "з": "z", "и": "i", "й": "i", "і": "i", "к": "k", "қ": "k", "л": "l", "м": "m",
    "н": "n", "ң": "n", "о": "o", "ө": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u",
    "ұ": "u", "ү": "u", "ў": "u", "ф": "f", "х": "h", "һ": "h", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "i", "ь": "", "э": "e", "ю": "iu", "я": "ia", "є": "e", "ї": "i",
}  # fmt: skip
_LATIN = {
    "á": "a", "ä": "a", "à": "a", "â": "a", "ǵ": "g", "ğ": "g", "ı": "i", "í": "i", "ì": "i",
    "î": "i", "ń": "n", "ñ": "n", "ó": "o", "ö": "o", "ô": "o", "ú": "u", "ü": "u", "ū": "u",
    "ù": "u", "ý": "u", "ş": "sh", "ș": "sh", "ç": "ch", "č": "ch", "š": "sh", "ž": "zh",
    "é": "e", "è": "e", "ê": "e", "ë": "e", "q": "k", "y": "i", "w": "u", "j": "zh",
}  # fmt: skip
_APOSTROPHES = frozenset("'’ʼ`´ʻ‘")
_JOINERS = frozenset("-‐‑–") | _APOSTROPHES  # kept inside a token, then dropped
_SEGMENT_BREAKS = frozenset(",;/\n\r|()[]{}")
# Russian adjective endings (in the skeleton) -> the gender they hint at.
_ADJECTIVE_ENDINGS: tuple[tuple[str, _Hint | None], ...] = (
    ("skaia", _Hint.REGION), ("skoi", _Hint.REGION), ("skuiu", _Hint.REGION),
    ("skii", _Hint.DISTRICT), ("skogo", _Hint.DISTRICT), ("skomu", _Hint.DISTRICT),
    ("skimi", None), ("skom", None), ("skoe", None), ("skie", None), ("skih", None),
    ("skim", None),
)  # fmt: skip


def _skeleton(word: str) -> str:
    """One word (already casefolded, NFC) on the folded Latin skeleton, before adjectives."""
    out: list[str] = []
    previous = ""
    for ch in word:
        if ch in _APOSTROPHES:
            # Kazakh Latin of 2017 wrote ш and ч as s', c'.
            if previous in ("s", "c"):
                out.append("h")
            previous = ""
            continue
        previous = ch
        if ch in _CYRILLIC:
            out.append(_CYRILLIC[ch])
        elif ch in _LATIN:
            out.append(_LATIN[ch])
        elif ("a" <= ch <= "z") or ch.isdigit():
            out.append(ch)
        elif ch.isalpha():
            decomposed = unicodedata.normalize("NFKD", ch)
            out.append("".join(c for c in decomposed if "a" <= c <= "z"))
        # anything else (hyphens, marks) is dropped
    text = "".join(out).replace("dzh", "zh").replace("kh", "h").replace("gh", "g")
    if text.startswith(("ie", "io")) and len(text) > 3:  # Latin "Ye-", "Yo-" for Е, Ё
        text = text[1:]
    return text


def _reduce_adjective(token: str) -> tuple[str, _Hint | None]:
    for ending, hint in _ADJECTIVE_ENDINGS:
        if token.endswith(ending) and len(token) - len(ending) >= 3:
            return token[: len(token) - len(ending)] + "sk", hint
    return token, None


@dataclass(frozen=True)
class _Token:
    raw: str
    key: str  # skeleton, adjective reduced
    gender: _Hint | None


def _token(raw: str) -> _Token:
    key, gender = _reduce_adjective(_skeleton(raw))
    return _Token(raw, key, gender)


def _words(text: str) -> list[str]:
    """Words of one segment: letters and digits, with hyphens and apostrophes inside."""
    words: list[str] = []
    current: list[str] = []
    for ch in text:
        if ch.isalnum() or (current and (ch in _JOINERS or unicodedata.combining(ch))):
            current.append(ch)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return words


def _segments(text: str) -> list[str]:
    segments: list[str] = []
    current: list[str] = []
    for ch in text:
        if ch in _SEGMENT_BREAKS:
            segments.append("".join(current))
            current = []
        else:
            current.append(ch)
    segments.append("".join(current))
    return [segment for segment in segments if segment.strip()]


def _normalise_text(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def _tokens(text: str) -> tuple[list[str], list[_Token]]:
    """The words of a text as written (NFC) and as keys."""
    words = _words(unicodedata.normalize("NFC", text))
    return words, [_token(_normalise_text(word)) for word in words]


_GENERIC_WORDS: tuple[tuple[_Hint, str, tuple[str, ...]], ...] = (
    (_Hint.REGION, _POST, ("regions", "oblasts", "облысы", "облысының", "облысында", "облысындағы", "облыстары",
                           "облыс", "обл", "области", "областей", "областью", "oblysy",
                           "oblys", "oblysynyn", "oblasty", "region", "province", "oblast")),
    (_Hint.REGION, _BOTH, ("область",)),
    (_Hint.DISTRICT, _POST, ("ауданы", "ауданының", "ауданында", "ауданындағы", "аудандары",
                             "аудан", "района", "районе", "районы", "р-н", "рн", "district",
                             "districts", "raions", "raion", "rayon", "audany", "audan")),
    (_Hint.DISTRICT, _BOTH, ("район",)),
    (_Hint.CITY, _POST, ("қалалары", "қаласы", "қаласының", "қаласында", "қаласындағы",
                         "қала", "қ", "города", "городе", "city", "cities", "town", "qalasy",
                         "kalasy")),  # "Қостанай қ." is Kazakh for "г. Костанай"
    (_Hint.CITY, _BOTH, ("город",)),
    (_Hint.CITY, _PRE, ("г", "гор")),
    (_Hint.VILLAGE, _POST, ("ауылы", "ауылының", "ауылында", "ауылындағы", "кенті", "кент",
                            "селе", "села", "поселке", "посёлке", "поселка", "посёлка",
                            "village", "auyly", "kenti")),
    (_Hint.VILLAGE, _BOTH, ("ауыл", "аул", "село", "поселок", "посёлок", "selo", "aul")),
    (_Hint.VILLAGE, _PRE, ("с", "п", "пос", "пгт")),
)  # fmt: skip
# Plural (or, for "области", also genitive) forms: "Костанайская и Акмолинская области" gives
# the hint to every name before it in the fragment that has none yet.
_PLURAL_WORDS = ("облыстары", "области", "oblasty", "regions", "аудандары", "районы",
                 "districts", "raions", "қалалары", "города", "cities")  # fmt: skip
_STOP_WORDS = ("и", "және", "мен", "а", "также", "в", "во", "на", "по", "and", "of", "the",
               "in", "имени", "им")  # fmt: skip


def _generic_index() -> dict[str, tuple[_Hint, str]]:
    index: dict[str, tuple[_Hint, str]] = {}
    for hint, attach, words in _GENERIC_WORDS:
        for word in words:
            index[_skeleton(_normalise_text(word))] = (hint, attach)
    return index


_GENERIC = _generic_index()
_STOP = frozenset(_skeleton(word) for word in _STOP_WORDS)
_PLURAL = frozenset(_skeleton(word) for word in _PLURAL_WORDS)


def _as_multipolygon(geometry: BaseGeometry) -> MultiPolygon:
    if isinstance(geometry, MultiPolygon):
        return geometry
    if isinstance(geometry, Polygon):
        return MultiPolygon([geometry])
    polygons = [part for part in getattr(geometry, "geoms", ()) if isinstance(part, Polygon)]
    polygons += [
        poly
        for part in getattr(geometry, "geoms", ())
        if isinstance(part, MultiPolygon)
        for poly in part.geoms
    ]
    return MultiPolygon(polygons)


# --------------------------------------------------------------------------- the gazetteer


@dataclass
class _Mention:
    text: str
    candidates: list[tuple[int, bool]]  # (place index, weak)
    hint: _Hint | None = None  # from a generic word
    gender: _Hint | None = None  # from a Russian adjective ending


class Gazetteer:
    """Names of Kazakhstan's regions, districts and settlements, and how to read them."""

    def __init__(
        self,
        regions: Sequence[Region],
        districts: Sequence[District],
        settlements: Sequence[Settlement],
        *,
        region_variants: dict[str, tuple[str, ...]] | None = None,
        settlement_variants: dict[int, tuple[str, ...]] | None = None,
    ) -> None:
        region_variants = region_variants or {}
        settlement_variants = settlement_variants or {}
        self._places: list[Place] = []
        self._district_towns: dict[int, set[int]] = {}  # district index -> its geonameids
        self._geonames: dict[int, int] = {}  # geonameid -> place index
        self._regions: dict[str, int] = {}  # ISO code -> place index
        self._index: dict[str, dict[int, bool]] = {}  # key -> {place index: weak}
        self._max_tokens = 1
        boundaries = {region.code: region.boundary for region in regions}

        for region in regions:
            idx = self._add(
                Place(PlaceKind.REGION, region.code, region.name_kk, region.name_ru,
                      region.name_en, region.code, region.boundary)
            )  # fmt: skip
            self._regions[region.code] = idx
            weak_if_generic = region.code not in CITY_REGIONS
            region_names = (region.name_kk, region.name_ru, region.name_en)
            for name in (*region_names, *region_variants.get(region.code, ())):
                self._add_name(idx, name, weak_if_generic=weak_if_generic)

        for district in districts:
            circle = geodesic_circle(
                district.longitude, district.latitude, district.radius_km * 1000
            )
            boundary = boundaries.get(district.region_code)
            shape = circle if boundary is None else circle.intersection(boundary)
            geometry = _as_multipolygon(shape if not shape.is_empty else circle)
            idx = self._add(
                Place(PlaceKind.DISTRICT, district.code, district.name_kk, district.name_ru,
                      district.name_en, district.region_code, geometry, approximate=True)
            )  # fmt: skip
            shapely.prepare(geometry)
            self._district_towns[idx] = {district.centre_geonameid} | {
                settlement.geonameid
                for settlement in settlements
                if settlement.region_code == district.region_code
                and settlement.population < DISTRICT_TOWN_MAX_POPULATION
                and geometry.covers(Point(settlement.longitude, settlement.latitude))
            }
            for name in (district.name_kk, district.name_ru, district.name_en, *district.variants):
                self._add_name(idx, name, weak_if_generic=False)

        for settlement in settlements:
            radius_km = max(
                SETTLEMENT_MIN_RADIUS_KM,
                math.sqrt(settlement.population / (math.pi * SETTLEMENT_DENSITY_PER_KM2)),
            )
            circle = geodesic_circle(settlement.longitude, settlement.latitude, radius_km * 1000)
            cyrillic = settlement.name_ru or settlement.name
            idx = self._add(
                Place(PlaceKind.SETTLEMENT, str(settlement.geonameid), cyrillic, cyrillic,
                      settlement.name, settlement.region_code, MultiPolygon([circle]),
                      approximate=True)
            )  # fmt: skip
            self._geonames[settlement.geonameid] = idx
            settlement_names = (settlement.name, settlement.name_ru)
            for name in (*settlement_names, *settlement_variants.get(settlement.geonameid, ())):
                self._add_name(idx, name, weak_if_generic=False)

    @property
    def places(self) -> tuple[Place, ...]:
        """Every place the gazetteer knows: regions, then districts, then settlements."""
        return tuple(self._places)

    @classmethod
    def default(cls) -> Gazetteer:
        """The gazetteer of the vendored reference data, built once."""
        return _default_gazetteer()

    # ----------------------------------------------------------------------- building

    def _add(self, place: Place) -> int:
        self._places.append(place)
        return len(self._places) - 1

    def _add_name(self, idx: int, name: str, *, weak_if_generic: bool) -> None:
        if not name:
            return
        tokens = _tokens(name)[1]
        kept = [t.key for t in tokens if t.key and t.key not in _GENERIC and t.key not in _STOP]
        had_generic = any(t.key in _GENERIC for t in tokens)
        if not kept or len(kept) > _MAX_NAME_TOKENS:
            return
        key = " ".join(kept)
        weak = had_generic and weak_if_generic
        entry = self._index.setdefault(key, {})
        entry[idx] = entry.get(idx, True) and weak  # strong wins
        self._max_tokens = max(self._max_tokens, len(kept))

    # ----------------------------------------------------------------------- reading

    def resolve(self, description: str, geocodes: Sequence[tuple[str, str]] = ()) -> NameResolution:
        """The places an ``<areaDesc>`` names, with CAP ``<geocode>`` (valueName, value) pairs.

        Geocodes understood: ISO 3166-2 region codes ("ISO3166-2", "KZ-39") and GeoNames ids
        ("GeoNames", "1516601"). KATO codes are reported unresolved (no KATO data is vendored);
        other value names are not place names and are ignored.
        """
        unresolved: list[str] = []
        mentions: list[_Mention] = []

        text = description
        if len(text) > MAX_DESCRIPTION_CHARS:
            cut = text[:MAX_DESCRIPTION_CHARS]
            boundary = max(cut.rfind(ch) for ch in (" ", "\n", ",", ";", "\t"))
            text = cut[:boundary] if boundary > 0 else cut
            unresolved.append(f"… ({len(description) - len(text)} characters not read)")
        segments = _segments(text)
        if len(segments) > MAX_FRAGMENTS:
            unresolved.append(f"… ({len(segments) - MAX_FRAGMENTS} fragments not read)")
            segments = segments[:MAX_FRAGMENTS]
        for segment in segments:
            self._scan(segment, mentions, unresolved)
        self._read_geocodes(geocodes, mentions, unresolved)

        narrowed = [self._narrow(mention) for mention in mentions]
        context = {self._places[found[0]].region_code for found in narrowed if len(found) == 1}
        resolved: list[int] = []
        ambiguous: list[tuple[str, tuple[Place, ...]]] = []
        for mention, found in zip(mentions, narrowed, strict=True):
            if len(found) > 1 and context:
                in_context = [i for i in found if self._places[i].region_code in context]
                found = in_context or found
            if len(found) == 1:
                resolved.append(found[0])
            elif found:
                ambiguous.append((mention.text, tuple(self._places[i] for i in found)))
            else:
                unresolved.append(mention.text)

        places = self._without_containers(resolved)
        return NameResolution(tuple(places), tuple(unresolved), tuple(ambiguous))

    def _scan(self, segment: str, mentions: list[_Mention], unresolved: list[str]) -> None:
        raw_words, tokens = _tokens(segment)
        run: list[str] = []
        last: _Mention | None = None
        in_segment: list[_Mention] = []
        last_end = -1
        pending: tuple[_Hint, int] | None = None

        def flush() -> None:
            if run:
                unresolved.append(" ".join(run))
                run.clear()

        i = 0
        while i < len(tokens):
            key = tokens[i].key
            if not key or key in _STOP:
                flush()
                i += 1
                continue
            generic = _GENERIC.get(key)
            if generic is not None:
                flush()
                hint, attach = generic
                if attach != _PRE and last is not None and last_end == i and last.hint is None:
                    last.hint = hint
                    last_end = i + 1
                    if key in _PLURAL:
                        for earlier in reversed(in_segment[:-1]):
                            if earlier.hint is not None:
                                break
                            earlier.hint = hint
                elif attach != _POST:
                    pending = (hint, i + 1)
                i += 1
                continue
            found: dict[int, bool] | None = None
            length = min(self._max_tokens, len(tokens) - i)
            while length > 0:
                found = self._index.get(" ".join(t.key for t in tokens[i : i + length]))
                if found:
                    break
                length -= 1
            if not found:
                run.append(raw_words[i])
                i += 1
                continue
            flush()
            mention = _Mention(
                text=" ".join(raw_words[i : i + length]),
                candidates=sorted(found.items()),
                hint=pending[0] if pending is not None and pending[1] == i else None,
                gender=tokens[i + length - 1].gender,
            )
            mentions.append(mention)
            in_segment.append(mention)
            last, last_end, pending = mention, i + length, None
            i += length
        flush()

    def _read_geocodes(
        self,
        geocodes: Iterable[tuple[str, str]],
        mentions: list[_Mention],
        unresolved: list[str],
    ) -> None:
        for count, (value_name, value) in enumerate(geocodes):
            if count >= MAX_FRAGMENTS:
                unresolved.append("… (more geocodes not read)")
                return
            scheme = "".join(ch for ch in value_name.casefold() if ch.isalnum())
            code = value.strip()
            if scheme.startswith("iso31662"):
                upper = code.upper().replace(" ", "")
                if len(upper) == 4 and upper.startswith("KZ") and upper[2:].isdigit():
                    upper = f"KZ-{upper[2:]}"
                idx = self._regions.get(upper)
            elif scheme in ("geonames", "geonameid", "geonamesid"):
                geonameid = _geonameid(code)
                idx = self._geonames.get(geonameid) if geonameid is not None else None
            elif scheme in ("kato", "като"):
                idx = None  # no KATO data is vendored: a dispatcher has to place it
            else:
                continue
            if idx is None:
                unresolved.append(f"{value_name}={value}")
            else:
                mentions.append(_Mention(text=f"{value_name}={value}", candidates=[(idx, False)]))

    def _compatible(self, hint: _Hint, idx: int) -> bool:
        place = self._places[idx]
        if place.kind is PlaceKind.REGION:
            city = place.code in CITY_REGIONS
            return (hint is _Hint.CITY) if city else (hint is _Hint.REGION)
        if place.kind is PlaceKind.DISTRICT:
            return hint is _Hint.DISTRICT
        return hint in (_Hint.CITY, _Hint.VILLAGE)

    def _narrow(self, mention: _Mention) -> list[int]:
        """The candidates left after the kind hint, weak names and same-place collapsing."""
        candidates = mention.candidates
        chosen: list[tuple[int, bool]] = []
        for hint in (mention.hint, mention.gender):
            if hint is not None:
                chosen = [c for c in candidates if self._compatible(hint, c[0])]
                if chosen:
                    break
        if not chosen:
            chosen = [c for c in candidates if not c[1]] or candidates
        found = [idx for idx, _weak in chosen]
        # A district and a same-named town in it (its centre, or a small town inside its
        # circle), or a city of republican significance and the settlement that is that city,
        # are one place: keep the larger.
        towns = {town for i in found for town in self._district_towns.get(i, ())}
        cities = {self._places[i].code for i in found if self._places[i].code in CITY_REGIONS}
        return [
            idx
            for idx in found
            if not (
                self._places[idx].kind is PlaceKind.SETTLEMENT
                and (
                    int(self._places[idx].code) in towns or self._places[idx].region_code in cities
                )
            )
        ]

    def _without_containers(self, resolved: list[int]) -> list[Place]:
        """Distinct places in order, without a region that another named place lies in."""
        distinct = list(dict.fromkeys(resolved))
        inner_regions = {
            self._places[i].region_code
            for i in distinct
            if self._places[i].kind is not PlaceKind.REGION
        }
        return [
            self._places[i]
            for i in distinct
            if not (
                self._places[i].kind is PlaceKind.REGION and self._places[i].code in inner_regions
            )
        ]


def _geonameid(code: str) -> int | None:
    """A GeoNames id, or None: ASCII digits only ("²" is a digit to `str.isdigit` but not to
    `int`) and no longer than any id GeoNames gives out (`int` refuses 4,300 digits and more)."""
    return (
        int(code) if code.isascii() and code.isdigit() and len(code) <= _GEONAMEID_DIGITS else None
    )


@cache
def _default_gazetteer() -> Gazetteer:
    return Gazetteer(
        load_regions(),
        load_districts(),
        load_settlements(),
        region_variants=REGION_VARIANTS,
        settlement_variants=SETTLEMENT_VARIANTS,
    )
