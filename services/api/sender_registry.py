"""The sender registry as the intake reads it (`senders.yaml`, or `JEDEL_INTAKE__SENDERS_FILE`),
for the API: admins list and suspend senders by it, and corrected alerts are placed with it."""

from __future__ import annotations

from functools import cache

from services.intake.main import load_senders
from services.intake.senders import SenderRegistry
from services.intake.settings import IntakeSettings


@cache
def registry() -> SenderRegistry:
    """Read once per process: the registry changes with a deployment."""
    return load_senders(IntakeSettings())
