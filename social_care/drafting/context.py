"""The variables a reply template sees, built only from classified fields and the config."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from . import phrases
from .choices import (
    CATEGORY_LINKS,
    ORDER_CATEGORIES,
    clamp_severity,
    effective_intent,
    main_category,
    needs_private_channel,
    offered_remedies,
)
from .models import DraftRequest
from .people import clean_handle, first_name

if TYPE_CHECKING:
    from social_care.config import Brand, ReplyPolicy


def variant_of(request: DraftRequest) -> int:
    """A stable small number per mention: wording varies between mentions, never between runs."""
    key = f"{request.platform}\0{request.author_handle}\0{request.text}".encode("utf-8", "replace")
    return hashlib.sha256(key).digest()[0] % 3


def policy_link(category: str, brand: Brand) -> tuple[str | None, str]:
    """(kind, url) of the configured policy link that fits the category best."""
    for kind in CATEGORY_LINKS.get(category, ()):
        url = getattr(brand.policy_links, kind, "")
        if url:
            return kind, url
    return None, ""


def build_context(
    request: DraftRequest,
    *,
    lang: str,
    brand: Brand,
    policy: ReplyPolicy,
    brief: bool,
    tight: bool = False,
) -> dict[str, Any]:
    """Everything a template may use; the mention text itself is deliberately not included."""
    intent = effective_intent(request)
    severity = clamp_severity(request.severity) if intent == "complaint" else 0
    category = main_category(request)
    handle = clean_handle(request.author_handle, request.platform)
    name = first_name(request.author_name)
    variant = variant_of(request)
    kind, url = policy_link(category, brand) if intent in ("complaint", "question") else (None, "")
    remedies = offered_remedies(request, policy)
    wants_channel = intent == "complaint" or needs_private_channel(request)
    return {
        "platform": request.platform,
        "language": lang,
        "intent": intent,
        "category": category,
        "categories": list(request.categories),
        "severity": severity,
        "brand": brand.name,
        "first_name": name or "",
        "handle": handle or "",
        "greeting": phrases.greeting(
            lang, platform=request.platform, name=name, handle=handle, variant=variant, brief=brief
        ),
        # `tight` is the renderer's last variant before trimming: the severity acknowledgement goes
        # (the apology stays) so the policy link and private channel still fit on X.
        "care": phrases.care(lang, severity, brief=brief)
        if intent == "complaint" and not tight
        else "",
        "remedies": remedies,
        "remedy_sentence": phrases.remedy_sentence(lang, remedies, brief=brief),
        "channel_sentence": (
            phrases.channel_sentence(
                lang,
                request.platform,
                brand,
                intent=intent,
                with_order=any(c in ORDER_CATEGORIES for c in request.categories),
                brief=brief,
            )
            if wants_channel
            else ""
        ),
        "response_time": brand.private_channel.response_time.get(lang, ""),
        "policy_kind": kind or "",
        "policy_url": url,
        "policy_sentence": phrases.policy_sentence(lang, kind, url, brief=brief, tight=tight),
        "returning": request.prior_mentions > 0,
        "repeat_complaint": intent == "complaint" and request.prior_complaints > 0,
        "prior_mentions": max(0, request.prior_mentions),
        "prior_complaints": max(0, request.prior_complaints),
        "remedy_due": request.remedy_due,
        "brief": brief,
        "variant": variant,
    }
