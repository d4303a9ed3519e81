"""Result and threshold value types returned by the classifier."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Thresholds:
    """Decision thresholds on calibrated probabilities; they come from the app's config."""

    complaint: float = 0.5
    category: float = 0.3
    remedy_due: float = 0.35

    def __post_init__(self) -> None:
        for name in ("complaint", "category", "remedy_due"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"threshold {name}={value!r} must lie in [0, 1]")


@dataclass(frozen=True)
class Classification:
    """Everything the classifier says about one mention; scores are calibrated probabilities."""

    language: str
    sentiment: str
    sentiment_scores: dict[str, float]
    intent: str
    intent_scores: dict[str, float]
    complaint: bool
    complaint_score: float
    categories: list[str]
    category_scores: dict[str, float]
    severity: int
    severity_scores: list[float]
    remedy_due: bool
    remedy_score: float

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (str keys, float/int/bool/str/list values)."""
        return asdict(self)
