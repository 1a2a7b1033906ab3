"""The page an SMS call-out links to: `/r/{token}`, to read the call-out and answer with one tap.

Made for a basic phone on one bar of signal: one small HTML page, no script, no external asset.
Two plain forms post the answer to `/r/{token}/accept` or `/decline`, which is decided exactly
as `POST /api/v1/offers/{id}/accept|decline` decides it; the outcome comes back as a page with a
link to the call-out. In the language of the offer (the volunteer's), `?lang=kk|ru|en` to switch.
The token (`shared.answer_links`) is signed for the volunteer and the offer and expires; it is the
only credential the page takes, and it never appears in the logs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.api import callouts, messages
from services.api.answers import Decided, OfferState, Refused, settled
from services.api.auth.deps import clock
from services.api.callouts import OfferCard
from services.api.deps import PublisherDep, SessionmakerDep, SettingsDep
from services.api.errors import BrokerUnavailable
from services.api.routes.offers import decide
from services.api.schemas import OfferAnswer
from shared import answer_links
from shared.events.mobilization import Answer, MobilizationStatus, OfferStatus
from shared.i18n import LANGUAGES, ROLE_NAMES, Language
from shared.reference import KAZAKHSTAN_TZ

router = APIRouter(include_in_schema=False)

LANGUAGE_NAMES: Final[dict[Language, str]] = {"kk": "Қазақша", "ru": "Русский", "en": "English"}
_STYLE = (
    "body{font:18px/1.4 sans-serif;margin:1em auto;max-width:30em;padding:0 .6em}"
    "h1{font-size:1.3em}button{font-size:1.1em;width:100%;padding:.8em;margin:.3em 0;"
    "border:0;border-radius:.3em}.yes{background:#1b6e35;color:#fff}.no{background:#ddd}"
    ".drill{color:#a00;font-weight:bold}nav{margin-top:1.5em}nav a{margin-right:1em}"
)


@router.get("/r/{token}", response_class=HTMLResponse)
async def answer_page(
    request: Request,
    token: str,
    sessionmaker: SessionmakerDep,
    settings: SettingsDep,
    lang: str | None = None,
) -> HTMLResponse:
    card = await _card(sessionmaker, token, secret=settings.secret_key, now=clock(request))
    if card is None:
        return _missing(_language(lang, None), link=token)
    language = _language(lang, card)
    open_ = (
        card.state.status == OfferStatus.PENDING
        and card.state.mobilization_status == MobilizationStatus.ACTIVE
    )
    note = None if open_ else state_note(card.state, language)
    return render_page(card, language, note=note, link=token)


@router.post("/r/{token}/accept", response_class=HTMLResponse)
async def accept_from_page(
    request: Request,
    token: str,
    sessionmaker: SessionmakerDep,
    publisher: PublisherDep,
    settings: SettingsDep,
    lang: str | None = None,
) -> HTMLResponse:
    return await _answered(request, token, Answer.ACCEPT, sessionmaker, publisher, settings, lang)


@router.post("/r/{token}/decline", response_class=HTMLResponse)
async def decline_from_page(
    request: Request,
    token: str,
    sessionmaker: SessionmakerDep,
    publisher: PublisherDep,
    settings: SettingsDep,
    lang: str | None = None,
) -> HTMLResponse:
    return await _answered(request, token, Answer.DECLINE, sessionmaker, publisher, settings, lang)


async def _answered(
    request: Request,
    token: str,
    answer: Answer,
    sessionmaker: async_sessionmaker[AsyncSession],
    publisher: PublisherDep,
    settings: SettingsDep,
    lang: str | None,
) -> HTMLResponse:
    back = f"../{token}"  # from /r/{token}/accept back to /r/{token}, whatever the prefix
    card = await _card(sessionmaker, token, secret=settings.secret_key, now=clock(request))
    if card is None:
        return _missing(_language(lang, None), link=back)
    language = _language(lang, card)
    try:
        _, outcome = await decide(
            card.state.offer_id,
            answer,
            OfferAnswer(),
            volunteer_id=card.state.volunteer_id,
            sessionmaker=sessionmaker,
            publisher=publisher,
            settings=settings,
            channel="sms_page",
            known=card.state,
        )
    except BrokerUnavailable:
        note, code = messages.message("broker.unavailable", language), 503
    else:
        if isinstance(outcome, Refused):
            note, code = outcome.describe(language), 409
        elif isinstance(outcome, Decided):
            note, code = messages.message(f"offer.{outcome.status}", language), 200
        else:
            note, code = messages.message("offer.pending", language), 202
    return render_page(card, language, note=note, link=back, code=code)


async def _card(
    sessionmaker: async_sessionmaker[AsyncSession], token: str, *, secret: str, now: datetime
) -> OfferCard | None:
    """The call-out a token opens; None for a malformed, forged or expired token alike."""
    try:
        claim = answer_links.read(token)
    except answer_links.InvalidLink:
        return None
    async with sessionmaker() as session:
        card = await callouts.offer_card(session, claim.offer_id)
    if card is None:
        return None
    try:
        answer_links.verify(secret, claim, volunteer_id=card.state.volunteer_id, now=now)
    except answer_links.InvalidLink:
        return None
    return card


def _language(asked: str | None, card: OfferCard | None) -> Language:
    """`?lang=` if Jedel speaks it, else the offer's language, else kk."""
    for choice in (asked, card.language if card else None):
        for language in LANGUAGES:
            if choice == language:
                return language
    return "kk"


def state_note(state: OfferState, language: Language) -> str:
    if state.status == OfferStatus.ACCEPTED and state.closed_reason:
        return messages.closed(state.closed_reason, language)  # the incident ended since
    if state.status in (OfferStatus.ACCEPTED, OfferStatus.DECLINED):
        return messages.message(f"offer.{state.status}", language)
    refused = settled(state, Answer.ACCEPT)
    if isinstance(refused, Refused):
        return refused.describe(language)
    return messages.closed("mobilization_ended", language)  # open, but its group is no more


def render_page(
    card: OfferCard, language: Language, *, note: str | None, link: str, code: int = 200
) -> HTMLResponse:
    """The call-out; its answer buttons when `note` is None, else the note. `link` is the
    call-out page's address relative to this one."""
    state, say = card.state, messages.message
    expires_at = state.expires_at or datetime.now(UTC)
    answer_by = expires_at.astimezone(KAZAKHSTAN_TZ).strftime("%H:%M")
    parts = [
        f'<p class="drill">{escape(say("page.exercise", language))}</p>'
        if card.is_exercise
        else "",
        f"<h1>{escape(card.headline_in(language) or say('page.title', language))}</h1>",
        f"<p>{escape(say('page.role', language, role=ROLE_NAMES[state.role][language]))}</p>",
        f"<p>{escape(say('page.eta', language, minutes=max(1, round(state.eta_s / 60))))}</p>",
    ]
    if note is None:
        parts.append(f"<p>{escape(say('page.answer_by', language, time=answer_by))}</p>")
        for answer, style, label in (
            ("accept", "yes", "page.accept"),
            ("decline", "no", "page.decline"),
        ):
            parts.append(
                f'<form method="post" action="{link}/{answer}?lang={language}">'
                f'<button class="{style}">{escape(say(label, language))}</button></form>'
            )
    else:
        parts.append(f'<p role="status"><b>{escape(note)}</b></p>')
        parts.append(
            f'<p><a href="{link}?lang={language}">{escape(say("page.again", language))}</a></p>'
        )
    return _html(language, say("page.title", language), "".join(parts), link, code)


def _missing(language: Language, *, link: str) -> HTMLResponse:
    body = f'<p role="status"><b>{escape(messages.message("link.invalid", language))}</b></p>'
    return _html(language, messages.message("page.title", language), body, link, 404)


def _html(language: Language, title: str, body: str, link: str, code: int) -> HTMLResponse:
    switch = "".join(
        f'<a href="{link}?lang={other}" hreflang="{other}">{LANGUAGE_NAMES[other]}</a>'
        for other in LANGUAGES
        if other != language
    )
    return HTMLResponse(
        f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{body}<nav>{switch}</nav></body></html>",
        status_code=code,
        headers={"Content-Language": language, "Cache-Control": "no-store"},
    )
