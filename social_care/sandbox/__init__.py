"""A local fake of the X API v2 and the Graph API (Facebook Pages, Instagram) for tests and demos.

In process::

    server = SandboxServer(host="127.0.0.1", port=0, seed="demo", drip_seconds=None).start()
    build_connector("x", options=..., secrets=sandbox_secrets()["x"], base_url=server.base_url)
    server.faults.inject("rate_limit", route="mentions", reset_in=60)   # next matching answer
    server.state.add_tweet(...); server.seed.ids["x-marina-late"]      # state and seed ids
    server.stop()

Blocking (the ``social-care sandbox`` command): ``serve_forever(host, port, seed, drip_seconds)``.

Over HTTP: ``/`` (HTML overview), ``GET /_sandbox/state``, ``GET|POST|DELETE /_sandbox/faults``,
``POST /_sandbox/faults/random`` ``{"seed", "rate"}``, ``POST /_sandbox/mentions`` ``{"count"}``,
``POST /_sandbox/webhooks`` ``{"item_id", "url"}``.
"""

from __future__ import annotations

from social_care.sandbox.accounts import (
    APP_SECRET,
    BRAND_NAME,
    FB_PAGE_ACCESS_TOKEN,
    FB_PAGE_ID,
    IG_ACCESS_TOKEN,
    IG_USER_ID,
    IG_USERNAME,
    WEBHOOK_VERIFY_TOKEN,
    X_ACCESS_TOKEN,
    X_ACCESS_TOKEN_SECRET,
    X_APP_BEARER_TOKEN,
    X_CONSUMER_KEY,
    X_CONSUMER_SECRET,
    X_HANDLE,
    X_USER_BEARER_TOKEN,
    X_USER_ID,
    sandbox_secrets,
)
from social_care.sandbox.faults import FAULT_KINDS, Fault, FaultPlan
from social_care.sandbox.generator import generate_mentions, iter_mentions
from social_care.sandbox.server import SandboxServer, serve_forever
from social_care.sandbox.state import SandboxState
from social_care.sandbox.webhooks import (
    deliver_webhook,
    feed_comment_payload,
    feed_post_payload,
    instagram_comment_payload,
    instagram_mention_payload,
    signature_header,
)

__all__ = [
    "APP_SECRET",
    "BRAND_NAME",
    "FAULT_KINDS",
    "FB_PAGE_ACCESS_TOKEN",
    "FB_PAGE_ID",
    "IG_ACCESS_TOKEN",
    "IG_USERNAME",
    "IG_USER_ID",
    "WEBHOOK_VERIFY_TOKEN",
    "X_ACCESS_TOKEN",
    "X_ACCESS_TOKEN_SECRET",
    "X_APP_BEARER_TOKEN",
    "X_CONSUMER_KEY",
    "X_CONSUMER_SECRET",
    "X_HANDLE",
    "X_USER_BEARER_TOKEN",
    "X_USER_ID",
    "Fault",
    "FaultPlan",
    "SandboxServer",
    "SandboxState",
    "deliver_webhook",
    "feed_comment_payload",
    "feed_post_payload",
    "generate_mentions",
    "instagram_comment_payload",
    "instagram_mention_payload",
    "iter_mentions",
    "sandbox_secrets",
    "serve_forever",
    "signature_header",
]
