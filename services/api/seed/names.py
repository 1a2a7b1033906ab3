"""Synthetic people's names as Kazakhstan writes them: Kazakh, Russian and a few other traditions.

Kazakh names take a patronymic in `-ұлы` / `-қызы` and often a Russian-style surname in `-ов` /
`-ова`; many younger people drop the surname and use the patronymic alone ("Ержан Болатұлы").
Russian names take `-ович` / `-овна` patronymics and gendered surnames. Which tradition a person
follows depends on the region (`ethnic_mix`), roughly as the 2021 census has it.
"""

from __future__ import annotations

from enum import IntEnum


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


class Tradition(IntEnum):
    KAZAKH = 0
    RUSSIAN = 1
    OTHER = 2


_KAZAKH_MALE = _words(
    "Ержан Нұрлан Асхат Бауыржан Дәурен Ерлан Айдос Арман Қайрат Серік Болат Мұрат Ғалым Дамир "
    "Санжар Әлихан Нұржан Ерболат Жандос Мейрам Талғат Азамат Руслан Бекзат Темірлан Ильяс Алмас "
    "Абылай Айбек Ербол Марат Қанат Нұрсұлтан Олжас Саят Шыңғыс Дархан Жасұлан Мақсат Рахат "
    "Тимур Әділет Бақытжан Ернар Данияр Еркін Қуаныш Мирас Әлібек"
)
_KAZAKH_FEMALE = _words(
    "Айгерім Әсел Динара Гүлнар Жанар Мәдина Аружан Ақбота Сәуле Гаухар Назерке Дана Жұлдыз "
    "Айжан Балжан Көркем Меруерт Ботагөз Ләззат Салтанат Ақмарал Әлия Аяулым Томирис Камила "
    "Інжу Перизат Гүлжан Самал Мөлдір Нұргүл Арайлым Жібек Қарлығаш Ұлжан Әсем Толқын Айша "
    "Дильназ Гүлмира Шынар Зере Ләйлә Альбина Маржан"
)
_KAZAKH_SURNAME_ROOTS = _words(
    "Нұрлан Серік Болат Ахмет Байжан Жұмабай Сейіт Тоқтар Омар Исабек Қасым Ермек Сәрсенбай "
    "Оспан Тұрсын Әлімжан Иманғали Қожахмет Жақсылық Бекмұхамбет Құрманғали Есенбай Мұқан "
    "Әбдіхалық Сағындық Төлеген Рысбай Жексенбай Мамыр Дүйсен Амангелді Темірбай Садық Ибрай "
    "Нұрмағамбет Қалиев Сұлтан Шәкен Баймұхан Қабдол Есім Әуезхан Кенжебай Ысқақ Абай Жанат"
)

_RUSSIAN_MALE = _words(
    "Александр Сергей Андрей Дмитрий Алексей Владимир Николай Игорь Евгений Михаил Виктор Юрий "
    "Павел Артём Максим Денис Константин Олег Роман Иван Антон Вадим Станислав Григорий Кирилл"
)
_RUSSIAN_FEMALE = _words(
    "Ольга Елена Наталья Татьяна Ирина Светлана Анна Юлия Марина Екатерина Людмила Галина "
    "Оксана Виктория Анастасия Дарья Ксения Вера Надежда Любовь Полина Алёна Валентина Софья"
)
_RUSSIAN_SURNAMES = _words(
    "Иванов Петров Смирнов Кузнецов Попов Васильев Соколов Михайлов Новиков Фёдоров Морозов "
    "Волков Алексеев Лебедев Семёнов Егоров Павлов Козлов Степанов Николаев Орлов Андреев "
    "Макаров Никитин Захаров Зайцев Соловьёв Борисов Яковлев Григорьев Романов Воробьёв "
    "Сергеев Кузьмин Фролов Дмитриев Королёв Гусев Киселёв Ильин Максимов Поляков Сорокин "
    "Виноградов Ковалёв Белов Медведев Антонов Тарасов Жуков Баранов Филиппов Комаров Давыдов "
    "Беляев Герасимов Богданов Осипов Сидоров Матвеев Титов Марков Миронов Крылов Куликов "
    "Карпов Власов Мельников Денисов Гаврилов Тихонов Казаков Данилов Савельев Тимофеев Фомин "
    "Чернов Абрамов Мартынов Ефимов Назаров Калинин Исаев Быков Маслов Родионов Коновалов"
)
_UKRAINIAN_SURNAMES = _words("Бондаренко Ткаченко Коваленко Шевченко Кравченко Савченко Руденко")
_RUSSIAN_PATRONYMICS = (
    ("Сергеевич", "Сергеевна"),
    ("Александрович", "Александровна"),
    ("Иванович", "Ивановна"),
    ("Владимирович", "Владимировна"),
    ("Николаевич", "Николаевна"),
    ("Викторович", "Викторовна"),
    ("Петрович", "Петровна"),
    ("Михайлович", "Михайловна"),
    ("Юрьевич", "Юрьевна"),
    ("Андреевич", "Андреевна"),
    ("Геннадьевич", "Геннадьевна"),
    ("Васильевич", "Васильевна"),
)

# Families whose surname does not change with gender, and names of the Uzbek, Tatar and Uyghur
# communities, whose surnames do.
_INVARIANT_SURNAMES = _words("Ким Пак Ли Цой Тен Хан Шмидт Миллер Вагнер Беккер Гофман Нейман")
_OTHER_MALE = _words("Шерзод Бахтиёр Рустам Ринат Ильдар Фарид Алишер Равиль Эдуард Виталий")
_OTHER_FEMALE = _words("Дилноза Нигора Гульнара Лилия Эльвира Альфия Регина Кристина Диляра Мария")
_OTHER_SURNAMES = _words("Рахимов Юсупов Каримов Хабибуллин Галиев Сафин Кадыров Ахмедов Усманов")

_ETHNIC_MIX: dict[str, tuple[float, float]] = {
    # ISO 3166-2 code → (share Kazakh, share Russian/Slavic); the rest is OTHER.
    "KZ-10": (0.80, 0.15),
    "KZ-11": (0.52, 0.35),
    "KZ-15": (0.87, 0.09),
    "KZ-19": (0.70, 0.14),
    "KZ-23": (0.93, 0.05),
    "KZ-27": (0.80, 0.16),
    "KZ-31": (0.75, 0.08),
    "KZ-33": (0.70, 0.16),
    "KZ-35": (0.56, 0.33),
    "KZ-39": (0.44, 0.39),
    "KZ-43": (0.96, 0.02),
    "KZ-47": (0.91, 0.05),
    "KZ-55": (0.53, 0.34),
    "KZ-59": (0.36, 0.49),
    "KZ-61": (0.76, 0.02),
    "KZ-62": (0.80, 0.14),
    "KZ-63": (0.55, 0.40),
    "KZ-71": (0.79, 0.14),
    "KZ-75": (0.62, 0.24),
    "KZ-79": (0.67, 0.05),
}
_DEFAULT_MIX = (0.70, 0.20)


def ethnic_mix(region_code: str) -> tuple[float, float]:
    """(share Kazakh, share Russian) of a region; the remainder follows other traditions."""
    return _ETHNIC_MIX.get(region_code, _DEFAULT_MIX)


def _pick(options: tuple[str, ...], u: float) -> str:
    return options[int(u * len(options))]


def _kazakh_surname(root: str, *, female: bool) -> str:
    if root.endswith("ев"):  # already a surname (e.g. Қалиев)
        male = root
    elif root.endswith("й"):
        male = root[:-1] + "ев"
    else:
        male = root + "ов"
    return male + "а" if female else male


def _gendered_surname(male: str, *, female: bool) -> str:
    if not female:
        return male
    if male.endswith(("ов", "ев", "ёв", "ин")):
        return male + "а"
    return male


def compose_name(
    tradition: Tradition, *, female: bool, style: float, u1: float, u2: float, u3: float
) -> str:
    """A full name, first name first. `style` and `u1`–`u3` are uniform draws in [0, 1)."""
    if tradition is Tradition.KAZAKH:
        first = _pick(_KAZAKH_FEMALE if female else _KAZAKH_MALE, u1)
        patronymic = _pick(_KAZAKH_MALE, u2) + ("қызы" if female else "ұлы")
        surname = _kazakh_surname(_pick(_KAZAKH_SURNAME_ROOTS, u3), female=female)
        if style < 0.45:
            return f"{first} {patronymic} {surname}"
        if style < 0.70:
            return f"{first} {patronymic}"
        return f"{first} {surname}"
    if tradition is Tradition.RUSSIAN:
        first = _pick(_RUSSIAN_FEMALE if female else _RUSSIAN_MALE, u1)
        if u3 < 0.08:
            surname = _pick(_UKRAINIAN_SURNAMES, u3 / 0.08)
        else:
            surname = _gendered_surname(_pick(_RUSSIAN_SURNAMES, u3), female=female)
        if style < 0.35:
            male_form, female_form = _RUSSIAN_PATRONYMICS[int(u2 * len(_RUSSIAN_PATRONYMICS))]
            return f"{first} {female_form if female else male_form} {surname}"
        return f"{first} {surname}"
    if u2 < 0.5:
        first = _pick(_RUSSIAN_FEMALE if female else _RUSSIAN_MALE, u1)
        return f"{first} {_pick(_INVARIANT_SURNAMES, u3)}"
    first = _pick(_OTHER_FEMALE if female else _OTHER_MALE, u1)
    return f"{first} {_gendered_surname(_pick(_OTHER_SURNAMES, u3), female=female)}"
