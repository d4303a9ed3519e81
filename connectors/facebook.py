"""Facebook Pages connector: page feed, visitor posts, tagged posts and comments, via pyfacebook."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from connectors.base import (
    AccountInfo,
    AuthError,
    Author,
    FetchResult,
    MentionRecord,
    PermanentError,
    PostedReply,
    QuarantinedItem,
)
from connectors.graph import DEFAULT_GRAPH_VERSION, GraphClient
from connectors.http import Sleep
from connectors.times import parse_graph_time, utc_now
from connectors.windows import ParsedItem, TimeWindowCursor, fetch_time_window

PLATFORM = "facebook"
SECRET_NAMES = ("page_access_token", "app_secret")
POST_STREAMS = ("feed", "visitor_posts", "tagged")
STREAMS = (*POST_STREAMS, "comments")

POST_FIELDS = "id,message,created_time,updated_time,from{id,name},permalink_url"
POST_ACTIVITY_FIELDS = "id,created_time,updated_time,comments.filter(stream).limit(0).summary(true)"
COMMENT_FIELDS = "id,message,created_time,from{id,name},parent{id},permalink_url,comment_count"


@dataclass(frozen=True)
class FacebookOptions:
    """Non-secret settings of one Facebook Page account."""

    page_id: str
    """Numeric id of the brand's Facebook Page."""
    handle: str = ""
    """The Page's username (vanity name), for display only."""
    graph_version: str = DEFAULT_GRAPH_VERSION
    """Graph API version used in request paths, e.g. ``v26.0``."""
    streams: list[str] = field(default_factory=lambda: ["feed", "comments"])
    """What to poll: any of ``feed``, ``visitor_posts``, ``tagged``, ``comments``."""
    page_size: int = 25
    """Items per request (Graph ``limit``), 1-100."""
    max_pages_per_poll: int = 5
    """Pages one poll reads per edge before it stops and resumes on the next poll."""
    max_posts_per_poll: int = 25
    """Posts whose comments one poll reads (the most recently active first)."""
    lookback_days: int = 7
    """How far back the first sync reads, and how old a post may be to have its comments read."""
    timeout: float = 10.0
    """Seconds before an HTTP request is abandoned (a transient error)."""
    max_retries: int = 2
    """Quick in-call retries of a transient failure before it is reported."""

    def __post_init__(self) -> None:
        unknown = set(self.streams) - set(STREAMS)
        if unknown:
            raise ValueError(
                f"unknown Facebook streams {sorted(unknown)}; choose from {list(STREAMS)}"
            )
        if not 1 <= self.page_size <= 100:
            raise ValueError("page_size must be between 1 and 100")


class FacebookConnector:
    """One Facebook Page. Replies are comments posted as the Page."""

    platform = PLATFORM

    def __init__(
        self,
        options: FacebookOptions,
        secrets: dict[str, str],
        base_url: str | None = None,
        *,
        sleep: Sleep = time.sleep,
        clock: Callable[[], datetime] = utc_now,
        rng: random.Random | None = None,
    ) -> None:
        if not secrets.get("page_access_token"):
            raise ValueError("Facebook needs the secret 'page_access_token'")
        self.options = options
        self.clock = clock
        self.client = GraphClient(
            access_token=secrets["page_access_token"],
            app_secret=secrets.get("app_secret"),
            version=options.graph_version,
            base_url=base_url,
            timeout=options.timeout,
            max_retries=options.max_retries,
            sleep=sleep,
            clock=clock,
            rng=rng,
        )

    def streams(self) -> list[str]:
        return list(self.options.streams)

    def check_credentials(self) -> AccountInfo:
        body = self.client.get("me", {"fields": "id,name,username"})
        if str(body.get("id")) != self.options.page_id:
            raise AuthError(
                f"the page access token belongs to {body.get('id')}, not to page {self.options.page_id}"
            )
        return AccountInfo(str(body["id"]), body.get("username"), body.get("name"))

    def fetch(self, stream: str, cursor: dict[str, Any] | None) -> FetchResult:
        before = self.client.requests_made
        if stream in POST_STREAMS:
            result = fetch_time_window(
                self.client,
                f"{self.options.page_id}/{stream}",
                {"fields": POST_FIELDS, "limit": self.options.page_size},
                TimeWindowCursor.from_json(cursor),
                lambda item: self._parse_post(item, stream),
                max_pages=self.options.max_pages_per_poll,
                first_sync_since=self._lookback_start(),
            )
            return FetchResult(
                result.records,
                result.quarantined,
                result.cursor.to_json(),
                self.client.requests_made - before,
            )
        if stream == "comments":
            records, quarantined, next_cursor = self._fetch_comments(cursor or {})
            return FetchResult(
                records, quarantined, next_cursor, self.client.requests_made - before
            )
        raise PermanentError(f"Facebook has no stream {stream!r}")

    def _lookback_start(self) -> int:
        return int((self.clock() - timedelta(days=self.options.lookback_days)).timestamp())

    # Comments ----------------------------------------------------------------------------

    def _fetch_comments(
        self, cursor: dict[str, Any]
    ) -> tuple[list[MentionRecord], list[QuarantinedItem], dict[str, Any]]:
        """Comments and replies (``filter=stream``) on posts active since the cursor.

        The cursor keeps, per post, the newest comment time delivered, the ids at that second,
        the post activity already covered, and, while a long thread is read over several polls,
        the query of its next page; a poll that stops at a cap loses nothing.
        """
        lookback = self._lookback_start()
        now = int(self.clock().timestamp())
        per_post: dict[str, dict[str, Any]] = {
            post_id: state
            for post_id, state in dict(cursor.get("posts", {})).items()
            if max(int(state.get("active", 0)), int(state.get("checked", 0))) >= lookback
        }
        active_posts: list[tuple[int, str, int]] = []
        for page in self.client.pages(
            f"{self.options.page_id}/feed",
            {"fields": POST_ACTIVITY_FIELDS, "limit": 100, "since": lookback},
            self.options.max_pages_per_poll,
        ):
            for post in page.items:
                try:
                    post_id = str(post["id"])
                    activity = post.get("updated_time") or post["created_time"]
                    updated = int(parse_graph_time(activity).timestamp())
                except (KeyError, TypeError, ValueError, AttributeError):
                    continue  # the feed stream quarantines broken posts; here they only select work
                comments = post.get("comments")
                summary = comments.get("summary") if isinstance(comments, dict) else None
                try:
                    count = int(summary.get("total_count", -1)) if isinstance(summary, dict) else -1
                except (TypeError, ValueError):
                    count = -1  # unknown: the post's comments are read again
                known = per_post.get(post_id)
                # Times have one-second resolution: the comment count catches what they miss.
                if (
                    known is None
                    or known.get("next")
                    or updated > int(known.get("active", 0))
                    or count != int(known.get("count", -1))
                ):
                    active_posts.append((updated, post_id, count))
        records: list[MentionRecord] = []
        quarantined: list[QuarantinedItem] = []
        # Oldest activity first, so a capped poll works through the backlog in order.
        for updated, post_id, count in sorted(active_posts)[: self.options.max_posts_per_poll]:
            state = per_post.get(post_id, {"since": None, "seen": [], "active": 0})
            if count == 0 and not state.get("next"):
                # The summary counts every level (filter=stream): nothing to read, so no request;
                # the first comment changes the count and the post is read on the next poll.
                per_post[post_id] = {**state, "active": updated, "count": 0, "checked": now}
                continue
            new_records, new_quarantined, next_state = self._comments_of_post(post_id, state)
            records += new_records
            quarantined += new_quarantined
            next_state["checked"] = now
            if "next" not in next_state:
                next_state["active"], next_state["count"] = updated, count
            else:
                next_state["count"] = state.get("count", -1)
            per_post[post_id] = next_state
        return records, quarantined, {"posts": per_post}

    def _comments_of_post(
        self, post_id: str, state: dict[str, Any]
    ) -> tuple[list[MentionRecord], list[QuarantinedItem], dict[str, Any]]:
        since = state.get("since")
        fresh: dict[str, Any] = {
            "fields": COMMENT_FIELDS,
            "filter": "stream",
            "order": "chronological",
            "limit": self.options.page_size,
        }
        if since is not None:
            fresh["since"] = since
        if state.get("next"):
            resume = dict(state["next"])
        elif state.get("after"):
            resume = dict(fresh, after=state["after"])  # only what came after the last read
        else:
            resume = fresh
        try:
            return self._read_comments(post_id, state, resume)
        except PermanentError:
            if resume is fresh:
                raise
            # The saved paging cursor expired: read the thread again from the mark.
            return self._read_comments(post_id, {**state, "after": None}, fresh)

    def _read_comments(
        self, post_id: str, state: dict[str, Any], request: dict[str, Any]
    ) -> tuple[list[MentionRecord], list[QuarantinedItem], dict[str, Any]]:
        seen = set(state.get("seen", []))
        newest, newest_ids = state.get("since"), set(seen)
        records: list[MentionRecord] = []
        quarantined: list[QuarantinedItem] = []
        next_params: dict[str, str] | None = None
        after = state.get("after")
        for page in self.client.pages(
            f"{post_id}/comments", request, self.options.max_pages_per_poll
        ):
            after = page.after or after
            for item in page.items:
                parsed = self._parse_comment(item, post_id)
                if parsed.quarantined is not None:
                    quarantined.append(parsed.quarantined)
                    continue
                assert parsed.record is not None and parsed.created_at is not None
                if parsed.record.external_id in seen:
                    continue
                seen.add(parsed.record.external_id)
                records.append(parsed.record)
                moment = int(parsed.created_at.timestamp())
                if newest is None or moment > newest:
                    newest, newest_ids = moment, {parsed.record.external_id}
                elif moment == newest:
                    newest_ids.add(parsed.record.external_id)
            next_params = page.next_params
        # Oldest first: the mark advances page by page; an unfinished thread resumes from
        # the next page's query on the following poll.
        next_state: dict[str, Any] = {
            "since": newest,
            "seen": sorted(newest_ids),
            "active": state.get("active", 0),
        }
        if next_params is not None:
            next_state["next"] = next_params
        elif after:
            next_state["after"] = after
        return records, quarantined, next_state

    # Parsing -----------------------------------------------------------------------------

    def _author(self, item: dict[str, Any]) -> Author:
        sender = item.get("from") or {}
        return Author(str(sender.get("id") or "unknown"), None, sender.get("name"))

    def _parse_post(self, item: dict[str, Any], stream: str) -> ParsedItem:
        if not isinstance(item, dict):  # a null or a list where the page promised an object
            return ParsedItem(None, _quarantine(stream, item, "item is not an object"), None)
        post_id = item.get("id")
        try:
            created = parse_graph_time(item["created_time"])
        except (KeyError, TypeError, ValueError, AttributeError):
            created = None
        if not post_id or created is None:
            return ParsedItem(
                None, _quarantine(stream, item, "post without id or created_time"), None
            )
        author = self._author(item)
        record = MentionRecord(
            platform=PLATFORM,
            external_id=str(post_id),
            stream=stream,
            text=str(item.get("message") or ""),
            created_at=created,
            author=author,
            reply_ref={"kind": "post", "object_id": str(post_id)},
            parent_external_id=None,
            thread_external_id=str(post_id),
            permalink=item.get("permalink_url"),
            is_own=author.external_id == self.options.page_id,
            raw=item,
        )
        return ParsedItem(record, None, created)

    def _parse_comment(self, item: dict[str, Any], post_id: str) -> ParsedItem:
        if not isinstance(item, dict):  # a null or a list where the page promised an object
            return ParsedItem(None, _quarantine("comments", item, "item is not an object"), None)
        comment_id = item.get("id")
        try:
            created = parse_graph_time(item["created_time"])
        except (KeyError, TypeError, ValueError, AttributeError):
            created = None
        if not comment_id or created is None or "message" not in item:
            return ParsedItem(
                None,
                _quarantine("comments", item, "comment without id, message or created_time"),
                None,
            )
        parent_id = (item.get("parent") or {}).get("id")
        author = self._author(item)
        record = MentionRecord(
            platform=PLATFORM,
            external_id=str(comment_id),
            stream="comments",
            text=str(item["message"]),
            created_at=created,
            author=author,
            reply_ref=comment_reply_ref(
                str(comment_id), str(parent_id) if parent_id else None, post_id
            ),
            parent_external_id=str(parent_id) if parent_id else post_id,
            thread_external_id=post_id,
            permalink=item.get("permalink_url"),
            is_own=author.external_id == self.options.page_id,
            raw=item,
        )
        return ParsedItem(record, None, created)

    # Replies -----------------------------------------------------------------------------

    def post_reply(self, reply_ref: dict[str, Any], text: str) -> PostedReply:
        body = self.client.post(_object_id(reply_ref), "comments", {"message": text})
        if not body.get("id"):
            raise PermanentError(f"Facebook accepted the reply but returned no id: {body}")
        return PostedReply(str(body["id"]))

    def find_reply(self, reply_ref: dict[str, Any], text: str) -> PostedReply | None:
        wanted = text.strip()
        params = {
            "fields": "id,message,from{id},created_time",
            "limit": 100,
            "order": "reverse_chronological",
        }
        for page in self.client.pages(
            f"{_object_id(reply_ref)}/comments", params, self.options.max_pages_per_poll
        ):
            for item in page.items:
                sender = (item.get("from") or {}).get("id")
                if (
                    str(sender) == self.options.page_id
                    and str(item.get("message", "")).strip() == wanted
                ):
                    return PostedReply(str(item["id"]), item.get("permalink_url"))
        return None


def comment_reply_ref(comment_id: str, parent_id: str | None, post_id: str) -> dict[str, Any]:
    """Where a reply to this comment goes: the top-level comment of its thread."""
    top_level = parent_id if parent_id and parent_id != post_id else comment_id
    return {"kind": "comment", "object_id": top_level, "comment_id": comment_id, "post_id": post_id}


def _object_id(reply_ref: dict[str, Any]) -> str:
    object_id = reply_ref.get("object_id")
    if not object_id:
        raise PermanentError(f"this reply reference has no Facebook object id: {reply_ref}")
    return str(object_id)


def _quarantine(stream: str, item: Any, reason: str) -> QuarantinedItem:
    external_id = item.get("id") if isinstance(item, dict) else None
    return QuarantinedItem(
        PLATFORM, stream, reason, item, str(external_id) if external_id else None
    )
