"""What the API tells volunteers and dispatchers, in Kazakh, Russian and English (kk first).

The language comes from `Accept-Language` (`preferred_language`); anything Jedel does not speak
gets Kazakh. A closed call-out is told as "this call-out is closed: <why>", the why chosen from the
offer's state and, for a withdrawn offer, its `closed_reason`.
"""

from __future__ import annotations

from typing import Final

from shared.i18n import LANGUAGES, Language

Texts = dict[Language, str]

MESSAGES: Final[dict[str, Texts]] = {
    "offer.not_found": {
        "kk": "Мұндай шақыру жоқ",
        "ru": "Такого вызова нет",
        "en": "No such call-out",
    },
    "offer.not_yours": {
        "kk": "Бұл шақыру басқа еріктіге жіберілген",
        "ru": "Этот вызов адресован другому волонтёру",
        "en": "This call-out was sent to another volunteer",
    },
    "offer.accepted": {
        "kk": "Сіз топқа қосылдыңыз. Рахмет!",
        "ru": "Вы в группе. Спасибо!",
        "en": "You are in the group. Thank you!",
    },
    "offer.declined": {
        "kk": "Жауабыңыз қабылданды: сіз бас тарттыңыз",
        "ru": "Ответ принят: вы отказались",
        "en": "Your answer is recorded: you declined",
    },
    "offer.pending": {
        "kk": "Жауабыңыз кезекке қойылды, жақында шешіледі",
        "ru": "Ваш ответ в очереди, решение будет принято в ближайшее время",
        "en": "Your answer is queued and will be decided shortly",
    },
    "offer.already_accepted": {
        "kk": "Сіз бұл шақыруды қабылдап қойғансыз; бас тарту үшін үйлестірушіге хабарласыңыз",
        "ru": "Вы уже приняли этот вызов; чтобы отказаться, свяжитесь с координатором",
        "en": "You have already accepted this call-out; to withdraw, contact the coordinator",
    },
    "offer.closed": {
        "kk": "Бұл шақыру жабық: {why}",
        "ru": "Этот вызов закрыт: {why}",
        "en": "This call-out is closed: {why}",
    },
    "closed.declined": {
        "kk": "сіз бас тарттыңыз",
        "ru": "вы отказались",
        "en": "you declined it",
    },
    "closed.timed_out": {
        "kk": "жауап беру уақыты өтіп кетті",
        "ru": "время на ответ истекло",
        "en": "the time to answer ran out",
    },
    "closed.role_filled": {
        "kk": "бұл орынды басқа ерікті алды",
        "ru": "это место уже занял другой волонтёр",
        "en": "someone else took this place",
    },
    "closed.group_complete": {
        "kk": "топ толық жиналды",
        "ru": "группа уже собрана",
        "en": "the group is complete",
    },
    "closed.committed_elsewhere": {
        "kk": "сіз басқа оқиғаға тартылғансыз",
        "ru": "вы уже задействованы на другом происшествии",
        "en": "you are already committed to another incident",
    },
    "closed.incident_cancelled": {
        "kk": "оқиға жойылды",
        "ru": "происшествие отменено",
        "en": "the incident was cancelled",
    },
    "closed.incident_expired": {
        "kk": "оқиғаның мерзімі аяқталды",
        "ru": "срок происшествия истёк",
        "en": "the incident has expired",
    },
    "closed.incident_resolved": {
        "kk": "іздеу аяқталды",
        "ru": "поиск завершён",
        "en": "the search is over",
    },
    "closed.called_off": {
        "kk": "диспетчер шақыруды тоқтатты",
        "ru": "диспетчер отменил вызов",
        "en": "the dispatcher called off the call-out",
    },
    "closed.released": {
        "kk": "диспетчер сізді топтан босатты",
        "ru": "диспетчер освободил вас от участия",
        "en": "the dispatcher released you from the group",
    },
    "closed.group_reduced": {
        "kk": "топ кішірейтілді",
        "ru": "группу сократили",
        "en": "the group was made smaller",
    },
    "closed.mobilization_ended": {
        "kk": "шақыру аяқталды",
        "ru": "сбор группы завершён",
        "en": "the call-out has ended",
    },
    "closed.withdrawn": {
        "kk": "шақыру кері қайтарылды",
        "ru": "вызов отозван",
        "en": "the call-out was withdrawn",
    },
    "page.title": {
        "kk": "Jedel: шақыру",
        "ru": "Jedel: вызов",
        "en": "Jedel: call-out",
    },
    "page.exercise": {
        "kk": "ЖАТТЫҒУ",
        "ru": "УЧЕНИЯ",
        "en": "EXERCISE",
    },
    "page.role": {
        "kk": "Рөліңіз: {role}",
        "ru": "Ваша роль: {role}",
        "en": "Your role: {role}",
    },
    "page.eta": {
        "kk": "Жол ~{minutes} мин",
        "ru": "Путь ~{minutes} мин",
        "en": "Travel ~{minutes} min",
    },
    "page.answer_by": {
        "kk": "Жауап беріңіз {time} дейін (Қазақстан уақыты)",
        "ru": "Ответьте до {time} (время Казахстана)",
        "en": "Answer by {time} (Kazakhstan time)",
    },
    "page.accept": {
        "kk": "Барамын",
        "ru": "Еду",
        "en": "I'm coming",
    },
    "page.decline": {
        "kk": "Бара алмаймын",
        "ru": "Не могу",
        "en": "I can't come",
    },
    "page.again": {
        "kk": "Шақыруға оралу",
        "ru": "Вернуться к вызову",
        "en": "Back to the call-out",
    },
    "volunteer.not_found": {
        "kk": "Мұндай ерікті жоқ",
        "ru": "Такого волонтёра нет",
        "en": "No such volunteer",
    },
    "explanation.not_considered": {
        "kk": (
            "Қаралмады: әр толқын әлі ашық рөлдерге куәлігі бар ең жақын еріктілерді қарайды, "
            "бұл ерікті олардың қатарында болмады (алысырақ тұрады немесе ондай куәлігі жоқ)"
        ),
        "ru": (
            "Не рассматривался: каждая волна смотрит на ближайших волонтёров с удостоверениями "
            "для ещё открытых ролей, и этого волонтёра среди них не было (живёт дальше или нет "
            "такого удостоверения)"
        ),
        "en": (
            "Not considered: each wave looks at the nearest volunteers holding a certificate for "
            "the roles still open, and this volunteer was not among them (lives further away, or "
            "holds no such certificate)"
        ),
    },
    "auth.required": {
        "kk": "Кіру қажет",
        "ru": "Требуется вход",
        "en": "Sign-in required",
    },
    "auth.expired": {
        "kk": "Кіру мерзімі өтті немесе жабылды; қайта кіріңіз",
        "ru": "Вход истёк или был закрыт; войдите снова",
        "en": "Your sign-in has expired or was closed; sign in again",
    },
    "auth.forbidden": {
        "kk": "Сіздің рөліңізге бұл рұқсат етілмеген",
        "ru": "Вашей роли это не разрешено",
        "en": "Your role is not allowed to do this",
    },
    "auth.other_region": {
        "kk": "Бұл оқиға сіздің өңіріңізде емес",
        "ru": "Это происшествие не в вашем регионе",
        "en": "This incident is not in your region",
    },
    "auth.csrf": {
        "kk": "Сұрау бетіңізден келмеген сияқты; бетті жаңартып, қайталаңыз",
        "ru": "Запрос, похоже, пришёл не с вашей страницы; обновите её и повторите",
        "en": "The request did not come from your page; reload it and try again",
    },
    "auth.too_many": {
        "kk": "Әрекет тым көп; {seconds} секундтан кейін қайталаңыз",
        "ru": "Слишком много попыток; повторите через {seconds} с",
        "en": "Too many attempts; try again in {seconds} s",
    },
    "auth.code_sent": {
        "kk": "Бұл нөмір тіркелген болса, оған код жіберілді",
        "ru": "Если этот номер зарегистрирован, на него отправлен код",
        "en": "If this number is registered, a code has been sent to it",
    },
    "auth.bad_code": {
        "kk": "Код қате немесе мерзімі өткен",
        "ru": "Код неверный или устарел",
        "en": "The code is wrong or has expired",
    },
    "auth.bad_password": {
        "kk": "Пайдаланушы аты немесе құпиясөз қате",
        "ru": "Неверное имя пользователя или пароль",
        "en": "Wrong username or password",
    },
    "auth.bad_phone": {
        "kk": "Телефон нөмірін +7 701 123 45 67 түрінде жазыңыз",
        "ru": "Укажите номер телефона в виде +7 701 123 45 67",
        "en": "Write the phone number as +7 701 123 45 67",
    },
    "auth.unavailable": {
        "kk": "Кіру қазір мүмкін емес; бір минуттан кейін қайталаңыз",
        "ru": "Вход сейчас недоступен; повторите через минуту",
        "en": "Sign-in is unavailable right now; try again in a minute",
    },
    "location.no_consent": {
        "kk": "Орныңызды бөлісуге келісім берілмеген; оны қолданбада қосыңыз",
        "ru": "Нет согласия на передачу местоположения; включите его в приложении",
        "en": "You have not agreed to share your location; turn it on in the app",
    },
    "app.title": {
        "kk": "Jedel: ерікті",
        "ru": "Jedel: волонтёр",
        "en": "Jedel: volunteer",
    },
    "app.phone": {
        "kk": "Телефон нөміріңіз",
        "ru": "Ваш номер телефона",
        "en": "Your phone number",
    },
    "app.send_code": {
        "kk": "Код жіберу",
        "ru": "Отправить код",
        "en": "Send me a code",
    },
    "app.code": {
        "kk": "SMS-тегі код",
        "ru": "Код из SMS",
        "en": "The code from the SMS",
    },
    "app.sign_in": {
        "kk": "Кіру",
        "ru": "Войти",
        "en": "Sign in",
    },
    "app.sign_out": {
        "kk": "Шығу",
        "ru": "Выйти",
        "en": "Sign out",
    },
    "app.no_offers": {
        "kk": "Қазір шақыру жоқ. Рахмет, сіз дайынсыз!",
        "ru": "Сейчас вызовов нет. Спасибо, что на связи!",
        "en": "No call-outs right now. Thank you for standing by!",
    },
    "app.distance": {
        "kk": "{km} км қашықтықта",
        "ru": "{km} км от вас",
        "en": "{km} km away",
    },
    "app.time_left": {
        "kk": "Жауап беруге {minutes} мин қалды",
        "ru": "На ответ осталось {minutes} мин",
        "en": "{minutes} min left to answer",
    },
    "app.meeting_point": {
        "kk": "Жиналу орны",
        "ru": "Место сбора",
        "en": "Meeting point",
    },
    "app.queued": {
        "kk": "Байланыс жоқ: жауабыңыз сақталды, байланыс қалпына келгенде жіберіледі",
        "ru": "Нет связи: ответ сохранён и уйдёт, когда связь появится",
        "en": "No signal: your answer is kept and will be sent when the signal returns",
    },
    "app.me": {
        "kk": "Менің деректерім",
        "ru": "Мои данные",
        "en": "My details",
    },
    "app.off_duty": {
        "kk": "Қазір қолжетімсізмін (шақырмаңыз)",
        "ru": "Сейчас недоступен (не вызывать)",
        "en": "Off duty (do not call me out)",
    },
    "app.quiet_from": {
        "kk": "Тыныш сағаттар: басталуы",
        "ru": "Тихие часы: с",
        "en": "Quiet hours: from",
    },
    "app.quiet_to": {
        "kk": "Тыныш сағаттар: аяқталуы",
        "ru": "Тихие часы: до",
        "en": "Quiet hours: until",
    },
    "app.quiet_note": {
        "kk": "Тыныш сағаттарда тек шұғыл шақырулар келеді",
        "ru": "В тихие часы приходят только срочные вызовы",
        "en": "In quiet hours only urgent call-outs come",
    },
    "app.save": {
        "kk": "Сақтау",
        "ru": "Сохранить",
        "en": "Save",
    },
    "app.saved": {
        "kk": "Сақталды",
        "ru": "Сохранено",
        "en": "Saved",
    },
    "app.location": {
        "kk": "Шақыруға бара жатқанда орнымды бөлісемін",
        "ru": "Делиться местоположением, когда я еду на вызов",
        "en": "Share my location while I am on a call-out",
    },
    "app.field.now": {
        "kk": "Қазір: {status}",
        "ru": "Сейчас: {status}",
        "en": "Now: {status}",
    },
    "app.field.en_route": {
        "kk": "жолдамын",
        "ru": "в пути",
        "en": "on the way",
    },
    "app.field.on_scene": {
        "kk": "орнындамын",
        "ru": "на месте",
        "en": "on scene",
    },
    "app.field.left_area": {
        "kk": "кеттім",
        "ru": "ушёл",
        "en": "left",
    },
    "app.say.en_route": {
        "kk": "Жолдамын",
        "ru": "Я в пути",
        "en": "On my way",
    },
    "app.say.on_scene": {
        "kk": "Орнындамын",
        "ru": "Я на месте",
        "en": "I am on scene",
    },
    "app.say.left_area": {
        "kk": "Кетіп барамын",
        "ru": "Ухожу",
        "en": "I am leaving",
    },
    "app.sharing": {
        "kk": "Осы шақыруда болғанда орныңыз диспетчерге көрінеді (келісіміңіз болса)",
        "ru": "Пока вы на этом вызове, диспетчер видит, где вы (если вы дали согласие)",
        "en": "While you are on this call-out the dispatcher sees where you are (if you agreed)",
    },
    "app.certificates": {
        "kk": "Куәліктерім",
        "ru": "Мои удостоверения",
        "en": "My certificates",
    },
    "app.no_certificates": {
        "kk": "Куәлік жоқ",
        "ru": "Удостоверений нет",
        "en": "No certificates",
    },
    "app.cert.valid": {
        "kk": "{date} дейін жарамды",
        "ru": "действует до {date}",
        "en": "valid until {date}",
    },
    "app.cert.expiring": {
        "kk": "{date} аяқталады — {days} күн қалды",
        "ru": "истекает {date} — осталось {days} дн.",
        "en": "expires {date} — {days} days left",
    },
    "app.cert.expired": {
        "kk": "мерзімі {date} өтті",
        "ru": "истёк {date}",
        "en": "expired {date}",
    },
    "app.cert.not_yet": {
        "kk": "{date} бастап жарамды",
        "ru": "действует с {date}",
        "en": "valid from {date}",
    },
    "app.offline": {
        "kk": "Байланыс жоқ",
        "ru": "Нет связи",
        "en": "No signal",
    },
    "console.title": {
        "kk": "Jedel: диспетчер",
        "ru": "Jedel: диспетчер",
        "en": "Jedel: dispatcher",
    },
    "console.username": {
        "kk": "Пайдаланушы аты",
        "ru": "Имя пользователя",
        "en": "Username",
    },
    "console.password": {
        "kk": "Құпиясөз",
        "ru": "Пароль",
        "en": "Password",
    },
    "console.map": {
        "kk": "Өңір картасы",
        "ru": "Карта региона",
        "en": "Map of the region",
    },
    "console.incidents": {
        "kk": "Ашық оқиғалар",
        "ru": "Открытые происшествия",
        "en": "Open incidents",
    },
    "console.no_incidents": {
        "kk": "Сіздің өңірлеріңізде ашық оқиға жоқ",
        "ru": "В ваших регионах открытых происшествий нет",
        "en": "No open incidents in your regions",
    },
    "console.choose": {
        "kk": "Топты көру үшін оқиғаны таңдаңыз",
        "ru": "Выберите происшествие, чтобы увидеть группу",
        "en": "Choose an incident to see its group",
    },
    "console.no_group": {
        "kk": "Бұл оқиға бойынша топ жиналмайды",
        "ru": "По этому происшествию группа не собирается",
        "en": "No group is being formed for this incident",
    },
    "console.group": {
        "kk": "Топ",
        "ru": "Группа",
        "en": "Group",
    },
    "console.role": {
        "kk": "Рөл",
        "ru": "Роль",
        "en": "Role",
    },
    "console.needed": {
        "kk": "Керек",
        "ru": "Нужно",
        "en": "Needed",
    },
    "console.accepted": {
        "kk": "Келісті",
        "ru": "Согласились",
        "en": "Accepted",
    },
    "console.pending": {
        "kk": "Жауап күтілуде",
        "ru": "Ждут ответа",
        "en": "Awaiting answer",
    },
    "console.open_places": {
        "kk": "Бос орын",
        "ru": "Свободно мест",
        "en": "Open places",
    },
    "console.filled": {
        "kk": "толды",
        "ru": "заполнено",
        "en": "filled",
    },
    "console.members": {
        "kk": "Топ мүшелері",
        "ru": "Состав группы",
        "en": "Members",
    },
    "console.eta": {
        "kk": "{minutes} мин кейін",
        "ru": "через {minutes} мин",
        "en": "in {minutes} min",
    },
    "console.on_scene": {
        "kk": "орнында",
        "ru": "на месте",
        "en": "on scene",
    },
    "console.offers": {
        "kk": "Шақыру: {sent} / {budget}",
        "ru": "Вызовов: {sent} из {budget}",
        "en": "Offers: {sent} of {budget}",
    },
    "console.raise": {
        "kk": "Тағы {by} адамды шақыру",
        "ru": "Вызвать ещё {by} человек",
        "en": "Ask {by} more people",
    },
    "console.wave": {
        "kk": "{wave}-толқын, радиусы {km} км",
        "ru": "Волна {wave}, радиус {km} км",
        "en": "Wave {wave}, radius {km} km",
    },
    "console.status.active": {
        "kk": "Топ жиналуда",
        "ru": "Группа собирается",
        "en": "Group forming",
    },
    "console.status.complete": {
        "kk": "Топ толық",
        "ru": "Группа собрана",
        "en": "Group complete",
    },
    "console.status.closed": {
        "kk": "Жабылды",
        "ru": "Закрыто",
        "en": "Closed",
    },
    "console.why": {
        "kk": "Кім шақырылды және неге",
        "ru": "Кого вызвали и почему",
        "en": "Who was asked, and why",
    },
    "console.live": {
        "kk": "Тікелей эфир",
        "ru": "В эфире",
        "en": "Live",
    },
    "console.reconnecting": {
        "kk": "Қайта қосылуда…",
        "ru": "Переподключение…",
        "en": "Reconnecting…",
    },
    "console.left_area": {
        "kk": "оқиға орнынан кетті",
        "ru": "покинул место",
        "en": "left the scene",
    },
    "console.said": {
        "kk": "өзі хабарлады",
        "ru": "сообщил сам",
        "en": "said so",
    },
    "console.area_to_confirm": {
        "kk": "аумағын растау керек",
        "ru": "область требует подтверждения",
        "en": "area to confirm",
    },
    "console.area_to_confirm_why": {
        "kk": "Хабарламадағы жер табылмады: аумақ шамамен көрсетілген. Білсеңіз, картада белгілеңіз.",
        "ru": "Места из сообщения не найдены: область показана приблизительно. Если знаете, где это, задайте её на карте.",
        "en": "The places the alert named were not found: the area is a guess. If you know where it is, place it on the map.",
    },
    "console.place": {
        "kk": "Картада белгілеу",
        "ru": "Задать на карте",
        "en": "Place on the map",
    },
    "console.place_click": {
        "kk": "Картадан аумақтың ортасын басыңыз",
        "ru": "Щёлкните на карте центр области",
        "en": "Click the area's centre on the map",
    },
    "console.place_radius": {
        "kk": "Радиусы, км",
        "ru": "Радиус, км",
        "en": "Radius, km",
    },
    "console.place_send": {
        "kk": "Аумақты жіберу",
        "ru": "Отправить область",
        "en": "Send the area",
    },
    "console.km": {
        "kk": "{km} км",
        "ru": "{km} км",
        "en": "{km} km",
    },
    "console.standing": {
        "kk": "Тұрақты топтар (өз облысы және көршілес облыстар)",
        "ru": "Постоянные группы (своя область и соседние)",
        "en": "Standing groups (this region and its neighbours)",
    },
    "console.standing_none": {
        "kk": "Тұрақты топ жоқ",
        "ru": "Постоянных групп нет",
        "en": "No standing groups",
    },
    "console.neighbour": {
        "kk": "көршілес облыс",
        "ru": "соседняя область",
        "en": "neighbouring region",
    },
    "console.off_call": {
        "kk": "кезекшілікте емес",
        "ru": "не дежурит",
        "en": "not on call",
    },
    "console.offer.pending": {
        "kk": "шақырылды, жауап күтілуде",
        "ru": "вызван, ждём ответа",
        "en": "asked, awaiting an answer",
    },
    "console.offer.accepted": {
        "kk": "топта",
        "ru": "в группе",
        "en": "in the group",
    },
    "console.offer.declined": {
        "kk": "бас тартты",
        "ru": "отказался",
        "en": "declined",
    },
    "console.offer.timed_out": {
        "kk": "жауап бермеді",
        "ru": "не ответил",
        "en": "did not answer",
    },
    "console.offer.stood_down": {
        "kk": "шақыру қайтарылды",
        "ru": "вызов отозван",
        "en": "stood down",
    },
    "console.ask": {
        "kk": "Шақыру",
        "ru": "Вызвать",
        "en": "Ask",
    },
    "console.senders": {
        "kk": "Жіберушілер тізілімі",
        "ru": "Реестр отправителей",
        "en": "Sender registry",
    },
    "console.all_regions": {
        "kk": "барлық облыстар",
        "ru": "все регионы",
        "en": "every region",
    },
    "console.suspend": {
        "kk": "Тоқтату",
        "ru": "Приостановить",
        "en": "Suspend",
    },
    "console.suspend_reason": {
        "kk": "{sender} неге тоқтатылады?",
        "ru": "Почему приостановить {sender}?",
        "en": "Why suspend {sender}?",
    },
    "console.suspended_since": {
        "kk": "Тоқтатылған: {reason}",
        "ru": "Приостановлен: {reason}",
        "en": "Suspended: {reason}",
    },
    "console.resume": {
        "kk": "Қайта қосу",
        "ru": "Возобновить",
        "en": "Resume",
    },
    "console.refused": {
        "kk": "Қабылданбаған хабарламалар ({count})",
        "ru": "Отклонённые сообщения ({count})",
        "en": "Refused alerts ({count})",
    },
    "console.refused_none": {
        "kk": "Қабылданбаған хабарлама жоқ",
        "ru": "Отклонённых сообщений нет",
        "en": "No refused alerts",
    },
    "console.back": {
        "kk": "Оқиғаларға оралу",
        "ru": "К происшествиям",
        "en": "Back to incidents",
    },
    "console.refused_from": {
        "kk": "Жіберуші: {sender}",
        "ru": "Отправитель: {sender}",
        "en": "From: {sender}",
    },
    "console.refused_unplaced": {
        "kk": "Аймағы белгісіз",
        "ru": "Регион неизвестен",
        "en": "Region unknown",
    },
    "console.refused_message": {
        "kk": "Жіберілген хабарлама — осында түзетіңіз",
        "ru": "Сообщение как было отправлено — исправьте здесь",
        "en": "The message as sent — correct it here",
    },
    "console.resubmit": {
        "kk": "Түзетіп қайта жіберу",
        "ru": "Отправить исправленное",
        "en": "Resubmit corrected",
    },
    "console.dismiss": {
        "kk": "Кезектен алу",
        "ru": "Убрать из очереди",
        "en": "Dismiss",
    },
    "console.dismiss_confirm": {
        "kk": "Бұл хабарламаны кезектен алу керек пе? Одан оқиға ашылмайды.",
        "ru": "Убрать это сообщение из очереди? Происшествие по нему не откроется.",
        "en": "Dismiss this alert? No incident will be opened from it.",
    },
    "console.exercise": {
        "kk": "Оқу-жаттығу",
        "ru": "Учения",
        "en": "Exercise",
    },
    "group.called_off": {
        "kk": "Топ шақыруы тоқтатылады: барлығына хабарланады",
        "ru": "Сбор группы отменяется: все получат сообщение",
        "en": "The group is being called off: everyone will be told",
    },
    "member.released": {
        "kk": "Ерікті топтан босатылады; оның орнына келесі толқын дереу жоспарланады",
        "ru": "Волонтёр освобождается; на его место следующая волна планируется сразу",
        "en": "The volunteer is being released; the next wave for their place is planned at once",
    },
    "radius.widened": {
        "kk": "Радиус {km} км-ге дейін кеңейтіледі; келесі толқын дереу жоспарланады",
        "ru": "Радиус расширяется до {km} км; следующая волна планируется сразу",
        "en": "The radius is being widened to {km} km; the next wave is planned at once",
    },
    "radius.widest": {
        "kk": "Радиус ең кең шегінде (300 км)",
        "ru": "Радиус уже наибольший (300 км)",
        "en": "The radius is the widest already (300 km)",
    },
    "sender.not_found": {
        "kk": "Тізілімде мұндай жіберуші жоқ (немесе ол тоқтатылмаған)",
        "ru": "Такого отправителя нет в реестре (или он не приостановлен)",
        "en": "No such sender in the registry (or it is not suspended)",
    },
    "sender.suspended": {
        "kk": "{sender} тоқтатылды: оның хабарламалары бірнеше секундтан кейін қабылданбайды",
        "ru": "{sender} приостановлен: его сообщения перестанут приниматься через несколько секунд",
        "en": "{sender} is suspended: its messages are refused within seconds",
    },
    "sender.resumed": {
        "kk": "{sender} қайта қосылды",
        "ru": "{sender} снова принимается",
        "en": "{sender} is resumed",
    },
    "sms.unknown_number": {
        "kk": "Jedel: бұл нөмір еріктілер тізімінде жоқ.",
        "ru": "Jedel: этого номера нет среди волонтёров.",
        "en": "Jedel: this number is not a volunteer's.",
    },
    "sms.how_to_answer": {
        "kk": "Jedel: жауап: 1 — иә (және жолға минут, мысалы «1 20»), 2 — жоқ.",
        "ru": "Jedel: ответ: 1 — да (и минут в пути, например «1 20»), 2 — нет.",
        "en": "Jedel: reply 1 for yes (and minutes to get there, e.g. '1 20'), 2 for no.",
    },
    "sms.no_offer": {
        "kk": "Jedel: қазір жауап күтіп тұрған шақыру жоқ.",
        "ru": "Jedel: сейчас нет вызова, который ждёт вашего ответа.",
        "en": "Jedel: no call-out is waiting for your answer now.",
    },
    "sms.meeting_point": {
        "kk": "Жиналу орны: {lat}, {lon}",
        "ru": "Место сбора: {lat}, {lon}",
        "en": "Meeting point: {lat}, {lon}",
    },
    "sms.not_configured": {
        "kk": "SMS жауаптарын қабылдау бапталмаған",
        "ru": "Приём ответов по SMS не настроен",
        "en": "SMS replies are not configured",
    },
    "field.not_deployed": {
        "kk": "Сіз бұл шақыруда топта емессіз (қабылдамағансыз немесе босатылғансыз)",
        "ru": "Вы не в группе по этому вызову (не приняли его или вас отпустили)",
        "en": "You hold no place on this call-out (not accepted, or released)",
    },
    "refusal.not_found": {
        "kk": "Мұндай қабылданбаған хабарлама жоқ",
        "ru": "Такого отклонённого сообщения нет",
        "en": "No such refused alert",
    },
    "refusal.handled": {
        "kk": "Бұл хабарламамен басқа диспетчер айналысып қойды",
        "ru": "Этим сообщением уже занялся другой диспетчер",
        "en": "Another dispatcher has already dealt with this alert",
    },
    "refusal.not_resubmittable": {
        "kk": "Бұл хабарламаны қайта жіберуге болмайды",
        "ru": "Это сообщение нельзя отправить повторно",
        "en": "This message cannot be resubmitted",
    },
    "refusal.too_large": {
        "kk": "Түзетілген хабарлама тым үлкен (1 МБ-тан аспауы керек)",
        "ru": "Исправленное сообщение слишком большое (не более 1 МБ)",
        "en": "The corrected message is too large (1 MB at most)",
    },
    "refusal.resubmitted": {
        "kk": "Түзетілген хабарлама қайта жіберілді: оны қабылдау жүйесі қайта тексереді",
        "ru": "Исправленное сообщение отправлено: приём проверит его заново",
        "en": "The corrected message was sent: the intake will judge it again",
    },
    "refusal.dismissed": {
        "kk": "Хабарлама кезектен алынды",
        "ru": "Сообщение убрано из очереди",
        "en": "The alert was taken off the queue",
    },
    "area.closed": {
        "kk": "Оқиға жабылған: аумағын өзгертуге болмайды",
        "ru": "Происшествие закрыто: область изменить нельзя",
        "en": "The incident is closed: its area cannot be changed",
    },
    "area.not_cap": {
        "kk": "Бұл оқиғаның аумағын картадан белгілеуге болмайды (CAP хабарламасынан емес)",
        "ru": "Область этого происшествия нельзя задать на карте (оно не из сообщения CAP)",
        "en": "This incident's area cannot be placed on the map (it did not come from a CAP alert)",
    },
    "area.description": {
        "kk": "Jedel диспетчері белгілеген аумақ",
        "ru": "Область, заданная диспетчером Jedel",
        "en": "Area placed by a Jedel dispatcher",
    },
    "area.sent": {
        "kk": "Аумақ жіберілді ({km} км): оқиға жаңартылады",
        "ru": "Область отправлена ({km} км): происшествие обновится",
        "en": "The area was sent ({km} km): the incident will be updated",
    },
    "ask.not_forming": {
        "kk": "Топ қазір жиналып жатқан жоқ: ешкімді шақыруға болмайды",
        "ru": "Группа сейчас не собирается: вызвать никого нельзя",
        "en": "The group is not forming now: nobody can be asked",
    },
    "ask.role_not_open": {
        "kk": "Бұл рөлде бос орын жоқ",
        "ru": "В этой роли нет свободных мест",
        "en": "This role has no open place",
    },
    "ask.already_asked": {
        "kk": "Бұл ерікті осы оқиғаға шақырылған",
        "ru": "Этого волонтёра уже вызывали на это происшествие",
        "en": "This volunteer has been asked for this incident already",
    },
    "ask.asked": {
        "kk": "Шақыру жіберілді",
        "ru": "Вызов отправлен",
        "en": "The call-out was sent",
    },
    "ask.not_asked": {
        "kk": "Шақыру жіберілмеді",
        "ru": "Вызов не отправлен",
        "en": "No call-out was sent",
    },
    "ask.sent": {
        "kk": "Өтініш жіберілді, шешім жақында болады",
        "ru": "Запрос отправлен, решение будет вскоре",
        "en": "Sent; the decision follows shortly",
    },
    "radius.not_forming": {
        "kk": "Топ қазір жиналып жатқан жоқ: радиусты кеңейтуге болмайды",
        "ru": "Группа сейчас не собирается: радиус расширить нельзя",
        "en": "The group is not forming now: its radius cannot be widened",
    },
    "console.widen": {
        "kk": "Радиусты кеңейту",
        "ru": "Расширить радиус",
        "en": "Widen the radius",
    },
    "console.call_off": {
        "kk": "Топ шақыруын тоқтату",
        "ru": "Отменить сбор группы",
        "en": "Call the group off",
    },
    "console.call_off_confirm": {
        "kk": "Барлық шақыруды тоқтатып, топ мүшелерін қайтару керек пе?",
        "ru": "Отозвать все вызовы и отпустить участников группы?",
        "en": "Withdraw every offer and send the group's members home?",
    },
    "console.released": {
        "kk": "босатылды",
        "ru": "освобождён",
        "en": "released",
    },
    "console.release": {
        "kk": "Босату",
        "ru": "Освободить",
        "en": "Release",
    },
    "console.release_confirm": {
        "kk": "{name} топтан босатылсын ба? Оның орнына басқа адам шақырылады.",
        "ru": "Освободить {name}? На его место вызовут другого.",
        "en": "Release {name} from the group? Someone else will be asked in their place.",
    },
    "budget.raised": {
        "kk": "Шақыру лимиті {by}-ге көбейтілді; келесі толқын дереу жоспарланады",
        "ru": "Лимит вызовов увеличен на {by}; следующая волна планируется сразу",
        "en": "The offer budget is raised by {by}; the next wave is planned at once",
    },
    "link.invalid": {
        "kk": "Сілтеме жарамсыз немесе мерзімі өткен",
        "ru": "Ссылка недействительна или устарела",
        "en": "This link is not valid or has expired",
    },
    "mobilization.not_found": {
        "kk": "Бұл оқиға бойынша еріктілер шақырылмаған",
        "ru": "По этому происшествию волонтёры не вызывались",
        "en": "No volunteers were called out for this incident",
    },
    "broker.unavailable": {
        "kk": "Жауапты қазір қабылдау мүмкін емес, кейінірек қайталаңыз",
        "ru": "Сейчас не удаётся принять ответ, повторите позже",
        "en": "Your answer cannot be taken right now; please try again",
    },
}


def message(key: str, language: Language, /, **values: object) -> str:
    entry = MESSAGES[key]
    text = entry.get(language) or entry["kk"]
    return text.format(**values) if values else text


def closed(why: str, language: Language) -> str:
    """The call-out is closed, saying why (`closed.<why>`; a generic why if there is none)."""
    key = f"closed.{why}" if f"closed.{why}" in MESSAGES else "closed.withdrawn"
    return message("offer.closed", language, why=message(key, language))


def preferred_language(accept_language: str | None) -> Language:
    """The first language of `Accept-Language` (RFC 9110 weights) that Jedel speaks; else kk.

    `ru-RU,ru;q=0.9,en;q=0.8` → ru; `de, en;q=0.5` → en; `q=0` means "not this one".
    """
    weighted: list[tuple[float, int, Language]] = []
    for position, item in enumerate((accept_language or "").split(",")):
        tag, _, parameters = item.partition(";")
        primary = tag.strip().split("-")[0].casefold()
        weight = _weight(parameters)
        if weight > 0 and primary in LANGUAGES:
            weighted.append((-weight, position, _as_language(primary)))
    return min(weighted)[2] if weighted else "kk"


def _weight(parameters: str) -> float:
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().casefold() == "q":
            try:
                return float(value.strip())
            except ValueError:
                return 0.0
    return 1.0


def _as_language(code: str) -> Language:
    for language in LANGUAGES:
        if language == code:
            return language
    return "kk"
