"""A stand-in SMS gateway over HTTP on a free local port, for the notifier's tests and bench."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.broker import free_port


@dataclass
class GatewayRequest:
    to: str
    text: str
    reference: str
    authorization: str | None
    received_at: float = 0.0  # monotonic
    answered_at: float | None = None


class FakeSmsGateway:
    """An SMS gateway over HTTP on a free local port, keeping the contract of `channels.py`.

    Records every request, when it came and when it was answered; answers 200 unless told
    otherwise per phone number, or 503 to everyone while `down`, after the delay set for the
    number (`slow`); a reference it has accepted is never "sent" twice.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.down = False
        self.requests: list[GatewayRequest] = []
        self.sent: dict[str, str] = {}  # reference → message id
        self._answers: dict[str, deque[tuple[int, dict[str, Any]]]] = {}
        self._delays: dict[str, float] = {}
        self._by_phone: dict[str, list[GatewayRequest]] = {}
        self._lock = threading.Lock()
        app = FastAPI()
        app.add_api_route("/messages", self._receive, methods=["POST"])
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self._thread = threading.Thread(target=self.server.run, name="fake-sms-gateway")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answer(self, phone: str, *answers: tuple[int, dict[str, Any]]) -> None:
        with self._lock:
            self._answers[phone] = deque(answers)

    def slow(self, phone: str, seconds: float) -> None:
        """Answer this number's requests only after `seconds` (a gateway under load)."""
        with self._lock:
            self._delays[phone] = seconds

    def requests_to(self, phone: str) -> list[GatewayRequest]:
        with self._lock:
            return list(self._by_phone.get(phone, ()))

    async def _receive(self, request: Request) -> JSONResponse:
        body = await request.json()
        received = GatewayRequest(
            body["to"],
            body["text"],
            body["reference"],
            request.headers.get("authorization"),
            received_at=time.monotonic(),
        )
        with self._lock:
            self.requests.append(received)
            self._by_phone.setdefault(received.to, []).append(received)
            delay_s = self._delays.get(received.to, 0.0)
        if delay_s:
            await asyncio.sleep(delay_s)
        with self._lock:
            received.answered_at = time.monotonic()
            queued = self._answers.get(received.to)
            if self.down:
                status, answer = 503, {"error": "maintenance"}
            else:
                status, answer = queued.popleft() if queued else (200, {})
            if 200 <= status < 300:
                message_id = self.sent.setdefault(received.reference, f"gw-{len(self.sent) + 1}")
                answer = {"id": message_id}
        return JSONResponse(answer, status_code=status)

    def start(self) -> FakeSmsGateway:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the fake SMS gateway did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=5)
