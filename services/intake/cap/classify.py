"""Which kind of incident a CAP alert is, and how urgent: decided by `mapping.yaml`, not by code.

`load_rules()` reads and checks the mapping (an unknown type name stops the service at start-up,
not at the first flood); `classify` and `classify_alert` are pure.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from services.intake.cap.model import CapAlert, CapInfo
from shared.events.incidents import IncidentType, Priority

MAPPING_FILE = Path(__file__).with_name("mapping.yaml")

Category = Literal[
    "Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env", "Transport", "Infra",
    "CBRNE", "Other",
]  # fmt: skip
Severity = Literal["Extreme", "Severe", "Moderate", "Minor", "Unknown"]
Urgency = Literal["Immediate", "Expected", "Future", "Past", "Unknown"]
Certainty = Literal["Observed", "Likely", "Possible", "Unlikely", "Unknown"]

Level = Literal["critical", "high", "medium"]
_LEVELS: tuple[tuple[Level, Priority], ...] = (
    ("critical", Priority.CRITICAL),
    ("high", Priority.HIGH),
    ("medium", Priority.MEDIUM),
)
_PRIORITY_RANK = {Priority.LOW: 0, Priority.MEDIUM: 1, Priority.HIGH: 2, Priority.CRITICAL: 3}
# Kazakh is often typed with Latin look-alikes; fold them so "сiлкiнiсi" still reads as "сілкінісі".
_LOOKALIKES = str.maketrans({"i": "і", "ə": "ә", "ɵ": "ө", "ё": "е"})
MAX_EVENT_CHARS = 200
_WORDINGS_REMEMBERED = 1000
"""Only this much of `<event>` is searched for words. An event names a hazard in a few words; the
cap keeps ~200 patterns over sender text bounded however long a hostile `<event>` is (each pattern
is a literal with whitespace runs between its words, so a search is linear in what it reads)."""


class MappingError(ValueError):
    """The mapping file cannot be used; the message names the file and the offending entry."""


@dataclass(frozen=True)
class Classification:
    type: IncidentType
    priority: Priority
    matched_by: str
    """How the type was found, for people auditing a decision: `eventCode SAME=FLW`, ..."""


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _KeywordRule(_Strict):
    type: IncidentType
    words: list[str] = Field(min_length=1)


class _LowWhen(_Strict):
    severity: list[Severity] = []
    urgency: list[Urgency] = []
    certainty: list[Certainty] = []


class _Points(_Strict):
    severity: dict[Severity, int]
    urgency: dict[Urgency, int]
    certainty: dict[Certainty, int]

    @model_validator(mode="after")
    def _every_cap_word_scores(self) -> _Points:
        for axis, words in (("severity", Severity), ("urgency", Urgency), ("certainty", Certainty)):
            missing = set(get_args(words)) - set(getattr(self, axis))
            if missing:
                raise ValueError(f"{axis} has no points for {', '.join(sorted(missing))}")
        return self


class _PriorityRules(_Strict):
    low_when: _LowWhen
    points: _Points
    at_least: dict[Level, int]

    @model_validator(mode="after")
    def _thresholds_descend(self) -> _PriorityRules:
        critical, high, medium = (self.at_least.get(k) for k in ("critical", "high", "medium"))
        if critical is None or high is None or medium is None or not critical >= high >= medium:
            raise ValueError("at_least needs critical >= high >= medium")
        return self


class _MappingFile(_Strict):
    event_codes: dict[str, dict[str, IncidentType]]
    keywords: list[_KeywordRule]
    categories: dict[Category, IncidentType]
    priority: _PriorityRules


@dataclass(frozen=True)
class _Keyword:
    word: str
    type: IncidentType
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class _PriorityTable:
    low_when: Mapping[str, frozenset[str]]
    points: Mapping[str, Mapping[str, int]]
    at_least: tuple[tuple[int, Priority], ...]


@dataclass(frozen=True)
class Rules:
    """The checked mapping, with codes folded and keywords compiled."""

    event_codes: Mapping[tuple[str, str], IncidentType]
    keywords: tuple[_Keyword, ...]
    categories: Mapping[str, IncidentType]
    priority: _PriorityTable
    # Events a sender words the same way each time ("Паводок", "Метель"): each wording is
    # searched once for the first of the ~60 keywords it holds (a fifth of a flood alert's
    # classification at the intake), and remembered until the next thousand wordings.
    _seen: dict[str, _Keyword | None] = field(default_factory=dict, compare=False, repr=False)

    def keyword_in(self, event: str) -> _Keyword | None:
        """The first keyword (in the mapping's order) found in a folded `<event>`, or None."""
        try:  # one lookup: another thread may clear the memory between two
            return self._seen[event]
        except KeyError:
            pass
        found = next((k for k in self.keywords if k.pattern.search(event)), None)
        if len(self._seen) >= _WORDINGS_REMEMBERED:
            self._seen.clear()
        self._seen[event] = found
        return found


@functools.cache
def load_rules(path: Path = MAPPING_FILE) -> Rules:
    """Read and check a mapping file once; call it at start-up so a bad file fails fast."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        checked = _MappingFile.model_validate(raw)
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise MappingError(f"{path}: {exc}") from exc
    return Rules(
        event_codes={
            (_fold(name), _fold(value)): incident_type
            for name, values in checked.event_codes.items()
            for value, incident_type in values.items()
        },
        keywords=tuple(
            _Keyword(word=word, type=rule.type, pattern=_keyword_pattern(word))
            for rule in checked.keywords
            for word in rule.words
        ),
        categories={str(category): type_ for category, type_ in checked.categories.items()},
        priority=_priority_table(checked.priority),
    )


def _priority_table(rules: _PriorityRules) -> _PriorityTable:
    low, points = rules.low_when, rules.points
    return _PriorityTable(
        low_when={
            "severity": frozenset(low.severity),
            "urgency": frozenset(low.urgency),
            "certainty": frozenset(low.certainty),
        },
        points={
            "severity": {str(word): n for word, n in points.severity.items()},
            "urgency": {str(word): n for word, n in points.urgency.items()},
            "certainty": {str(word): n for word, n in points.certainty.items()},
        },
        at_least=tuple((rules.at_least[level], priority) for level, priority in _LEVELS),
    )


def classify(info: CapInfo, *, rules: Rules | None = None) -> Classification:
    """Type by eventCode, then words in `<event>`, then category; priority from the CAP triple."""
    rules = rules or load_rules()
    incident_type, matched_by = _incident_type(info, rules)
    return Classification(
        type=incident_type, priority=_priority(info, rules.priority), matched_by=matched_by
    )


def classify_alert(alert: CapAlert, *, rules: Rules | None = None) -> Classification:
    """The classification of the alert's most urgent `<info>` (first one on a tie).

    Among equally urgent blocks one with a known type wins over `other`. Messages without an
    `<info>` (Cancel, Ack) are `other` at `low`.
    """
    if not alert.infos:
        return Classification(type=IncidentType.OTHER, priority=Priority.LOW, matched_by="no info")
    classified = [classify(info, rules=rules) for info in alert.infos]
    return max(
        classified,
        key=lambda c: (_PRIORITY_RANK[c.priority], c.type is not IncidentType.OTHER),
    )


def _incident_type(info: CapInfo, rules: Rules) -> tuple[IncidentType, str]:
    for name, value in info.event_codes:
        found = rules.event_codes.get((_fold(name), _fold(value)))
        if found is not None:
            return found, f"eventCode {name}={value}"
    matched = rules.keyword_in(_fold(info.event[:MAX_EVENT_CHARS]))
    if matched is not None:
        return matched.type, f"keyword {matched.word!r} in event"
    for category in info.categories:
        found = rules.categories.get(category)
        if found is not None:
            return found, f"category {category}"
    return IncidentType.OTHER, "nothing matched"


def _priority(info: CapInfo, table: _PriorityTable) -> Priority:
    words = {"severity": info.severity, "urgency": info.urgency, "certainty": info.certainty}
    if any(word in table.low_when[axis] for axis, word in words.items()):
        return Priority.LOW
    score = sum(_points(table.points[axis], word) for axis, word in words.items())
    for at_least, priority in table.at_least:
        if score >= at_least:
            return priority
    return Priority.LOW


def _points(table: Mapping[str, int], word: str) -> int:
    """Words outside CAP's list (only possible for hand-built values) count as `Unknown`."""
    return table.get(word, table["Unknown"])


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().translate(_LOOKALIKES).strip()


def _keyword_pattern(word: str) -> re.Pattern[str]:
    """Whole words; a trailing `*` leaves the ending open; a space matches any whitespace."""
    is_prefix = word.endswith("*")
    parts = _fold(word.removesuffix("*")).split()
    body = r"\s+".join(re.escape(part) for part in parts)
    return re.compile(rf"(?<!\w){body}" + ("" if is_prefix else r"(?!\w)"))
