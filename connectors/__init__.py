"""Platform adapters (X, Facebook Pages, Instagram). They never import social_care.

Build one with :func:`build_connector`; validate configuration against :data:`OPTION_TYPES`
(non-secret settings, one frozen dataclass per platform) and :data:`SECRET_NAMES`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from connectors import facebook, instagram, x
from connectors.base import (
    PLATFORMS,
    AccountInfo,
    AuthError,
    Author,
    BudgetExhausted,
    Connector,
    ConnectorError,
    FetchResult,
    MentionRecord,
    PermanentError,
    PostedReply,
    QuarantinedItem,
    RateLimited,
    TransientError,
)
from connectors.facebook import FacebookConnector, FacebookOptions
from connectors.instagram import InstagramConnector, InstagramOptions
from connectors.times import utc_now
from connectors.webhooks import (
    FollowUp,
    WebhookVerificationError,
    parse_webhook,
    verify_signature,
    verify_subscription,
)
from connectors.x import XConnector, XOptions, build_search_query

OPTION_TYPES: dict[str, type] = {
    "x": XOptions,
    "facebook": FacebookOptions,
    "instagram": InstagramOptions,
}
SECRET_NAMES: dict[str, tuple[str, ...]] = {
    "x": x.SECRET_NAMES,
    "facebook": facebook.SECRET_NAMES,
    "instagram": instagram.SECRET_NAMES,
}
_CONNECTOR_TYPES: dict[str, Any] = {
    "x": XConnector,
    "facebook": FacebookConnector,
    "instagram": InstagramConnector,
}


def build_connector(
    platform: str,
    *,
    options: Any,
    secrets: dict[str, str],
    base_url: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], datetime] = utc_now,
    rng: random.Random | None = None,
) -> Connector:
    """A connector for ``platform`` with that platform's options dataclass and secrets.

    ``base_url`` (e.g. the sandbox's ``http://127.0.0.1:8765``) replaces the platform host.
    ``sleep``, ``clock`` and ``rng`` are injectable for tests (retry back-off, budgets)."""
    if platform not in _CONNECTOR_TYPES:
        raise ValueError(f"unknown platform {platform!r}; expected one of {list(PLATFORMS)}")
    expected = OPTION_TYPES[platform]
    if not isinstance(options, expected):
        raise TypeError(
            f"{platform} needs {expected.__name__} options, got {type(options).__name__}"
        )
    unknown = set(secrets) - set(SECRET_NAMES[platform])
    if unknown:
        raise ValueError(
            f"unknown {platform} secrets {sorted(unknown)}; expected {list(SECRET_NAMES[platform])}"
        )
    connector: Connector = _CONNECTOR_TYPES[platform](
        options, secrets, base_url, sleep=sleep, clock=clock, rng=rng
    )
    return connector


__all__ = [
    "OPTION_TYPES",
    "PLATFORMS",
    "SECRET_NAMES",
    "AccountInfo",
    "AuthError",
    "Author",
    "BudgetExhausted",
    "Connector",
    "ConnectorError",
    "FacebookConnector",
    "FacebookOptions",
    "FetchResult",
    "FollowUp",
    "InstagramConnector",
    "InstagramOptions",
    "MentionRecord",
    "PermanentError",
    "PostedReply",
    "QuarantinedItem",
    "RateLimited",
    "TransientError",
    "WebhookVerificationError",
    "XConnector",
    "XOptions",
    "build_connector",
    "build_search_query",
    "parse_webhook",
    "verify_signature",
    "verify_subscription",
]
