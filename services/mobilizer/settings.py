"""The mobilizer's knobs, on top of the shared settings (`JEDEL_MOBILIZER__…`)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from shared.settings import Settings


class MobilizerOptions(BaseModel):
    group_id: str = "jedel-mobilizer"
    # Incidents (and answers) of one fetch are handled side by side, one lane per incident, this
    # many at a time: while one waits for the database another computes. Ordered per incident.
    concurrency: int = Field(default=4, ge=1, le=32)
    batch_size: int = Field(default=32, ge=1, le=500)
    # How often the durable timers (offer timeouts, due waves) are looked at.
    sweep_interval_s: float = Field(default=1.0, gt=0)
    candidates_per_role: int = Field(default=100, ge=10, le=5000)
    max_callouts_per_day: int = 2
    max_callouts_per_week: int = 5
    max_offers_per_day: int = 3
    max_offers_per_week: int = 5
    rest_hours_after_long_deployment: float = 12.0
    long_deployment_hours: float = 8.0
    detour_factor: float = Field(default=1.3, ge=1.0)
    live_positions_timeout_s: float = Field(default=0.3, gt=0)
    max_attempts: int = Field(default=5, ge=1)
    retry_backoff_s: float = Field(default=0.5, ge=0)


class MobilizerSettings(Settings):
    mobilizer: MobilizerOptions = Field(default_factory=MobilizerOptions)
