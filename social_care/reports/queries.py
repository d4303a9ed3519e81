"""The SQL behind a report: grouped counts over the 9-week range, plus the few rows that need Python.

Everything is aggregated in the database (one GROUP BY per family of figures) so a report over
millions of mentions reads a few thousand rows back. Week buckets come from a CASE over the UTC
edges of the local weeks, so time zones are decided in Python once and SQL only compares instants.
Categories are a JSON list: rows are grouped by the list's text first, and only those few groups
are unnested (PostgreSQL json_array_elements_text, SQLite json_each).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from social_care.models import UTCDateTime

_EDGE_RE = re.compile(r":b(\d+)\b")  # the week-edge parameters a statement uses


@dataclass(frozen=True)
class Scope:
    """Which mentions a report covers: the week edges (UTC, oldest first) and the filters."""

    edges: list[datetime]
    account_id: int | None = None
    platform: str | None = None
    postgres: bool = False

    @property
    def weeks(self) -> int:
        return len(self.edges) - 1

    def where(self, first: int = 0, last: int | None = None) -> str:
        """Mentions created in weeks first..last (inclusive), not the brand's own posts, filtered."""
        last = self.weeks - 1 if last is None else last
        clauses = [f"m.created_at >= :b{first}", f"m.created_at < :b{last + 1}", "NOT m.is_own"]
        if self.account_id is not None:
            clauses.append("m.account_id = :account_id")
        if self.platform is not None:
            clauses.append("m.platform = :platform")
        return " AND ".join(clauses)

    def bucket(self) -> str:
        """The week index (0 = oldest) of m.created_at, for rows already inside the range."""
        whens = " ".join(f"WHEN m.created_at < :b{i} THEN {i - 1}" for i in range(1, self.weeks))
        return f"CASE {whens} ELSE {self.weeks - 1} END"

    def passes(self) -> list[tuple[int, int, str]]:
        """(first week, last week, week expression) per query of a 9-week aggregate.

        PostgreSQL: one pass with a CASE bucket (it hash-aggregates, and one pass joins the tables
        once). SQLite: one pass per week, since it aggregates by sorting and nine sorts of a week
        cost less than one sort of nine weeks; each week is an index range of its own.
        """
        if self.postgres:
            return [(0, self.weeks - 1, self.bucket())]
        return [(week, week, str(week)) for week in range(self.weeks)]

    def unnest_categories(self, column: str) -> str:
        """A FROM fragment that yields one row per element of the JSON list text ``column``, as je.value."""
        if self.postgres:
            return f"CROSS JOIN LATERAL json_array_elements_text(CAST({column} AS json)) AS je(value)"
        return f"CROSS JOIN json_each({column}) AS je"

    def categories_text(self) -> str:
        """c.categories as text, so equal lists group together (SQLite already stores JSON as text)."""
        return "CAST(c.categories AS text)" if self.postgres else "c.categories"

    def statement(self, sql: str, *timestamps: str) -> sa.TextClause:
        """``sql`` with typed week-edge binds; ``timestamps`` name result columns read back as aware UTC."""
        used = sorted({int(n) for n in _EDGE_RE.findall(sql)})
        binds = [sa.bindparam(f"b{i}", type_=UTCDateTime()) for i in used]
        statement = sa.text(sql).bindparams(*binds)
        if not timestamps:
            return statement
        return statement.columns(**{name: UTCDateTime() for name in timestamps})  # type: ignore[return-value]

    def params(self, **extra: Any) -> dict[str, Any]:
        values: dict[str, Any] = {f"b{i}": edge for i, edge in enumerate(self.edges)}  # extras are ignored
        if self.account_id is not None:
            values["account_id"] = self.account_id
        if self.platform is not None:
            values["platform"] = self.platform
        values.update(extra)
        return values

    @property
    def this_week(self) -> int:
        return self.weeks - 1


def account_id(connection: Connection, name: str) -> int:
    row = connection.execute(sa.text("SELECT id FROM accounts WHERE name = :name"), {"name": name}).first()
    if row is None:
        names = [r[0] for r in connection.execute(sa.text("SELECT name FROM accounts ORDER BY name"))]
        raise ValueError(f"no account named {name!r} in the database (accounts: {', '.join(names) or 'none'})")
    return int(row[0])


@dataclass(frozen=True)
class VolumeRow:
    week: int
    platform: str
    language: str | None  # None: not classified yet
    complaint: bool
    mentions: int


CategoryRow = tuple[int, str, int, int]  # (week, category, mentions, complaints)


def volume(connection: Connection, scope: Scope) -> tuple[list[VolumeRow], list[CategoryRow]]:
    """Mentions per week, platform, language and complaint flag; and per week and category.

    One pass over the join: the rows are first grouped with their category list as text (a handful
    of distinct lists), and only those groups are unnested (json_array_elements_text / json_each),
    instead of unnesting the JSON of every mention. Only dimensions that need a 9-week series are
    grouped here: on SQLite the GROUP BY sort is most of a report's time.
    """
    volume_rows: list[VolumeRow] = []
    category_rows: list[CategoryRow] = []
    for first, last, bucket in scope.passes():
        sql = f"""
            WITH g AS MATERIALIZED (
                SELECT {bucket} AS wk, m.platform AS platform, c.language AS language,
                       CASE WHEN c.complaint THEN 1 ELSE 0 END AS complaint, {scope.categories_text()} AS cats,
                       count(*) AS n
                FROM mentions m LEFT JOIN classifications c ON c.mention_id = m.id
                WHERE {scope.where(first, last)}
                GROUP BY 1, 2, 3, 4, 5
            )
            SELECT 'volume' AS kind, wk, platform AS name, language, complaint, sum(n) AS n, 0 AS complaints
            FROM g GROUP BY wk, platform, language, complaint
            UNION ALL
            SELECT 'category', wk, je.value, NULL, NULL, sum(n), sum(complaint * n)
            FROM g {scope.unnest_categories("g.cats")}
            WHERE g.cats <> '[]'
            GROUP BY wk, je.value
        """
        for r in connection.execute(scope.statement(sql), scope.params()):
            if r.kind == "volume":
                volume_rows.append(VolumeRow(int(r.wk), r.name, r.language, bool(r.complaint), int(r.n)))
            else:
                category_rows.append((int(r.wk), str(r.name), int(r.n), int(r.complaints or 0)))
    return volume_rows, category_rows


def mix(connection: Connection, scope: Scope) -> list[tuple[str, bool, int, int]]:
    """(sentiment, complaint, severity, mentions) of this week's classified mentions."""
    week = scope.this_week
    sql = f"""
        SELECT c.sentiment, CASE WHEN c.complaint THEN 1 ELSE 0 END AS complaint, c.severity, count(*) AS n
        FROM mentions m JOIN classifications c ON c.mention_id = m.id
        WHERE {scope.where(week, week)}
        GROUP BY 1, 2, 3
    """
    rows = connection.execute(scope.statement(sql), scope.params())
    return [(str(r[0]), bool(r[1]), int(r[2]), int(r[3])) for r in rows]


def remedies(connection: Connection, scope: Scope) -> tuple[int, int]:
    """(remedy-due mentions this week, of which a reply was posted)."""
    week = scope.this_week
    sql = f"""
        SELECT count(*),
               sum(CASE WHEN EXISTS (SELECT 1 FROM posted_replies p WHERE p.mention_id = m.id) THEN 1 ELSE 0 END)
        FROM mentions m JOIN classifications c ON c.mention_id = m.id
        WHERE {scope.where(week, week)} AND c.remedy_due
    """
    row = connection.execute(scope.statement(sql), scope.params()).one()
    return int(row[0]), int(row[1] or 0)


@dataclass(frozen=True)
class DraftRow:
    mention_created: datetime
    drafted: datetime
    approved: datetime | None
    state: str
    rejected_reason: str | None
    posted: datetime | None
    approval_action: str | None


def drafts(connection: Connection, scope: Scope) -> list[DraftRow]:
    """One row per reply draft of a mention created this week (drafts are one per mention)."""
    week = scope.this_week
    sql = f"""
        SELECT m.created_at AS mention_created, d.created_at AS drafted, d.approved_at AS approved, d.state,
               d.rejected_reason, p.posted_at AS posted,
               (SELECT e.action FROM reply_events e WHERE e.draft_id = d.id
                  AND e.action IN ('approved', 'edited_and_approved') ORDER BY e.id LIMIT 1) AS approval_action
        FROM mentions m JOIN reply_drafts d ON d.mention_id = m.id
        LEFT JOIN posted_replies p ON p.draft_id = d.id
        WHERE {scope.where(week, week)}
    """
    statement = scope.statement(sql, "mention_created", "drafted", "approved", "posted")
    rows = connection.execute(statement, scope.params())
    return [DraftRow(r.mention_created, r.drafted, r.approved, str(r.state), r.rejected_reason, r.posted,
                     r.approval_action) for r in rows]


@dataclass(frozen=True)
class ExampleRow:
    mention_id: int
    platform: str
    handle: str | None
    created_at: datetime
    severity: int
    complaint_score: float
    text: str


def examples(connection: Connection, scope: Scope, category: str, limit: int = 3) -> list[ExampleRow]:
    """The week's most severe, most certain complaints in ``category``."""
    week = scope.this_week
    if scope.postgres:
        member = "EXISTS (SELECT 1 FROM json_array_elements_text(c.categories) AS je(value) WHERE je.value = :category)"
    else:
        member = "EXISTS (SELECT 1 FROM json_each(c.categories) AS je WHERE je.value = :category)"
    sql = f"""
        SELECT m.id, m.platform, a.handle, m.created_at AS created_at, c.severity, c.complaint_score, m.text
        FROM mentions m JOIN classifications c ON c.mention_id = m.id
        LEFT JOIN authors a ON a.id = m.author_id
        WHERE {scope.where(week, week)} AND c.complaint AND {member}
        ORDER BY c.severity DESC, c.complaint_score DESC, m.id
        LIMIT :limit
    """
    statement = scope.statement(sql, "created_at")
    rows = connection.execute(statement, scope.params(category=category, limit=limit))
    return [ExampleRow(int(r[0]), r[1], r[2], r.created_at, int(r[4]), float(r[5]), r[6]) for r in rows]


def complaint_texts(connection: Connection, scope: Scope, week: int, total: int, cap: int) -> list[str]:
    """Texts of a week's complaints; over ``cap``, an even sample (every k-th mention id)."""
    step = max(1, -(-total // cap))  # ceiling division
    sample = " AND (m.id % :step) = 0" if step > 1 else ""
    sql = f"""
        SELECT m.text FROM mentions m JOIN classifications c ON c.mention_id = m.id
        WHERE {scope.where(week, week)} AND c.complaint{sample}
        ORDER BY m.id LIMIT :cap
    """
    rows = connection.execute(scope.statement(sql), scope.params(step=step, cap=cap))
    return [r[0] for r in rows]
