"""Instagram Business connector: comments on the account's media, tagged media, and @mentions
(resolved from webhook ids), via pyfacebook."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from connectors.base import (
    AccountInfo,
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

PLATFORM = "instagram"
SECRET_NAMES = ("access_token", "app_secret")
STREAMS = ("comments", "tags")

MEDIA_LIST_FIELDS = "id,timestamp,comments_count,permalink"
REPLY_FIELDS = "id,text,timestamp,username,from{id,username},parent_id,like_count"
COMMENT_FIELDS = f"{REPLY_FIELDS},replies.limit(50){{{REPLY_FIELDS}}}"
MEDIA_FIELDS = "id,caption,timestamp,username,permalink,media_type,comments_count,like_count"
MENTIONED_COMMENT_FIELDS = "id,text,timestamp,username,like_count,media{id,permalink}"


@dataclass(frozen=True)
class InstagramOptions:
    """Non-secret settings of one Instagram professional account."""

    ig_user_id: str
    """Numeric id of the brand's Instagram professional account (IG user id)."""
    handle: str = ""
    """The account's username, used to recognise its own comments and @mentions."""
    graph_version: str = DEFAULT_GRAPH_VERSION
    """Graph API version used in request paths, e.g. ``v26.0``."""
    streams: list[str] = field(default_factory=lambda: ["comments", "tags"])
    """What to poll: ``comments`` (on the account's media) and/or ``tags`` (media tagging it)."""
    page_size: int = 25
    """Items per request (Graph ``limit``), 1-100."""
    max_pages_per_poll: int = 5
    """Pages one poll reads per edge before it stops and resumes on the next poll."""
    max_media_per_poll: int = 25
    """Media whose comments one poll reads (the least recently checked first)."""
    lookback_days: int = 14
    """How far back the first sync reads, and how old a media may be to have its comments read."""
    timeout: float = 10.0
    """Seconds before an HTTP request is abandoned (a transient error)."""
    max_retries: int = 2
    """Quick in-call retries of a transient failure before it is reported."""

    def __post_init__(self) -> None:
        unknown = set(self.streams) - set(STREAMS)
        if unknown:
            raise ValueError(
                f"unknown Instagram streams {sorted(unknown)}; choose from {list(STREAMS)}"
            )
        if not 1 <= self.page_size <= 100:
            raise ValueError("page_size must be between 1 and 100")


class InstagramConnector:
    """One Instagram professional account, read and answered through the Graph API."""

    platform = PLATFORM

    def __init__(
        self,
        options: InstagramOptions,
        secrets: dict[str, str],
        base_url: str | None = None,
        *,
        sleep: Sleep = time.sleep,
        clock: Callable[[], datetime] = utc_now,
        rng: random.Random | None = None,
    ) -> None:
        if not secrets.get("access_token"):
            raise ValueError("Instagram needs the secret 'access_token'")
        self.options = options
        self.clock = clock
        self.client = GraphClient(
            access_token=secrets["access_token"],
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
        body = self.client.get(self.options.ig_user_id, {"fields": "id,username,name"})
        return AccountInfo(str(body["id"]), body.get("username"), body.get("name"))

    def fetch(self, stream: str, cursor: dict[str, Any] | None) -> FetchResult:
        before = self.client.requests_made
        if stream == "comments":
            records, quarantined, next_cursor = self._fetch_comments(cursor or {})
        elif stream == "tags":
            result = fetch_time_window(
                self.client,
                f"{self.options.ig_user_id}/tags",
                {"fields": MEDIA_FIELDS, "limit": self.options.page_size},
                TimeWindowCursor.from_json(cursor),
                lambda item: self._parse_media(item, "tags"),
                max_pages=self.options.max_pages_per_poll,
                first_sync_since=self._lookback_start(),
            )
            records, quarantined, next_cursor = (
                result.records,
                result.quarantined,
                result.cursor.to_json(),
            )
        else:
            raise PermanentError(f"Instagram has no stream {stream!r}")
        return FetchResult(records, quarantined, next_cursor, self.client.requests_made - before)

    def _lookback_start(self) -> int:
        return int((self.clock() - timedelta(days=self.options.lookback_days)).timestamp())

    # Comments on the account's media ------------------------------------------------------

    def _fetch_comments(
        self, cursor: dict[str, Any]
    ) -> tuple[list[MentionRecord], list[QuarantinedItem], dict[str, Any]]:
        """Comments and their replies on media whose comment count changed since the cursor.

        Instagram documents no ``since`` for comment edges, so each media keeps its own mark
        (newest comment time and the ids at that second), its last seen comment count, and,
        while a long comment list is read over several polls, the query of the next page.
        """
        lookback = self._lookback_start()
        per_media: dict[str, dict[str, Any]] = dict(cursor.get("media", {}))
        changed: list[tuple[int, str, str | None, int]] = []
        listed: set[str] = set()
        for page in self.client.pages(
            f"{self.options.ig_user_id}/media",
            {"fields": MEDIA_LIST_FIELDS, "limit": self.options.page_size},
            self.options.max_pages_per_poll,
        ):
            too_old = False
            for media in page.items:
                try:
                    media_id = str(media["id"])
                    posted = int(parse_graph_time(media["timestamp"]).timestamp())
                except (KeyError, TypeError, ValueError, AttributeError):
                    continue
                if posted < lookback:
                    too_old = True  # newest first: everything after this is older still
                    break
                listed.add(media_id)
                count = int(media.get("comments_count") or 0)
                known = per_media.get(media_id)
                if known is None or known.get("pending") or int(known.get("count", -1)) != count:
                    checked = int(known.get("checked", 0)) if known else 0
                    changed.append((checked, media_id, media.get("permalink"), count))
            if too_old:
                break
        per_media = {k: v for k, v in per_media.items() if k in listed}
        records: list[MentionRecord] = []
        quarantined: list[QuarantinedItem] = []
        now = int(self.clock().timestamp())
        # Least recently checked first, so a capped poll rotates through all active media.
        for _, media_id, permalink, count in sorted(changed)[: self.options.max_media_per_poll]:
            state = per_media.get(media_id, {"since": None, "seen": [], "count": -1})
            new_records, new_quarantined, next_state = self._comments_of_media(
                media_id, permalink, state, count
            )
            records += new_records
            quarantined += new_quarantined
            per_media[media_id] = {**next_state, "checked": now}
        return records, quarantined, {"media": per_media}

    def _comments_of_media(
        self, media_id: str, permalink: str | None, state: dict[str, Any], count: int
    ) -> tuple[list[MentionRecord], list[QuarantinedItem], dict[str, Any]]:
        pending = state.get("pending")
        fresh = {"fields": COMMENT_FIELDS, "limit": self.options.page_size}
        if pending:
            count = int(pending.get("count", count))
            try:
                return self._read_media_comments(
                    media_id, permalink, state, count, dict(pending["next"]), pending
                )
            except PermanentError:
                pass  # the saved paging cursor expired: read the list again from the top
        return self._read_media_comments(media_id, permalink, state, count, fresh, None)

    def _read_media_comments(
        self,
        media_id: str,
        permalink: str | None,
        state: dict[str, Any],
        count: int,
        request: dict[str, Any],
        pending: dict[str, Any] | None,
    ) -> tuple[list[MentionRecord], list[QuarantinedItem], dict[str, Any]]:
        since = state.get("since")
        seen = set(state.get("seen", []))
        newest = pending.get("newest") if pending else None
        newest_ids = set(pending.get("newest_ids", [])) if pending else set()
        records: list[MentionRecord] = []
        quarantined: list[QuarantinedItem] = []
        next_params: dict[str, str] | None = None
        for page in self.client.pages(
            f"{media_id}/comments", request, self.options.max_pages_per_poll
        ):
            items: list[Any] = []
            for comment in page.items:
                items.append(comment)
                nested = (
                    comment.get("replies", {}).get("data", []) if isinstance(comment, dict) else []
                )
                items += [
                    dict(reply, parent_id=reply.get("parent_id") or comment.get("id"))
                    for reply in nested
                ]
            for item in items:
                parsed = self._parse_comment(item, media_id, permalink)
                if parsed.quarantined is not None:
                    quarantined.append(parsed.quarantined)
                    continue
                assert parsed.record is not None and parsed.created_at is not None
                moment = int(parsed.created_at.timestamp())
                if parsed.record.external_id in seen or (since is not None and moment < since):
                    continue
                records.append(parsed.record)
                if newest is None or moment > newest:
                    newest, newest_ids = moment, {parsed.record.external_id}
                elif moment == newest:
                    newest_ids.add(parsed.record.external_id)
            next_params = page.next_params
        if next_params is not None:
            # Newest first: the mark moves only once the whole list was read; resume next poll.
            resume = {
                "next": next_params,
                "newest": newest,
                "newest_ids": sorted(newest_ids),
                "count": count,
            }
            return (
                records,
                quarantined,
                {
                    "since": since,
                    "seen": sorted(seen),
                    "count": state.get("count", -1),
                    "pending": resume,
                },
            )
        if newest is None or (since is not None and newest < since):
            return records, quarantined, {"since": since, "seen": sorted(seen), "count": count}
        if newest == since:
            newest_ids |= seen
        return records, quarantined, {"since": newest, "seen": sorted(newest_ids), "count": count}

    # Mentions (from webhook ids) ---------------------------------------------------------

    def fetch_mention(self, media_id: str, comment_id: str | None = None) -> MentionRecord:
        """The caption mention (``media_id``) or comment mention (``comment_id`` on ``media_id``)
        a ``mentions`` webhook announced, as a record with the ids polling would give it."""
        if comment_id:
            field_expression = (
                f"mentioned_comment.comment_id({comment_id}){{{MENTIONED_COMMENT_FIELDS}}}"
            )
            body = self.client.get(self.options.ig_user_id, {"fields": field_expression})
            item = body.get("mentioned_comment")
            if not isinstance(item, dict):
                raise PermanentError(f"Instagram returned no mentioned comment {comment_id}")
            media = item.get("media") or {}
            parsed = self._parse_comment(
                dict(item),
                str(media.get("id") or media_id),
                media.get("permalink"),
                stream="mentions",
            )
            if parsed.record is None:
                raise PermanentError(
                    f"Instagram mentioned comment {comment_id} is malformed: {item}"
                )
            return _with_reply_ref(
                parsed.record, {"kind": "mention", "media_id": media_id, "comment_id": comment_id}
            )
        field_expression = f"mentioned_media.media_id({media_id}){{{MEDIA_FIELDS}}}"
        body = self.client.get(self.options.ig_user_id, {"fields": field_expression})
        item = body.get("mentioned_media")
        if not isinstance(item, dict):
            raise PermanentError(f"Instagram returned no mentioned media {media_id}")
        parsed = self._parse_media(dict(item), "mentions")
        if parsed.record is None:
            raise PermanentError(f"Instagram mentioned media {media_id} is malformed: {item}")
        return _with_reply_ref(parsed.record, {"kind": "mention", "media_id": media_id})

    # Parsing -----------------------------------------------------------------------------

    def _is_own(self, author_id: str | None, username: str | None) -> bool:
        handle = self.options.handle.lower()
        return author_id == self.options.ig_user_id or bool(
            handle and (username or "").lower() == handle
        )

    def _parse_comment(
        self, item: dict[str, Any], media_id: str, permalink: str | None, stream: str = "comments"
    ) -> ParsedItem:
        if not isinstance(item, dict):  # a null or a list where the page promised an object
            return ParsedItem(None, _quarantine(stream, item, "item is not an object"), None)
        comment_id = item.get("id")
        try:
            created = parse_graph_time(item["timestamp"])
        except (KeyError, TypeError, ValueError, AttributeError):
            created = None
        if not comment_id or created is None or "text" not in item:
            return ParsedItem(
                None, _quarantine(stream, item, "comment without id, text or timestamp"), None
            )
        sender = item.get("from") or {}
        username = sender.get("username") or item.get("username")
        author_id = str(sender.get("id") or username or "unknown")
        parent_id = item.get("parent_id")
        record = MentionRecord(
            platform=PLATFORM,
            external_id=str(comment_id),
            stream=stream,
            text=str(item["text"]),
            created_at=created,
            author=Author(author_id, username, None),
            reply_ref=comment_reply_ref(
                str(comment_id), str(parent_id) if parent_id else None, media_id
            ),
            parent_external_id=str(parent_id) if parent_id else media_id,
            thread_external_id=media_id,
            permalink=permalink,
            is_own=self._is_own(author_id, username),
            raw=item,
        )
        return ParsedItem(record, None, created)

    def _parse_media(self, item: dict[str, Any], stream: str) -> ParsedItem:
        if not isinstance(item, dict):  # a null or a list where the page promised an object
            return ParsedItem(None, _quarantine(stream, item, "item is not an object"), None)
        media_id = item.get("id")
        try:
            created = parse_graph_time(item["timestamp"])
        except (KeyError, TypeError, ValueError, AttributeError):
            created = None
        if not media_id or created is None:
            return ParsedItem(
                None, _quarantine(stream, item, "media without id or timestamp"), None
            )
        username = item.get("username")
        caption = str(item.get("caption") or "")
        mentioned = (
            bool(self.options.handle) and f"@{self.options.handle.lower()}" in caption.lower()
        )
        # Instagram does not allow commenting on media the account is only tagged in; a caption
        # @mention can be answered through the mentions edge.
        reply_ref = {
            "kind": "mention" if mentioned or stream == "mentions" else "tagged",
            "media_id": str(media_id),
        }
        record = MentionRecord(
            platform=PLATFORM,
            external_id=str(media_id),
            stream=stream,
            text=caption,
            created_at=created,
            # Tagged and mentioning media expose the owner's username, not an id.
            author=Author(str(username or "unknown"), username, None),
            reply_ref=reply_ref,
            thread_external_id=str(media_id),
            permalink=item.get("permalink"),
            is_own=self._is_own(None, username),
            raw=item,
        )
        return ParsedItem(record, None, created)

    # Replies -----------------------------------------------------------------------------

    def post_reply(self, reply_ref: dict[str, Any], text: str) -> PostedReply:
        kind = reply_ref.get("kind")
        if kind == "comment":
            body = self.client.post(str(reply_ref["comment_id"]), "replies", {"message": text})
        elif kind == "mention":
            data = {"media_id": str(reply_ref["media_id"]), "message": text}
            if reply_ref.get("comment_id"):
                data["comment_id"] = str(reply_ref["comment_id"])
            body = self.client.post(self.options.ig_user_id, "mentions", data)
        elif kind == "tagged":
            raise PermanentError(
                "Instagram does not allow commenting on media the account is only tagged in"
            )
        else:
            raise PermanentError(f"this reply reference is not an Instagram one: {reply_ref}")
        if not body.get("id"):
            raise PermanentError(f"Instagram accepted the reply but returned no id: {body}")
        return PostedReply(str(body["id"]))

    def find_reply(self, reply_ref: dict[str, Any], text: str) -> PostedReply | None:
        kind = reply_ref.get("kind")
        if kind == "comment":
            candidates: list[dict[str, Any]] = []
            for page in self.client.pages(
                f"{reply_ref['comment_id']}/replies",
                {"fields": REPLY_FIELDS, "limit": 100},
                self.options.max_pages_per_poll,
            ):
                candidates += page.items
        elif kind == "mention" and reply_ref.get("comment_id"):
            expression = f"mentioned_comment.comment_id({reply_ref['comment_id']}){{id,replies{{{REPLY_FIELDS}}}}}"
            body = self.client.get(self.options.ig_user_id, {"fields": expression})
            candidates = ((body.get("mentioned_comment") or {}).get("replies") or {}).get(
                "data", []
            )
        elif kind == "mention":
            expression = f"mentioned_media.media_id({reply_ref['media_id']}){{id,comments{{{REPLY_FIELDS}}}}}"
            body = self.client.get(self.options.ig_user_id, {"fields": expression})
            candidates = ((body.get("mentioned_media") or {}).get("comments") or {}).get("data", [])
        else:
            return None
        wanted = text.strip()
        for item in candidates:
            sender = item.get("from") or {}
            if self._is_own(
                str(sender.get("id") or ""), sender.get("username") or item.get("username")
            ) and (str(item.get("text", "")).strip() == wanted):
                return PostedReply(str(item["id"]))
        return None


def comment_reply_ref(comment_id: str, parent_id: str | None, media_id: str) -> dict[str, Any]:
    """Replies can only hang under a top-level comment; a reply to a reply joins that thread."""
    return {
        "kind": "comment",
        "comment_id": parent_id or comment_id,
        "media_id": media_id,
        "reply_to": comment_id,
    }


def _with_reply_ref(record: MentionRecord, reply_ref: dict[str, Any]) -> MentionRecord:
    return replace(record, reply_ref=reply_ref)


def _quarantine(stream: str, item: Any, reason: str) -> QuarantinedItem:
    external_id = item.get("id") if isinstance(item, dict) else None
    return QuarantinedItem(
        PLATFORM, stream, reason, item, str(external_id) if external_id else None
    )
