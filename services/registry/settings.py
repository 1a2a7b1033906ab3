"""The registry's knobs, on top of the shared settings (`JEDEL_REGISTRY__…`)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from shared.settings import Settings


class RegistryOptions(BaseModel):
    group_id: str = "jedel-registry"
    # Records taken from the broker at once and written in one transaction (one offset commit).
    max_records: int = Field(default=500, ge=1, le=5000)
    # How long a fetch waits for records before handing over a smaller batch.
    batch_timeout_ms: int = Field(default=200, ge=1, le=10_000)
    # An entry that keeps failing for a reason other than an outage is dead-lettered after this
    # many replays of its batch, so one bad message never stalls its partition.
    max_attempts: int = 5
    retry_backoff_s: float = 0.5


class RegistrySettings(Settings):
    registry: RegistryOptions = Field(default_factory=RegistryOptions)
