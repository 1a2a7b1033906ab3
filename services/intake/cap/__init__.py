"""CAP 1.1 and 1.2 alerts: read safely (`parse_cap`), then classified (`classify_alert`)."""

from services.intake.cap.classify import (
    Classification,
    MappingError,
    Rules,
    classify,
    classify_alert,
    load_rules,
)
from services.intake.cap.model import CapAlert, CapArea, CapInfo, CapReference, CapVersion
from services.intake.cap.parser import MAX_CAP_BYTES, MAX_CAP_SHAPES, parse_cap, validate_only

__all__ = [
    "MAX_CAP_BYTES",
    "MAX_CAP_SHAPES",
    "CapAlert",
    "CapArea",
    "CapInfo",
    "CapReference",
    "CapVersion",
    "Classification",
    "MappingError",
    "Rules",
    "classify",
    "classify_alert",
    "load_rules",
    "parse_cap",
    "validate_only",
]
