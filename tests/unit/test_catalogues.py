"""The gettext catalogues every user-facing word comes from: each key in Kazakh, Russian and
English, with the same placeholders, and a wording missing in one language falling back to Kazakh."""

from __future__ import annotations

import string
import textwrap
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from services.api.messages import MESSAGES
from shared.i18n import CATALOGUE, LANGUAGES, load_catalogue

ROOT = Path(__file__).resolve().parents[2]
DOMAINS = {
    "jedel": ROOT / "shared" / "locale",
    "api": ROOT / "services" / "api" / "locale",
}
LOADED = {"jedel": CATALOGUE, "api": MESSAGES}


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


@pytest.mark.parametrize("domain", sorted(DOMAINS))
def test_every_key_is_in_every_language_with_the_same_placeholders(domain: str) -> None:
    words = LOADED[domain]
    assert len(words) > 40, "the catalogue came out (nearly) empty: the loading is wrong"
    for key, texts in words.items():
        assert set(texts) == set(LANGUAGES), f"{domain}: {key} lacks {set(LANGUAGES) - set(texts)}"
        kazakh = _placeholders(texts["kk"])
        for language, text in texts.items():
            assert _placeholders(text) == kazakh, f"{domain}: {key} in {language}: {text!r}"


@pytest.mark.parametrize("domain", sorted(DOMAINS))
def test_the_three_files_of_a_domain_hold_the_same_keys(domain: str) -> None:
    keys = []
    for language in LANGUAGES:
        path = DOMAINS[domain] / language / "LC_MESSAGES" / f"{domain}.po"
        with path.open("rb") as po:
            catalog = read_po(po, locale=language)
        assert catalog.locale is not None and str(catalog.locale) == language
        keys.append({entry.id for entry in catalog if entry.id})
    assert keys[0] == keys[1] == keys[2]


def test_a_wording_missing_in_one_language_is_left_to_kazakh(tmp_path: Path) -> None:
    for language, text in (("kk", "Сәлем"), ("ru", ""), ("en", "Hello")):
        folder = tmp_path / language / "LC_MESSAGES"
        folder.mkdir(parents=True)
        (folder / "test.po").write_text(
            textwrap.dedent(
                f"""\
                msgid ""
                msgstr ""
                "Content-Type: text/plain; charset=utf-8\\n"

                msgid "greeting"
                msgstr "{text}"
                """
            ),
            encoding="utf-8",
        )
    assert load_catalogue(tmp_path, "test") == {"greeting": {"kk": "Сәлем", "en": "Hello"}}
