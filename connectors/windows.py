"""Incremental sync of newest-first Graph edges (Page feed, Instagram tags) by time window.

The cursor's high-water mark moves only after a pagination ran to its end. When a poll stops at
its page cap, the cursor remembers where the backfill got to (``pending``) and the next poll
resumes there, so a large backlog is worked through without skipping anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectors.base import MentionRecord, QuarantinedItem
from connectors.graph import GraphClient

# Turns one raw item into a record (or a quarantined item) plus its time, when it has one.
ItemParser = Callable[[dict[str, Any]], "ParsedItem"]


@dataclass(frozen=True)
class ParsedItem:
    record: MentionRecord | None
    quarantined: QuarantinedItem | None
    created_at: datetime | None


@dataclass
class TimeWindowCursor:
    since: int | None = None  # unix seconds of the newest item delivered
    seen: list[str] = field(default_factory=list)  # ids at exactly ``since``, already delivered
    pending: dict[str, Any] | None = None  # {"until", "until_ids", "newest", "newest_ids"} mid-backfill

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> TimeWindowCursor:
        data = data or {}
        return cls(
            since=int(data["since"]) if data.get("since") is not None else None,
            seen=[str(i) for i in data.get("seen", [])],
            pending=dict(data["pending"]) if data.get("pending") else None,
        )

    def to_json(self) -> dict[str, Any]:
        return {"since": self.since, "seen": list(self.seen), "pending": self.pending}


@dataclass
class WindowResult:
    records: list[MentionRecord]
    quarantined: list[QuarantinedItem]
    cursor: TimeWindowCursor


def fetch_time_window(
    client: GraphClient,
    path: str,
    params: dict[str, Any],
    cursor: TimeWindowCursor,
    parse: ItemParser,
    *,
    max_pages: int,
    first_sync_since: int,
) -> WindowResult:
    since = cursor.since if cursor.since is not None else first_sync_since
    request = dict(params, since=since)
    pending = cursor.pending
    skip_ids = set(cursor.seen)
    if pending:
        request["until"] = pending["until"]
        skip_ids |= set(pending.get("until_ids", []))
    newest = pending["newest"] if pending else None
    newest_ids = set(pending["newest_ids"]) if pending else set()
    oldest: int | None = None
    oldest_ids: set[str] = set()
    records: list[MentionRecord] = []
    quarantined: list[QuarantinedItem] = []
    delivered: set[str] = set()
    capped = False
    for page in client.pages(path, request, max_pages):
        for item in page.items:
            parsed = parse(item)
            if parsed.quarantined is not None:
                quarantined.append(parsed.quarantined)
                continue
            assert parsed.record is not None and parsed.created_at is not None
            record, moment = parsed.record, int(parsed.created_at.timestamp())
            if record.external_id in skip_ids or record.external_id in delivered:
                continue
            delivered.add(record.external_id)
            records.append(record)
            if newest is None or moment > newest:
                newest, newest_ids = moment, {record.external_id}
            elif moment == newest:
                newest_ids.add(record.external_id)
            if oldest is None or moment < oldest:
                oldest, oldest_ids = moment, {record.external_id}
            elif moment == oldest:
                oldest_ids.add(record.external_id)
        capped = page.has_next
    if capped and oldest is not None:
        until_ids = oldest_ids | (set(pending.get("until_ids", [])) if pending and pending["until"] == oldest else set())
        next_cursor = TimeWindowCursor(
            cursor.since,
            cursor.seen,
            {"until": oldest, "until_ids": sorted(until_ids), "newest": newest, "newest_ids": sorted(newest_ids)},
        )
    elif newest is not None and (cursor.since is None or newest >= cursor.since):
        seen = newest_ids | (set(cursor.seen) if newest == cursor.since else set())
        next_cursor = TimeWindowCursor(newest, sorted(seen), None)
    else:
        next_cursor = TimeWindowCursor(cursor.since, cursor.seen, None)
    return WindowResult(records, quarantined, next_cursor)
