"""The intake's knobs, on top of the shared settings (`JEDEL_INTAKE__…`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from services.intake.cap import MAX_CAP_BYTES
from shared.settings import Settings


class IntakeOptions(BaseModel):
    group_id: str = "jedel-intake"
    # Messages are taken a fetched batch at a time (at most this many) and saved in one
    # transaction. One consumer per topic in a process: the work is CPU-bound under one
    # interpreter lock, so scale out with processes (replicas).
    batch_size: int = Field(default=500, ge=1, le=5000)
    # How long one poll of an idle consumer waits for records (a record is taken as soon as it
    # arrives, whatever this is): longer polls cost an idle intake less.
    batch_poll_ms: int = Field(default=100, ge=1, le=5000)
    max_cap_bytes: int = MAX_CAP_BYTES
    expiry_sweep_interval_s: float = 15.0
    # A message that keeps failing for a reason that is not the database or broker being away is
    # dead-lettered after this many tries, so one bad message never stalls its partition.
    max_attempts: int = 5
    retry_backoff_s: float = 0.5
    # Who may raise incidents, where, and how their signatures are checked (`senders.py`); None
    # is the registry shipped with the package (`services/intake/senders.yaml`).
    senders_file: Path | None = None
    # How often the senders administrators suspended are read again (`sender_suspensions`).
    suspensions_refresh_s: float = Field(default=5.0, gt=0)
    # Accept alerts from senders not in the registry, marked `unverified`, instead of refusing them.
    accept_unverified: bool = False
    # A message dated further ahead of the intake's clock than this is refused: its date would
    # otherwise outrank every correction sent before that moment.
    max_future_skew_s: float = Field(default=600.0, ge=0)


class IntakeSettings(Settings):
    intake: IntakeOptions = Field(default_factory=IntakeOptions)
