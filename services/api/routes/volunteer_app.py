"""The volunteer's app: `/app`, an installable page for a phone on a poor connection.

One small HTML page in the volunteer's language (`?lang=kk|ru|en`, else `Accept-Language`, else
Kazakh) with its words inlined as JSON, one script (`/static/app/app.js`) and a service worker
(`/app/sw.js`, scoped to `/app`) that keeps the page available offline. The script signs in with
a phone number and a one-time code, lists `GET /api/v1/me/offers`, and answers with
`POST /api/v1/offers/{id}/accept|decline`; an answer tapped without signal is kept on the phone and
sent once the signal returns (an answer to an offer is idempotent: a second one changes nothing).
No map tiles, no framework: the first load is the page, the script and the manifest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.api.shells import page_language, shell

router = APIRouter(include_in_schema=False)

STATIC = Path(__file__).resolve().parent.parent / "static" / "app"
WORDS: Final = (
    "app.title",
    "app.phone",
    "app.send_code",
    "app.code",
    "app.sign_in",
    "app.sign_out",
    "app.no_offers",
    "app.distance",
    "app.time_left",
    "app.meeting_point",
    "app.queued",
    "app.offline",
    "app.me",
    "app.off_duty",
    "app.quiet_from",
    "app.quiet_to",
    "app.quiet_note",
    "app.save",
    "app.saved",
    "app.location",
    "app.certificates",
    "app.no_certificates",
    "app.cert.valid",
    "app.cert.expiring",
    "app.cert.expired",
    "app.cert.not_yet",
    "app.field.now",
    "app.field.en_route",
    "app.field.on_scene",
    "app.field.left_area",
    "app.say.en_route",
    "app.say.on_scene",
    "app.say.left_area",
    "app.sharing",
    "auth.code_sent",
    "page.exercise",
    "page.role",
    "page.eta",
    "page.accept",
    "page.decline",
    "offer.accepted",
    "offer.declined",
    "offer.pending",
)


@router.get("/app", response_class=HTMLResponse)
async def volunteer_app(request: Request, lang: str | None = None) -> HTMLResponse:
    return shell(
        language=page_language(request, lang),
        title_key="app.title",
        keys=WORDS,
        script="/static/app/app.js",
        stylesheets=("/static/app/app.css",),
        head=(
            '<link rel="manifest" href="/static/app/manifest.webmanifest">'
            '<meta name="theme-color" content="#1b6e35">'
        ),
        body=(
            '<header><h1>{title}</h1><p id="signal" role="status" hidden></p></header>'
            '<main id="main" aria-live="polite"></main>'
        ),
    )


@router.get("/app/sw.js")
async def service_worker() -> Response:
    """Served under `/app` so that its scope is the app."""
    return Response(
        (STATIC / "sw.js").read_bytes(),
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache"},
    )
