"""The tracker's knobs, on top of the shared settings (`JEDEL_TRACKER__…`)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from shared.settings import Settings


class TrackerOptions(BaseModel):
    group_id: str = "jedel-tracker"
    # The live feed's group: incidents and mobilisation events relayed to browsers. It starts at
    # the newest event (a map is drawn from the API; only changes after it opens matter).
    live_group_id: str = "jedel-tracker-live"
    # Fixes older than this are forgotten (matching stops trusting them much sooner).
    keep_hours: float = Field(default=6.0, gt=0)
    forget_every_s: float = Field(default=60.0, gt=0)
    # Raw track points of a deployment are kept this long after its last, then thinned to a line.
    track_keep_days: float = Field(default=30.0, gt=0)
    thin_every_s: float = Field(default=3600.0, gt=0)
    # Reports read at once: each volunteer's newest fix of a batch goes to Redis in one trip.
    batch_size: int = Field(default=1000, ge=1, le=10_000)
    # One idle poll's wait (fixes are taken as soon as they arrive, whatever this is).
    batch_poll_ms: int = Field(default=100, ge=1, le=5000)
    max_attempts: int = Field(default=5, ge=1)
    retry_backoff_s: float = Field(default=0.5, ge=0)


class TrackerSettings(Settings):
    tracker: TrackerOptions = Field(default_factory=TrackerOptions)
