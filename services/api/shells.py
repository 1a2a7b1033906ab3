"""The HTML shells of Jedel's pages (`/app`, `/console`): one small page in the reader's language
with its words inlined as JSON and one external script (the content security policy allows no
inline script); everything the page shows it reads from the API, under the reader's own access."""

from __future__ import annotations

import json
from collections.abc import Iterable

from fastapi import Request
from fastapi.responses import HTMLResponse

from services.api import messages
from services.api.messages import preferred_language
from shared.i18n import CATALOGUE, LANGUAGES, ROLE_NAMES, Language


def words(keys: Iterable[str], language: Language) -> dict[str, str]:
    """The page's words in `language` (the API's messages, else the shared catalogue), with `{placeholders}` left for the script to fill, and
    every role's name (`role.<role>`)."""
    said = {}
    for key in keys:
        texts = messages.MESSAGES.get(key) or CATALOGUE[key]
        said[key] = texts.get(language) or texts["kk"]
    said.update({f"role.{role}": names[language] for role, names in ROLE_NAMES.items()})
    return said


def page_language(request: Request, asked: str | None) -> Language:
    """`?lang=` when it is one of ours, else the browser's preference, else Kazakh."""
    for language in LANGUAGES:
        if asked == language:
            return language
    return preferred_language(request.headers.get("accept-language"))


def shell(
    *,
    language: Language,
    title_key: str,
    keys: Iterable[str],
    script: str,
    stylesheets: Iterable[str],
    head: str = "",
    body: str,
) -> HTMLResponse:
    inlined = json.dumps(words(keys, language), ensure_ascii=False).replace("<", "\\u003c")
    title = messages.message(title_key, language)
    links = "".join(f'<link rel="stylesheet" href="{href}">' for href in stylesheets)
    page = (
        f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{title}</title>{head}{links}"
        f'<script type="application/json" id="words">{inlined}</script>'
        f'<script src="{script}" defer></script></head>'
        f"<body>{body.format(title=title)}</body></html>"
    )
    return HTMLResponse(page, headers={"Cache-Control": "no-cache", "Content-Language": language})
