"""Decisions from a request and the config: reply language, intent, main category, remedies, links."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .models import DraftRequest

if TYPE_CHECKING:  # config imports the connectors package; drafting only needs the model shapes
    from social_care.config import Brand, ReplyPolicy

SUPPORTED_LANGUAGES: tuple[str, ...] = ("pt", "en", "es")

# Which complaint category a reply addresses first: the most concrete, most remediable problem
# wins, because that is what the customer needs solved (a wrong item that also arrived late is
# about the wrong item).
CATEGORY_PRECEDENCE: tuple[str, ...] = (
    "wrong_item",
    "damaged_defective",
    "delivery",
    "refund_return",
    "payment_billing",
    "website_app",
    "customer_service",
    "other",
)

# Categories whose resolution needs the order (number, address, ...): the reply must move the
# conversation to a private channel.
ORDER_CATEGORIES: frozenset[str] = frozenset(
    {"delivery", "wrong_item", "damaged_defective", "refund_return", "payment_billing"}
)

# Policy links that fit each category, best first (PolicyLinks field names).
CATEGORY_LINKS: dict[str, tuple[str, ...]] = {
    "delivery": ("delivery",),
    "wrong_item": ("returns", "refunds"),
    "damaged_defective": ("returns", "refunds"),
    "refund_return": ("returns", "refunds"),
}

DEFAULT_MAX_LENGTH: dict[str, int] = {"x": 280, "facebook": 8000, "instagram": 2200}


def reply_language(request: DraftRequest, brand: Brand) -> str:
    """The mention's language when the brand answers in it, else the brand's default."""
    answered = [lang.lower() for lang in brand.languages]
    lang = (request.language or "").lower()
    if lang in SUPPORTED_LANGUAGES and lang in answered:
        return lang
    default = (brand.default_language or "").lower()
    if default in SUPPORTED_LANGUAGES:
        return default
    for lang in answered:
        if lang in SUPPORTED_LANGUAGES:
            return lang
    return "en"


def effective_intent(request: DraftRequest) -> str:
    """A mention flagged as a complaint is answered as one, whatever its surface intent."""
    if request.complaint or request.intent == "complaint":
        return "complaint"
    return request.intent if request.intent in ("question", "praise") else "other"


def clamp_severity(severity: int) -> int:
    try:
        return max(0, min(4, int(severity)))
    except (TypeError, ValueError):
        return 0


def ordered_categories(request: DraftRequest) -> list[str]:
    """The request's categories, known ones by precedence, unknown ones after (as written)."""
    known = [c for c in CATEGORY_PRECEDENCE if c in request.categories]
    unknown = [c for c in dict.fromkeys(request.categories) if c not in CATEGORY_PRECEDENCE]
    return known + unknown


def main_category(request: DraftRequest) -> str:
    ordered = ordered_categories(request)
    return ordered[0] if ordered else "other"


def remedy_category(request: DraftRequest, policy: ReplyPolicy) -> str | None:
    """The first category (by precedence) for which the brand configured remedies."""
    for category in ordered_categories(request):
        if policy.remedies.get(category):
            return category
    return None


def offered_remedies(request: DraftRequest, policy: ReplyPolicy) -> list[str]:
    """Remedies a draft offers: only when one is due, only what the config allows."""
    if not request.remedy_due or effective_intent(request) != "complaint":
        return []
    category = remedy_category(request, policy)
    return list(policy.remedies[category]) if category else []


def allowed_remedies(request: DraftRequest, policy: ReplyPolicy) -> set[str]:
    """Remedies the config allows for any of the request's categories (a human may address more)."""
    allowed: set[str] = set()
    for category in request.categories:
        allowed.update(policy.remedies.get(category, []))
    return allowed


def fitting_links(category: str, brand: Brand) -> list[str]:
    """Configured policy URLs that fit the category, best first."""
    links = brand.policy_links
    urls = [getattr(links, field, "") for field in CATEGORY_LINKS.get(category, ())]
    return [url for url in urls if url]


def needs_private_channel(request: DraftRequest) -> bool:
    return effective_intent(request) in ("complaint", "question") and any(
        c in ORDER_CATEGORIES for c in request.categories
    )


def max_length(platform: str, policy: ReplyPolicy) -> int | None:
    limit = policy.max_length.get(platform, DEFAULT_MAX_LENGTH.get(platform))
    return limit if limit and limit > 0 else None


def needs_reply(request: DraftRequest, policy: ReplyPolicy) -> tuple[bool, str]:
    """Whether a mention gets a drafted reply, and why (shown in the inbox)."""
    if request.is_own:
        return False, "the brand's own post"
    intent = effective_intent(request)
    if intent == "other":
        return False, "no complaint, question or praise to answer (spam or noise)"
    if intent not in policy.reply_to_intents:
        return False, f"intent {intent!r} is not in reply_policy.reply_to_intents"
    reasons = {
        "complaint": "a complaint: apologise and solve it",
        "question": "a question to answer",
        "praise": "praise to thank",
    }
    return True, reasons[intent]
