"""Label vocabularies of the classifier's tasks, shared by training, inference and evaluation."""

from __future__ import annotations

LANGUAGES: tuple[str, ...] = ("pt", "en", "es", "other")
SENTIMENTS: tuple[str, ...] = ("negative", "neutral", "positive")
INTENTS: tuple[str, ...] = ("complaint", "question", "praise", "other")
CATEGORIES: tuple[str, ...] = (
    "delivery",
    "wrong_item",
    "damaged_defective",
    "refund_return",
    "payment_billing",
    "customer_service",
    "website_app",
    "other",
)
SEVERITIES: tuple[int, ...] = (0, 1, 2, 3, 4)

# Head name -> (kind, labels). "softmax" heads pick one label; "sigmoid" heads score each
# label independently (multi-label, or a single binary score).
HEAD_SPECS: dict[str, tuple[str, tuple[str, ...]]] = {
    "sentiment": ("softmax", SENTIMENTS),
    "intent": ("softmax", INTENTS),
    "complaint": ("sigmoid", ("complaint",)),
    "categories": ("sigmoid", CATEGORIES),
    "severity": ("softmax", tuple(str(s) for s in SEVERITIES)),
    "remedy_due": ("sigmoid", ("remedy_due",)),
}
