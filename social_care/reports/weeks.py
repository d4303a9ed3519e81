"""ISO weeks in the brand's time zone: parsing `2026-W47` and turning weeks into UTC ranges."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

_WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True, order=True)
class Week:
    """One ISO week (Monday 00:00 to the next Monday 00:00, local time)."""

    year: int
    number: int

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    def __str__(self) -> str:
        return self.label

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    def shifted(self, weeks: int) -> Week:
        return week_of(self.monday + timedelta(weeks=weeks))

    def local_bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        start = datetime.combine(self.monday, datetime.min.time(), tzinfo=tz)
        end = datetime.combine(self.monday + timedelta(weeks=1), datetime.min.time(), tzinfo=tz)
        return start, end

    def utc_bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        start, end = self.local_bounds(tz)
        return start.astimezone(UTC), end.astimezone(UTC)


def week_of(day: date) -> Week:
    year, number, _ = day.isocalendar()
    return Week(year, number)


def parse_week(text: str) -> Week:
    """`2026-W47` -> Week; anything else is a ValueError that says what a week looks like."""
    match = _WEEK_RE.fullmatch(text.strip())
    if not match:
        raise ValueError(f"invalid week {text!r}: use the ISO week format YYYY-Www, e.g. 2026-W47")
    year, number = int(match.group(1)), int(match.group(2))
    try:
        date.fromisocalendar(year, number, 1)
    except ValueError:
        raise ValueError(f"invalid week {text!r}: {year} has no ISO week {number} (weeks run 01 to 52 or 53)") from None
    return Week(year, number)


def last_complete_week(tz: ZoneInfo, now: datetime | None = None) -> Week:
    """The week before the one that contains ``now`` (local time): the latest week with every day over."""
    local_now = (now or datetime.now(UTC)).astimezone(tz)
    return week_of(local_now.date()).shifted(-1)


def week_edges(weeks: list[Week], tz: ZoneInfo) -> list[datetime]:
    """UTC instants that bound consecutive weeks: len(weeks) + 1 edges, oldest first."""
    edges = [w.utc_bounds(tz)[0] for w in weeks]
    edges.append(weeks[-1].utc_bounds(tz)[1])
    return edges
