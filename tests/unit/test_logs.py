"""Logs say who wrote them and what about, as JSON in production, and never hold a phone number."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator

import pytest

from shared.logs import (
    MASK,
    ContextFilter,
    JsonFormatter,
    PhoneMaskFilter,
    TextFormatter,
    configure_logging,
    mask_sensitive,
    message_context,
)
from shared.settings import Settings


@pytest.mark.parametrize(
    "phone",
    [
        "+7 701 123 4567",
        "+77011234567",
        "87011234567",
        "77011234567",
        "8 (701) 123-45-67",
        "+7 (727) 250-12-34",
        "8-701-123-45-67",
        "+44 20 7946 0958",
        "+996 555 123 456",
    ],
)
def test_phone_numbers_are_masked_however_they_are_written(phone: str) -> None:
    assert mask_sensitive(f"sent to {phone}, ok") == f"sent to {MASK}, ok"


@pytest.mark.parametrize(
    "text",
    [
        "incident 6f1c2d9e-8701-4123-9456-701123456789 opened",
        "alerts.cap.v1/1@1234 failed",
        "took 12.5 s at 2026-04-02T10:11:12+05:00",
        "volunteer 3a7b0c1d-0000-4000-8000-000000000001 accepted",
        "listening on 127.0.0.1:9101",
        "100000 volunteers seeded",
    ],
)
def test_ids_times_offsets_and_counts_are_left_alone(text: str) -> None:
    assert mask_sensitive(text) == text


def _record(msg: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("jedel.test", logging.WARNING, __file__, 1, msg, args, None)
    for name, value in extra.items():
        setattr(record, name, value)
    return record


def _through_filters(record: logging.LogRecord, service: str = "notifier") -> logging.LogRecord:
    assert ContextFilter(service).filter(record)
    assert PhoneMaskFilter().filter(record)
    return record


def test_a_phone_in_the_arguments_or_extra_fields_is_masked() -> None:
    record = _through_filters(
        _record(
            "sms to %s failed: %r", "+77011234567", {"to": "87011234567"}, to="+7 701 123 45 67"
        )
    )
    entry = json.loads(JsonFormatter().format(record))
    assert "7011234567" not in json.dumps(entry)
    assert entry["message"] == f"sms to {MASK} failed: {{'to': '{MASK}'}}"
    assert entry["to"] == MASK


def test_a_phone_in_a_traceback_is_masked() -> None:
    try:
        raise ValueError("gateway refused +77011234567")
    except ValueError:
        record = logging.LogRecord(
            "jedel.test", logging.ERROR, __file__, 1, "failed", None, sys.exc_info()
        )
    _through_filters(record)
    entry = json.loads(JsonFormatter().format(record))
    assert "ValueError" in entry["exception"]
    assert "7011234567" not in entry["exception"]
    assert "7011234567" not in TextFormatter().format(record)


def test_json_lines_carry_service_incident_and_event_from_the_context() -> None:
    with message_context(incident_id="inc-1", event_id="evt-1"):
        record = _through_filters(_record("wave %d sent", 2, dead_letter_code="x"), "mobilizer")
    entry = json.loads(JsonFormatter().format(record))
    assert entry["service"] == "mobilizer"
    assert entry["incident_id"] == "inc-1"
    assert entry["event_id"] == "evt-1"
    assert entry["message"] == "wave 2 sent"
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "jedel.test"
    assert entry["time"].endswith("+00:00")
    assert entry["dead_letter_code"] == "x"


def test_outside_a_message_there_is_no_incident_and_a_given_one_wins() -> None:
    record = _through_filters(_record("started"))
    entry = json.loads(JsonFormatter().format(record))
    assert entry["service"] == "notifier"
    assert "incident_id" not in entry and "event_id" not in entry
    with message_context(incident_id="from-context", event_id=None):
        record = _through_filters(_record("sent", incident_id="given"))
    assert json.loads(JsonFormatter().format(record))["incident_id"] == "given"


def test_the_context_is_restored_after_a_message() -> None:
    with message_context(incident_id="outer", event_id="e1"):
        with message_context(incident_id="inner", event_id="e2"):
            pass
        record = _through_filters(_record("x"))
    assert (getattr(record, "incident_id", None), getattr(record, "event_id", None)) == (
        "outer",
        "e1",
    )


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


@pytest.mark.usefixtures("restore_root")
def test_configure_logging_writes_masked_json_for_every_logger() -> None:
    configure_logging("intake", level="INFO", json_lines=True)
    [handler] = logging.getLogger().handlers
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    handler.setStream(stream)
    logging.getLogger("some.library").info("call %s", "8 701 123 45 67")
    logging.getLogger("faststream").info("app started")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["message"] for line in lines] == [f"call {MASK}", "app started"]
    assert {line["service"] for line in lines} == {"intake"}


def test_json_in_production_or_when_asked_text_otherwise() -> None:
    assert Settings(environment="production", secret_key="s").json_logs
    assert Settings(environment="development", log_format="json").json_logs
    assert not Settings(environment="development").json_logs
    assert not Settings(environment="production", secret_key="s", log_format="text").json_logs


def test_answer_link_tokens_are_masked_like_phones() -> None:
    token = "Ab3_-" * 8  # 40 URL-safe characters, as shared.answer_links makes them
    line = f'"GET /r/{token}?lang=kk HTTP/1.1" 200; call +7 701 123 45 67'
    masked = mask_sensitive(line)
    assert token not in masked
    assert "/r/[token]?lang=kk" in masked
    assert "[phone]" in masked
    assert mask_sensitive("/r/short") == "/r/short", "only a token's shape is masked"
