"""Incremental sync of newest-first Graph edges (Page feed, Instagram tags) by time window.

The cursor's high-water mark moves only after a pagination ran to its end. When a poll stops at
its page cap, the cursor keeps the query of the next page (``pending``) and the next poll resumes
there, so a large backlog is worked through without skipping anything. Should that paging cursor
have expired, the backfill starts over from the mark (items may repeat; none is lost).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectors.base import MentionRecord, PermanentError, QuarantinedItem
from connectors.graph import GraphClient


@dataclass(frozen=True)
class ParsedItem:
    """One raw item turned into a record (or a quarantined item), with its time when known."""

    record: MentionRecord | None
    quarantined: QuarantinedItem | None
    created_at: datetime | None


ItemParser = Callable[[dict[str, Any]], ParsedItem]


@dataclass
class TimeWindowCursor:
    since: int | None = None  # unix seconds of the newest item delivered
    seen: list[str] = field(default_factory=list)  # ids at exactly ``since``, already delivered
    pending: dict[str, Any] | None = None  # {"next": query, "newest", "newest_ids"} mid-backfill

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


@dataclass
class _Newest:
    moment: int | None = None
    ids: set[str] = field(default_factory=set)

    def note(self, moment: int, item_id: str) -> None:
        if self.moment is None or moment > self.moment:
            self.moment, self.ids = moment, {item_id}
        elif moment == self.moment:
            self.ids.add(item_id)


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
    pending = cursor.pending
    newest = (
        _Newest(pending.get("newest"), set(pending.get("newest_ids", []))) if pending else _Newest()
    )
    request = (
        dict(pending["next"]) if pending and pending.get("next") else dict(params, since=since)
    )
    try:
        records, quarantined, next_params = _read(
            client, path, request, cursor, parse, newest, max_pages
        )
    except PermanentError:
        if not pending:
            raise
        # The saved paging cursor expired: read the window again from the mark.
        newest = _Newest()
        records, quarantined, next_params = _read(
            client, path, dict(params, since=since), cursor, parse, newest, max_pages
        )
    if next_params is not None:
        next_cursor = TimeWindowCursor(
            cursor.since,
            cursor.seen,
            {"next": next_params, "newest": newest.moment, "newest_ids": sorted(newest.ids)},
        )
    elif newest.moment is not None and (cursor.since is None or newest.moment >= cursor.since):
        seen = newest.ids | (set(cursor.seen) if newest.moment == cursor.since else set())
        next_cursor = TimeWindowCursor(newest.moment, sorted(seen), None)
    else:
        next_cursor = TimeWindowCursor(cursor.since, cursor.seen, None)
    return WindowResult(records, quarantined, next_cursor)


def _read(
    client: GraphClient,
    path: str,
    request: dict[str, Any],
    cursor: TimeWindowCursor,
    parse: ItemParser,
    newest: _Newest,
    max_pages: int,
) -> tuple[list[MentionRecord], list[QuarantinedItem], dict[str, str] | None]:
    skip_ids = set(cursor.seen)
    records: list[MentionRecord] = []
    quarantined: list[QuarantinedItem] = []
    delivered: set[str] = set()
    next_params: dict[str, str] | None = None
    for page in client.pages(path, request, max_pages):
        for item in page.items:
            parsed = parse(item)
            if parsed.quarantined is not None:
                quarantined.append(parsed.quarantined)
                continue
            assert parsed.record is not None and parsed.created_at is not None
            record = parsed.record
            if record.external_id in skip_ids or record.external_id in delivered:
                continue
            delivered.add(record.external_id)
            records.append(record)
            newest.note(int(parsed.created_at.timestamp()), record.external_id)
        next_params = page.next_params
    return records, quarantined, next_params
