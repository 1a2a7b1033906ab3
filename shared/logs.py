"""Logs: one JSON object a line in production, plain text on a terminal, and never a phone number
(nor an answer link's token).

Every line says which service wrote it and, while a consumer handles a message, the incident and
the event it is about (`incident_id`, `event_id`, from context variables the consumer sets), so
one incident's story can be followed across services. Phone numbers are masked in the message,
its arguments, extra fields and tracebacks before anything is written.

Standard library only: `configure_logging` installs one handler on the root logger, with the
filters on the handler, so records from every library pass through them.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Final

INCIDENT_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "jedel_incident_id", default=None
)
EVENT_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "jedel_event_id", default=None
)

MASK: Final = "[phone]"
# Kazakhstan's numbers as people write them: +7 701 123 4567, 8 (701) 123-45-67, 87011234567,
# 77011234567; and any other number in international form (+ and 8 to 15 digits).
_SEP = r"[\s\-.()]*"
PHONE = re.compile(
    rf"(?<![\w+])(?:\+{_SEP}7|7|8){_SEP}\(?\d{{3}}\)?{_SEP}\d{{3}}{_SEP}\d{{2}}{_SEP}\d{{2}}(?!\w)"
    rf"|(?<![\w+])\+{_SEP}\d(?:{_SEP}\d){{7,14}}(?!\w)"
)


# An answer link's token (`/r/<40 characters>`, shared.answer_links) answers an offer: a log line
# that held one would hand the offer to whoever reads the logs.
LINK_MASK: Final = "/r/[token]"
ANSWER_LINK = re.compile(r"/r/[A-Za-z0-9_-]{40}(?![A-Za-z0-9_-])")


def mask_sensitive(text: str) -> str:
    """The text with phone numbers and answer-link tokens masked."""
    return ANSWER_LINK.sub(LINK_MASK, PHONE.sub(MASK, text))


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_sensitive(value)
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_masked(item) for item in value)
    return value


@contextlib.contextmanager
def message_context(*, incident_id: str | None, event_id: str | None) -> Iterator[None]:
    """What every line logged inside says it is about (restored on the way out)."""
    incident = INCIDENT_ID.set(incident_id)
    event = EVENT_ID.set(event_id)
    try:
        yield
    finally:
        EVENT_ID.reset(event)
        INCIDENT_ID.reset(incident)


# The attributes every LogRecord has; anything else on a record came in through `extra=`.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "service",
    "incident_id",
    "event_id",
}


class ContextFilter(logging.Filter):
    """Stamps `service`, and the `incident_id`/`event_id` in context unless the call gave its own."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        if getattr(record, "incident_id", None) is None:
            record.incident_id = INCIDENT_ID.get()
        if getattr(record, "event_id", None) is None:
            record.event_id = EVENT_ID.get()
        return True


class PhoneMaskFilter(logging.Filter):
    """Renders the message with its arguments, masks phone numbers in it and in extra fields."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep what there is, masked
            message = f"{record.msg} {record.args}"
        record.msg = mask_sensitive(message)
        record.args = None
        for name, value in list(vars(record).items()):
            if name not in _STANDARD and isinstance(value, str | dict | list | tuple):
                setattr(record, name, _masked(value))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, service, incident_id, event_id,
    any extra fields, and the traceback, if any (masked too)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": mask_sensitive(record.getMessage()),
            "service": getattr(record, "service", None),
        }
        for name in ("incident_id", "event_id"):
            if (value := getattr(record, name, None)) is not None:
                entry[name] = str(value)
        for name, value in vars(record).items():
            if name not in _STANDARD and name not in entry:
                entry[name] = _masked(value)
        if record.exc_info:
            entry["exception"] = mask_sensitive(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exception"] = mask_sensitive(record.exc_text)
        if record.stack_info:
            entry["stack"] = mask_sensitive(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The terminal's line, with the incident it is about when there is one; tracebacks masked."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(service)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        if (incident := getattr(record, "incident_id", None)) is not None:
            line += f" [incident {incident}]"
        return mask_sensitive(line)


def build_handler(service: str, *, json_lines: bool) -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ContextFilter(service))
    handler.addFilter(PhoneMaskFilter())
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    return handler


def configure_logging(service: str, *, level: str = "INFO", json_lines: bool = False) -> None:
    """The root logger writes through one masked handler; what was there before goes."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(build_handler(service, json_lines=json_lines))
    root.setLevel(level)
    # FastStream's and uvicorn's loggers come with handlers of their own that print past the
    # masking: they propagate to this one instead. FastStream makes its logger when imported.
    with contextlib.suppress(ImportError):
        import faststream  # noqa: F401
    for name in ("faststream", "uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
