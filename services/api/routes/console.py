"""The dispatcher's console: `/console`, a live map and the group of each incident.

A desktop page for dispatchers and coordinators (admins see every region): sign in with a username
and password, and see the regions as the basemap (no tile server: `GET /api/v1/regions`), the open
incidents of one's own regions with their areas, and per incident the group being formed (the role
fill table, the members, the offers spent and the budget, who was asked and why) with the actions
a dispatcher may take; and for dispatchers the queue of alerts the intake refused, each with why
and the message as sent, to correct and resubmit or dismiss. It listens to `GET /api/v1/live` and reads again what a change touches, so
an accepted offer shows in the table within a second or so. Leaflet (vendored, BSD-2) draws the map.
"""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from services.api.shells import page_language, shell

router = APIRouter(include_in_schema=False)

WORDS: Final = (
    "console.title",
    "console.username",
    "console.password",
    "console.map",
    "console.incidents",
    "console.no_incidents",
    "console.choose",
    "console.no_group",
    "console.group",
    "console.role",
    "console.needed",
    "console.accepted",
    "console.pending",
    "console.open_places",
    "console.filled",
    "console.members",
    "console.eta",
    "console.on_scene",
    "console.left_area",
    "console.said",
    "console.offers",
    "console.raise",
    "console.widen",
    "console.call_off",
    "console.call_off_confirm",
    "console.release",
    "console.ask",
    "console.standing",
    "console.km",
    "console.standing_none",
    "console.neighbour",
    "console.off_call",
    "console.offer.pending",
    "console.offer.accepted",
    "console.offer.declined",
    "console.offer.timed_out",
    "console.offer.stood_down",
    "console.area_to_confirm",
    "console.area_to_confirm_why",
    "console.place",
    "console.place_click",
    "console.place_radius",
    "console.place_send",
    "console.release_confirm",
    "console.released",
    "console.wave",
    "console.status.active",
    "console.status.complete",
    "console.status.closed",
    "console.why",
    "console.live",
    "console.reconnecting",
    "console.exercise",
    "console.refused",
    "console.senders",
    "console.reports",
    "console.report_from",
    "console.report_to",
    "console.report_show",
    "console.report_csv",
    "console.report_region",
    "console.report_incidents",
    "console.report_offers",
    "console.report_deployments",
    "console.report_hours",
    "console.report_active",
    "console.all_regions",
    "console.suspend",
    "console.suspend_reason",
    "console.suspended_since",
    "console.resume",
    "console.refused_none",
    "console.back",
    "console.refused_from",
    "console.refused_unplaced",
    "console.refused_message",
    "console.resubmit",
    "console.dismiss",
    "console.dismiss_confirm",
    "console.title",
    "console.title.dispatcher",
    "console.title.coordinator",
    "console.title.analyst",
    "console.title.admin",
    "app.sign_in",
    "app.sign_out",
    "priority.critical",
    "priority.high",
    "priority.medium",
    "priority.low",
)


@router.get("/console", response_class=HTMLResponse)
async def dispatcher_console(request: Request, lang: str | None = None) -> HTMLResponse:
    return shell(
        language=page_language(request, lang),
        title_key="console.title",
        keys=WORDS,
        script="/static/console/console.js",
        stylesheets=("/static/leaflet/leaflet.css", "/static/console/console.css"),
        head=(
            '<link rel="icon" href="/static/app/icon.svg">'
            '<script src="/static/leaflet/leaflet.js" defer></script>'
        ),
        body=(
            '<header class="bar"><h1>{title}</h1><span id="who"></span>'
            '<span id="live" role="status"></span><span id="refusals"></span>'
            '<span id="actions"></span></header>'
            '<main id="main"><div id="map"></div>'
            '<aside id="panel" aria-live="polite"></aside></main>'
        ),
    )
