"""What the API refuses, as typed exceptions; `main` maps each to its HTTP answer."""

from __future__ import annotations

from uuid import UUID


class IncidentNotFound(LookupError):  # noqa: N818 - the name STYLE.md gives it
    def __init__(self, incident_id: UUID) -> None:
        super().__init__(f"incident {incident_id} not found")
        self.incident_id = incident_id


class InvalidQueryError(ValueError):
    """A query parameter that passed type checks but means nothing (a bbox inside out, say)."""
