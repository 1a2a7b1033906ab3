"""What the API tells volunteers and dispatchers, in Kazakh, Russian and English (kk first),
kept in gettext catalogues (`services/api/locale`, Babel) and looked up by key.

The language comes from `Accept-Language` (`preferred_language`); anything Jedel does not speak
gets Kazakh. A closed call-out is told as "this call-out is closed: <why>", the why chosen from the
offer's state and, for a withdrawn offer, its `closed_reason`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from shared.i18n import LANGUAGES, Language, load_catalogue

Texts = dict[Language, str]

# Every wording by key, from the gettext catalogues beside this module (`locale/<kk|ru|en>/
# LC_MESSAGES/api.po`).
MESSAGES: Final[dict[str, Texts]] = load_catalogue(Path(__file__).with_name("locale"), "api")


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
