"""`GET /api/v1/live`: a server-sent event stream of what changes, for maps and tables.

Each `change` event names an incident and what happened to it (`kind`), nothing personal: the
browser reads what it may see of the incident from the other routes. Anyone hears of incidents
opening, changing and ending; the operators of an incident's regions also hear of its group. A
`resync` event means changes were lost: read everything again. A signed-in stream ends (event
`signed-out`) once its session is revoked or has expired. Every stream ends after
`api.live_max_s` and the browser opens it again (and should read everything again then: changes
made while it reconnected are not repeated).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from services.api.auth import accounts
from services.api.auth.deps import CallerDep, clock
from services.api.auth.principals import Principal
from services.api.live import LiveHub
from services.api.settings import ApiSettings
from shared.live import LiveChange

router = APIRouter(prefix="/api/v1", tags=["live"])

HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
SUBSCRIBED_WAIT_S = 3.0


@router.get(
    "/live",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Server-sent events"}},
    summary="Live changes to incidents and groups (server-sent events)",
)
async def live(request: Request, caller: CallerDep) -> StreamingResponse:
    hub: LiveHub = request.app.state.live
    settings: ApiSettings = request.app.state.settings
    return StreamingResponse(
        _stream(
            request,
            hub,
            caller,
            keepalive_s=settings.api.live_keepalive_s,
            max_s=settings.api.live_max_s,
        ),
        media_type="text/event-stream",
        headers=HEADERS,
    )


async def _stream(
    request: Request,
    hub: LiveHub,
    caller: Principal | None,
    *,
    keepalive_s: float,
    max_s: float,
) -> AsyncIterator[str]:
    ends_at = time.monotonic() + max_s
    with hub.listen(caller) as listener:
        # The stream opens once this process hears the channel (just after it started, it may
        # not yet): a browser shown "live" misses nothing. Without Redis it opens all the same,
        # and is told to read afresh when Redis is back.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(hub.subscribed.wait(), timeout=SUBSCRIBED_WAIT_S)
        yield "retry: 1000\n\n"
        while (left := ends_at - time.monotonic()) > 0:
            try:
                item = await asyncio.wait_for(listener.queue.get(), timeout=min(keepalive_s, left))
            except TimeoutError:
                if caller is not None and not await _still_signed_in(request, caller):
                    yield "event: signed-out\ndata: {}\n\n"
                    return
                yield ": keep-alive\n\n"
                continue
            if not isinstance(item, LiveChange):
                yield "event: resync\ndata: {}\n\n"
                continue
            body = {
                "kind": item.kind,
                "incident_id": str(item.incident_id),
                "occurred_at": item.occurred_at.isoformat(),
            }
            yield f"id: {item.event_id}\nevent: change\ndata: {json.dumps(body)}\n\n"


async def _still_signed_in(request: Request, caller: Principal) -> bool:
    async with request.app.state.sessionmaker() as session:
        return await accounts.session_alive(session, caller, now=clock(request))
