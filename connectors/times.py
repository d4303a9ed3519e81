"""Timestamp parsing for the platforms' formats, always returning aware UTC datetimes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def utc_now() -> datetime:
    return datetime.now(UTC)


def parse_x_time(value: str) -> datetime:
    """X API v2 ``created_at``: ``2024-01-15T10:30:00.000Z`` (milliseconds always present)."""
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def parse_graph_time(value: str | float) -> datetime:
    """Graph ``created_time``/``timestamp`` (``2021-07-04T19:50:58+0000``) or a webhook's unix time."""
    if isinstance(value, bool):
        raise TypeError(f"not a timestamp: {value!r}")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    if value.isdigit():
        return datetime.fromtimestamp(int(value), UTC)
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z").astimezone(UTC)


def next_utc_midnight(now: datetime) -> datetime:
    start_of_day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return start_of_day + timedelta(days=1)
