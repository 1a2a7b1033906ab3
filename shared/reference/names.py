"""Reviewed name variants for regions and settlements: spellings, scripts and old names.

The official Kazakh, Russian and English names live in the data files; these are the other
names a sender may write. Kazakh letters need not be listed separately from their Russian
look-alikes (Қостанай / Костанай), nor Latin-Kazakh diacritics (Qostanaı / Qostanay): the
gazetteer's normalisation folds them. Old and other-language names must be listed.

A variant that contains a generic word ("облысы", "область", "Region") is matched by the rest of
it; the gazetteer then treats the bare name as a weak match that needs the generic word or no
competing place (so "Павлодар" is the city, "Павлодар облысы" the region).
"""

from __future__ import annotations

# ISO 3166-2 code -> further names of the region (official names come from regions.geojson).
REGION_VARIANTS: dict[str, tuple[str, ...]] = {
    "KZ-10": ("Абайская область", "Abai oblysy", "Abay Region", "Abay oblysy",
              "Semey Region"),
    "KZ-11": ("Aqmola oblysy", "Akmolinskaya oblast", "Akmola oblast",
              "Целиноградская область", "Tselinograd Region"),
    "KZ-15": ("Актюбинская область", "Aqtobe oblysy", "Aktyubinsk Region", "Aktobe oblast"),
    "KZ-19": ("Almaty oblysy", "Алма-Атинская область", "Alma-Ata Region", "Almaty oblast"),
    "KZ-23": ("Atyrau oblysy", "Гурьевская область", "Guryev Region", "Atyrau oblast"),
    "KZ-27": ("West Kazakhstan", "Batys Qazaqstan oblysy", "ЗКО", "Уральская область",
              "Uralsk Region", "Западный Казахстан", "Батыс Қазақстан",
              "Zapadno-Kazakhstanskaya oblast"),
    "KZ-31": ("Jambyl oblysy", "Jambyl Region", "Zhambyl oblast", "Джамбулская область",
              "Dzhambul Region", "Жамбылская обл"),
    "KZ-33": ("Жетысуская область", "Jetisý oblysy", "Zhetysu Region", "Jetisu oblysy",
              "Талдыкорганская область", "Taldykorgan Region"),
    "KZ-35": ("Qaraǵandy oblysy", "Qaraghandy Region", "Karagandy Region",
              "Karaganda oblast"),
    "KZ-39": ("Qostanaı oblysy", "Qostanay Region", "Kostanai Region", "Kustanai Region",
              "Кустанайская область", "Kostanay oblast"),
    "KZ-43": ("Qyzylorda oblysy", "Qyzylorda Region", "Kzyl-Orda Region",
              "Кзыл-Ординская область", "Кызыл-Ординская область", "Kyzylorda oblast"),
    "KZ-47": ("Mańǵystaý oblysy", "Mangistau Region", "Mangghystau Region",
              "Мангышлакская область", "Mangyshlak Region", "Маңғыстау облысы"),
    "KZ-55": ("Pavlodar oblysy", "Pavlodar oblast"),
    "KZ-59": ("North Kazakhstan", "Soltústik Qazaqstan oblysy", "СКО", "Северный Казахстан",
              "Солтүстік Қазақстан", "Severo-Kazakhstanskaya oblast"),
    "KZ-61": ("Túrkistan oblysy", "Turkestan Region", "Туркестанская обл",
              "Южно-Казахстанская область", "South Kazakhstan Region", "South Kazakhstan",
              "Оңтүстік Қазақстан облысы", "Ongtustik Qazaqstan Region", "ЮКО",
              "Южный Казахстан", "Шымкентская область", "Чимкентская область",
              "Chimkent Region"),
    "KZ-62": ("Улытауская область", "Ulytaý oblysy", "Ulytau oblysy"),
    "KZ-63": ("East Kazakhstan", "Shyǵys Qazaqstan oblysy", "ВКО", "Восточный Казахстан",
              "Шығыс Қазақстан", "Vostochno-Kazakhstanskaya oblast"),
    # Cities of republican significance: each is a region of its own.
    "KZ-71": ("Нур-Султан", "Nur-Sultan", "Нұр-Сұлтан", "Nur-Sultan city", "Целиноград",
              "Tselinograd", "Акмолинск", "Akmolinsk", "Astana city"),
    "KZ-75": ("Алма-Ата", "Alma-Ata", "Алмаата", "Almaty city", "Верный"),
    "KZ-79": ("Чимкент", "Chimkent", "Shymkent city", "Шымкент қаласы"),
}  # fmt: skip

# GeoNames id -> further names of the settlement (besides its GeoNames and Russian names).
SETTLEMENT_VARIANTS: dict[int, tuple[str, ...]] = {
    608668: ("Орал", "Oral", "Uralsk"),
    610529: ("Гурьев", "Guryev", "Gurev"),
    1519422: ("Семипалатинск", "Semipalatinsk"),
    1516905: ("Джамбул", "Dzhambul", "Аулие-Ата", "Aulie-Ata"),
    1519922: ("Кзыл-Орда", "Kzyl-Orda", "Qyzylorda", "Ак-Мечеть", "Перовск"),
    1518542: ("Талды-Курган", "Taldy-Kurgan", "Taldyqorgan"),
    1520316: ("Өскемен", "Oskemen", "Öskemen", "Ust-Kamenogorsk"),
    1519928: ("Кустанай", "Kustanai", "Qostanay", "Qostanaı"),
    1520172: ("Петропавл", "Petropavlovsk"),
    610612: ("Шевченко", "Shevchenko"),
    610611: ("Актюбинск", "Aktyubinsk", "Aqtobe"),
    609655: ("Караганды", "Karaganda", "Qaraǵandy", "Qaraghandy"),
    1516589: ("Джезказган", "Dzhezkazgan", "Zhezkazgan", "Jezqazǵan"),
    1519948: ("Капчагай", "Капшагай", "Kapchagay", "Qapshaǵaı", "Қонаев"),
    1522203: ("Кокчетав", "Kokchetav", "Kókshetaý"),
    1517945: ("Túrkistan", "Turkestan"),
    1521370: ("Лениногорск", "Leninogorsk"),
    1516438: ("Зыряновск", "Zyryanovsk"),
    1520240: ("Pavlodar",),
}  # fmt: skip
