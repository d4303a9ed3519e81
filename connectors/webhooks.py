"""Meta webhooks: the subscription handshake, ``X-Hub-Signature-256`` checks, and parsing of
Page ``feed`` and Instagram ``comments``/``mentions`` notifications into records.

Records built here carry the same ``platform`` and ``external_id`` as the same items fetched by
polling, so the application stores each item once whichever way it arrived.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectors import facebook, instagram
from connectors.base import Author, MentionRecord, QuarantinedItem
from connectors.times import parse_graph_time

_POST_ITEMS = frozenset({"status", "post", "photo", "video", "share", "link"})
_NEW_VERBS = frozenset({"add", "edited", "edit"})


class WebhookVerificationError(Exception):
    """The subscription request is not one we asked for (answer 403)."""


@dataclass(frozen=True)
class FollowUp:
    """Work a notification announced but did not carry: Instagram mentions come as ids only.

    Resolve with ``InstagramConnector.fetch_mention(**follow_up.params)`` for the account
    ``account_id``."""

    platform: str
    kind: str  # "instagram_mention"
    account_id: str
    params: dict[str, str] = field(default_factory=dict)


def verify_subscription(params: Mapping[str, str], verify_token: str) -> str:
    """The ``hub.challenge`` to echo back (HTTP 200, plain text), or raise
    :class:`WebhookVerificationError` when mode or verify token are wrong."""
    if params.get("hub.mode") != "subscribe":
        raise WebhookVerificationError("hub.mode must be 'subscribe'")
    offered = params.get("hub.verify_token") or ""
    if not verify_token or not hmac.compare_digest(offered.encode(), verify_token.encode()):
        raise WebhookVerificationError(
            "hub.verify_token does not match the configured verify token"
        )
    challenge = params.get("hub.challenge")
    if not challenge:
        raise WebhookVerificationError("hub.challenge is missing")
    return challenge


def verify_signature(raw_body: bytes, header: str | None, app_secret: str) -> bool:
    """Whether ``X-Hub-Signature-256`` is the HMAC-SHA256 of the body exactly as received."""
    if not header or not app_secret or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header[len("sha256=") :].strip().lower(), expected)


def parse_webhook(
    payload: Mapping[str, Any],
) -> tuple[list[MentionRecord], list[QuarantinedItem], list[FollowUp]]:
    """Records, unparseable changes, and follow-ups from one (possibly batched) notification.

    Changes that are not mentions (reactions, likes, removals) are ignored."""
    records: list[MentionRecord] = []
    quarantined: list[QuarantinedItem] = []
    follow_ups: list[FollowUp] = []
    object_type = payload.get("object")
    platform = {"page": facebook.PLATFORM, "instagram": instagram.PLATFORM}.get(str(object_type))
    entries = payload.get("entry")
    if platform is None or not isinstance(entries, list):
        quarantined.append(
            QuarantinedItem(
                "facebook", "webhook", f"unsupported webhook object {object_type!r}", dict(payload)
            )
        )
        return records, quarantined, follow_ups
    for entry in entries:
        if not isinstance(entry, dict):
            quarantined.append(
                QuarantinedItem(platform, "webhook", "entry is not an object", entry)
            )
            continue
        account_id = str(entry.get("id") or "")
        for change in entry.get("changes") or []:
            parsed: MentionRecord | FollowUp | None
            try:
                if platform == facebook.PLATFORM:
                    parsed = _feed_change(change, account_id)
                else:
                    parsed = _instagram_change(change, account_id, entry.get("time"))
            except (KeyError, TypeError, ValueError, AttributeError) as error:
                quarantined.append(
                    QuarantinedItem(platform, "webhook", f"unparseable change: {error!r}", change)
                )
                continue
            if isinstance(parsed, MentionRecord):
                records.append(parsed)
            elif isinstance(parsed, FollowUp):
                follow_ups.append(parsed)
    return records, quarantined, follow_ups


def _feed_change(change: dict[str, Any], page_id: str) -> MentionRecord | None:
    if change.get("field") != "feed":
        return None
    value = change["value"]
    item, verb = value.get("item"), value.get("verb")
    if verb not in _NEW_VERBS:
        return None
    sender = value.get("from") or {}
    author = Author(str(sender.get("id") or "unknown"), None, sender.get("name"))
    created = _created(value.get("created_time"))
    post_id = str(value["post_id"])
    if item == "comment":
        comment_id = str(value["comment_id"])
        parent_id = str(value.get("parent_id") or post_id)
        return MentionRecord(
            platform=facebook.PLATFORM,
            external_id=comment_id,
            stream="comments",
            text=str(value.get("message") or ""),
            created_at=created,
            author=author,
            reply_ref=facebook.comment_reply_ref(comment_id, parent_id, post_id),
            parent_external_id=parent_id,
            thread_external_id=post_id,
            permalink=(value.get("post") or {}).get("permalink_url"),
            is_own=author.external_id == page_id,
            raw=value,
        )
    if item in _POST_ITEMS:
        return MentionRecord(
            platform=facebook.PLATFORM,
            external_id=post_id,
            stream="feed",
            text=str(value.get("message") or ""),
            created_at=created,
            author=author,
            reply_ref={"kind": "post", "object_id": post_id},
            thread_external_id=post_id,
            permalink=value.get("link") if isinstance(value.get("link"), str) else None,
            is_own=author.external_id == page_id,
            raw=value,
        )
    return None


def _instagram_change(
    change: dict[str, Any], ig_user_id: str, entry_time: Any
) -> MentionRecord | FollowUp | None:
    field_name = change.get("field")
    value = change["value"]
    if field_name == "mentions":
        params = {"media_id": str(value["media_id"])}
        if value.get("comment_id"):
            params["comment_id"] = str(value["comment_id"])
        return FollowUp(instagram.PLATFORM, "instagram_mention", ig_user_id, params)
    if field_name not in ("comments", "live_comments"):
        return None
    comment_id = str(value["id"])
    media_id = str(value["media"]["id"])
    parent_id = value.get("parent_id")
    sender = value.get("from") or {}
    author_id = str(sender.get("id") or sender.get("username") or "unknown")
    created = _created(value.get("timestamp") or entry_time)
    return MentionRecord(
        platform=instagram.PLATFORM,
        external_id=comment_id,
        stream="comments",
        text=str(value.get("text") or ""),
        created_at=created,
        author=Author(author_id, sender.get("username"), None),
        reply_ref=instagram.comment_reply_ref(
            comment_id, str(parent_id) if parent_id else None, media_id
        ),
        parent_external_id=str(parent_id) if parent_id else media_id,
        thread_external_id=media_id,
        is_own=author_id == ig_user_id,
        raw=value,
    )


def _created(value: Any) -> datetime:
    if value is None:
        raise ValueError("the change has no time")
    return parse_graph_time(value)
