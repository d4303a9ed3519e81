"""Builds and delivers signed Meta webhook notifications (Page ``feed``, Instagram ``comments``
and ``mentions``) for items in the sandbox state."""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from datetime import datetime
from typing import Any

from social_care.sandbox import accounts
from social_care.sandbox.state import FbComment, FbPost, IgComment, SandboxState


def _unix(moment: datetime) -> int:
    return int(moment.timestamp())


def _envelope(
    object_type: str, entry_id: str, when: datetime, field: str, value: dict[str, Any]
) -> dict[str, Any]:
    return {
        "object": object_type,
        "entry": [
            {"id": entry_id, "time": _unix(when), "changes": [{"field": field, "value": value}]}
        ],
    }


def feed_post_payload(state: SandboxState, post: FbPost) -> dict[str, Any]:
    author = state.fb_profiles.get(post.author_id)
    value = {
        "from": {"id": post.author_id, "name": author.name if author else ""},
        "message": post.message,
        "post_id": post.id,
        "created_time": _unix(post.created_time),
        "item": "status",
        "published": 1,
        "verb": "add",
    }
    return _envelope("page", accounts.FB_PAGE_ID, post.created_time, "feed", value)


def feed_comment_payload(state: SandboxState, comment: FbComment) -> dict[str, Any]:
    author = state.fb_profiles.get(comment.author_id)
    value = {
        "from": {"id": comment.author_id, "name": author.name if author else ""},
        "post": {
            "status_type": "mobile_status_update",
            "is_published": True,
            "id": comment.post_id,
        },
        "message": comment.message,
        "post_id": comment.post_id,
        "comment_id": comment.id,
        "created_time": _unix(comment.created_time),
        "item": "comment",
        "parent_id": comment.parent_id or comment.post_id,
        "verb": "add",
    }
    return _envelope("page", accounts.FB_PAGE_ID, comment.created_time, "feed", value)


def instagram_comment_payload(state: SandboxState, comment: IgComment) -> dict[str, Any]:
    author = state.ig_profiles.get(comment.author_id)
    value: dict[str, Any] = {
        "from": {"id": comment.author_id, "username": author.username if author else ""},
        "media": {"id": comment.media_id, "media_product_type": "FEED"},
        "id": comment.id,
        "text": comment.text,
    }
    if comment.parent_id:
        value["parent_id"] = comment.parent_id
    return _envelope("instagram", accounts.IG_USER_ID, comment.timestamp, "comments", value)


def instagram_mention_payload(
    media_id: str, comment_id: str | None, when: datetime
) -> dict[str, Any]:
    value = {"media_id": media_id}
    if comment_id is not None:
        value["comment_id"] = comment_id
    return _envelope("instagram", accounts.IG_USER_ID, when, "mentions", value)


def encode_payload(payload: dict[str, Any]) -> bytes:
    # Meta sends compact JSON with non-ASCII escaped as \uXXXX.
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def signature_header(body: bytes, app_secret: str) -> str:
    return "sha256=" + hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def deliver_webhook(
    url: str,
    payload: dict[str, Any],
    *,
    app_secret: str = accounts.APP_SECRET,
    timeout: float = 5.0,
) -> int:
    """POST ``payload`` to ``url`` signed with ``X-Hub-Signature-256``; return the HTTP status."""
    body = encode_payload(payload)
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-Hub-Signature-256": signature_header(body, app_secret),
            "User-Agent": "facebookexternalua",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def payload_for_new_item(state: SandboxState, kind: str, item: Any) -> dict[str, Any] | None:
    """The notification Meta would send for a newly created item, if any."""
    if kind == "fb_post" and item.kind == "visitor":
        return feed_post_payload(state, item)
    if kind == "fb_comment" and item.author_id != accounts.FB_PAGE_ID:
        return feed_comment_payload(state, item)
    if kind == "ig_comment" and item.author_id != accounts.IG_USER_ID:
        media = state.ig_media[item.media_id]
        if media.owner_id == accounts.IG_USER_ID:
            return instagram_comment_payload(state, item)
        if f"@{accounts.IG_USERNAME}" in item.text.lower():
            return instagram_mention_payload(item.media_id, item.id, item.timestamp)
    if (
        kind == "ig_media"
        and item.owner_id != accounts.IG_USER_ID
        and f"@{accounts.IG_USERNAME}" in item.caption.lower()
    ):
        return instagram_mention_payload(item.id, None, item.timestamp)
    return None
