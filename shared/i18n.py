"""User-facing wording in Kazakh, Russian and English (kk first); lookups fall back to kk."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Final, Literal

from babel.messages.pofile import read_po

Language = Literal["kk", "ru", "en"]
LANGUAGES: Final[tuple[Language, ...]] = ("kk", "ru", "en")

# Words by key, from the gettext catalogues beside this file (`locale/<kk|ru|en>/LC_MESSAGES/
# jedel.po`, Babel's format: translators' tools read and write them).
CATALOGUE: Final[dict[str, dict[Language, str]]] = {}  # filled below, once `load_catalogue` exists


@functools.lru_cache(maxsize=256)
def normalize_language(tag: str | None) -> Language:
    """`kk-KZ` → `kk`; anything Jedel does not speak → `kk`. (Cached: every rendered line of an
    explanation asks, thousands per wave.)"""
    primary = (tag or "").split("-")[0].strip().casefold()
    return primary if primary in LANGUAGES else "kk"


def translate(key: str, language: str | None = None, /, **values: object) -> str:
    entry = CATALOGUE[key]
    text = entry.get(normalize_language(language)) or entry["kk"]
    return text.format(**values) if values else text


def load_catalogue(directory: Path, domain: str) -> dict[str, dict[Language, str]]:
    """Every key of a gettext domain with its wording in each language (`<directory>/<language>/
    LC_MESSAGES/<domain>.po`); a wording left empty in a language is left out (lookups then fall
    back to Kazakh)."""
    words: dict[str, dict[Language, str]] = {}
    for language in LANGUAGES:
        with (directory / language / "LC_MESSAGES" / f"{domain}.po").open("rb") as po:
            catalog = read_po(po, locale=language)
        for entry in catalog:
            key, text = entry.id, entry.string
            if isinstance(key, str) and key and isinstance(text, str) and text:
                words.setdefault(key, {})[language] = text
    return words


CATALOGUE.update(load_catalogue(Path(__file__).with_name("locale"), "jedel"))


def words_under(prefix: str) -> dict[str, dict[Language, str]]:
    """The catalogue's entries whose keys start with `prefix`, keyed by the rest of the key."""
    return {
        key.removeprefix(prefix): texts
        for key, texts in CATALOGUE.items()
        if key.startswith(prefix)
    }


# Roles, keyed by `Role` values (`role.<value>` in the catalogue): the one wording everyone reads
# — volunteers in call-outs (SMS, the answer page), dispatchers in explanations. Lower case: it
# sits inside sentences; "4x4" with a Latin x, so an English SMS stays in the GSM alphabet.
ROLE_NAMES: Final[dict[str, dict[Language, str]]] = words_under("role.")
