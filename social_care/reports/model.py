"""The figures of a weekly report, as frozen dataclasses that serialise to plain JSON."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Change:
    """A count this week, last week, the difference, and the 9-week series (oldest first)."""

    this_week: int
    previous_week: int
    change: int
    change_pct: float | None  # None when last week was 0: a percentage of nothing means nothing
    series: list[int]

    @classmethod
    def from_series(cls, series: list[int]) -> Change:
        this, previous = series[-1], series[-2]
        pct = round(100.0 * (this - previous) / previous, 1) if previous else None
        return cls(this, previous, this - previous, pct, list(series))


@dataclass(frozen=True)
class Breakdown:
    """Mentions and complaints for one value of a dimension (a platform, a language, a category)."""

    key: str
    mentions: Change
    complaints: Change


@dataclass(frozen=True)
class Example:
    """A representative mention, with its author's handle anonymised."""

    mention_id: int
    platform: str
    author: str
    created_at: str  # local time, ISO 8601
    severity: int
    complaint_score: float
    text: str


@dataclass(frozen=True)
class CategorySpike:
    """How far a category's complaints this week sit from its usual range (robust z-score)."""

    category: str
    this_week: int
    median: float
    mad: float
    scale: float
    z: float
    spike: bool
    examples: list[Example]


@dataclass(frozen=True)
class Remedies:
    due: int
    resolved: int
    resolved_share: float | None


@dataclass(frozen=True)
class RejectionReason:
    reason: str
    count: int


@dataclass(frozen=True)
class Response:
    """How fast and how well the team answered the mentions created this week."""

    drafted: int  # mentions with a reply draft
    replied: int  # of those, with a reply posted
    first_response_median_min: float | None
    first_response_p90_min: float | None
    approval_wait_median_min: float | None
    approval_wait_p90_min: float | None
    sla_minutes: int
    sla_eligible: int  # drafted and not rejected: the team meant to answer
    within_sla: int
    within_sla_share: float | None
    approvals: int
    approved_unedited: int
    edited_and_approved: int
    unedited_share: float | None
    rejected: int
    rejected_reasons: list[RejectionReason]


@dataclass(frozen=True)
class Term:
    term: str
    complaints: int  # complaints of the week that contain it


@dataclass(frozen=True)
class Report:
    """Everything `social-care report` shows, for one week and optional account/platform filters."""

    week: str
    previous_week: str
    timezone: str
    start: str  # local Monday 00:00, ISO 8601
    end: str  # the next local Monday 00:00 (exclusive)
    generated_at: str
    brand: str
    filters: dict[str, str | None]
    weeks: list[str]  # the 9-week series labels, oldest first; the last is this week
    mentions: Change
    complaints: Change
    by_platform: list[Breakdown]
    by_language: list[Breakdown]
    by_category: list[Breakdown]
    spike_rule: str
    spikes: list[CategorySpike]  # every category with complaints, flagged or not; flagged first
    sentiment: dict[str, int]
    sentiment_share: dict[str, float]
    complaint_severity: dict[str, int]  # severity 0-4 of this week's complaints
    remedies: Remedies
    response: Response
    terms_rule: str
    new_terms: list[Term]

    @property
    def spiking(self) -> list[CategorySpike]:
        return [s for s in self.spikes if s.spike]

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["spiking_categories"] = [s.category for s in self.spiking]
        return data
