"""Build a weekly report: run the aggregate queries and turn their rows into a :class:`Report`."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection, Engine

from connectors.base import PLATFORMS
from social_care.config import Config
from social_care.db import is_postgres
from social_care.models import ReplyState
from social_care.reports import queries, stats, terms
from social_care.reports.anonymise import anonymise_handle, anonymise_text
from social_care.reports.model import (
    Breakdown,
    CategorySpike,
    Change,
    Example,
    RejectionReason,
    Remedies,
    Report,
    Response,
    Term,
)
from social_care.reports.weeks import Week, last_complete_week, parse_week, week_edges

SERIES_WEEKS = 9  # this week and the trailing 8
# Complaint texts read for the term statistics (an even sample above it): this week's counts are
# shown, the trailing weeks' only decide what is "not new", for which a smaller sample suffices.
TEXTS_THIS_WEEK = 5000
TEXTS_TRAILING_WEEK = 2000
SENTIMENTS = ("negative", "neutral", "positive")
SEVERITIES = ("0", "1", "2", "3", "4")
UNCLASSIFIED = "unclassified"


def build_report(engine: Engine, config: Config, week: str | None = None, *, account: str | None = None,
                 platform: str | None = None, now: datetime | None = None) -> Report:
    """The report for ``week`` (ISO `2026-W47`, brand time zone; default: the last complete week).

    Raises ValueError for a malformed week, an unknown account or an unknown platform.
    """
    tz = ZoneInfo(config.brand.timezone)
    target = parse_week(week) if week else last_complete_week(tz, now)
    if platform is not None and platform not in PLATFORMS:
        raise ValueError(f"unknown platform {platform!r} (use one of: {', '.join(PLATFORMS)})")
    weeks = [target.shifted(i - (SERIES_WEEKS - 1)) for i in range(SERIES_WEEKS)]
    with engine.connect() as connection:
        if is_postgres(engine):
            # Row estimates over a large range (and 100 rows guessed per JSON unnest) push these
            # aggregates past jit_above_cost, and compiling took longer than running them; this
            # transaction only.
            connection.exec_driver_sql("SET LOCAL jit = off")
        account_id = queries.account_id(connection, account) if account else None
        scope = queries.Scope(week_edges(weeks, tz), account_id, platform, is_postgres(engine))
        volume, category_rows = queries.volume(connection, scope)
        mix = queries.mix(connection, scope)
        remedy_due, remedy_resolved = queries.remedies(connection, scope)
        draft_rows = queries.drafts(connection, scope)
        complaints_per_week = _series(volume, lambda r: "all", lambda r: r.complaint)["all"]
        spikes = _spikes(connection, scope, category_rows, config, tz)
        fresh = _new_terms(connection, scope, complaints_per_week, config)

    start, end = target.local_bounds(tz)
    classified = sum(n for *_, n in mix)
    sentiment = dict.fromkeys(SENTIMENTS, 0)
    severity = dict.fromkeys(SEVERITIES, 0)
    for mood, is_complaint, level, n in mix:
        sentiment[mood] = sentiment.get(mood, 0) + n
        if is_complaint:
            severity[str(level)] = severity.get(str(level), 0) + n
    totals_m = _series(volume, lambda r: "all", lambda r: True)
    return Report(
        week=target.label,
        previous_week=weeks[-2].label,
        timezone=config.brand.timezone,
        start=start.isoformat(),
        end=end.isoformat(),
        generated_at=(now or datetime.now(UTC)).astimezone(tz).isoformat(timespec="seconds"),
        brand=config.brand.name,
        filters={"account": account, "platform": platform},
        weeks=[w.label for w in weeks],
        mentions=Change.from_series(totals_m.get("all", [0] * SERIES_WEEKS)),
        complaints=Change.from_series(complaints_per_week),
        by_platform=_breakdowns(volume, lambda r: r.platform),
        by_language=_breakdowns(volume, lambda r: r.language or UNCLASSIFIED),
        by_category=_category_breakdowns(category_rows),
        spike_rule=stats.SPIKE_RULE,
        spikes=spikes,
        sentiment=dict(sorted(sentiment.items())),
        sentiment_share={k: stats.share(v, classified) or 0.0 for k, v in sorted(sentiment.items())},
        complaint_severity=dict(sorted(severity.items())),
        remedies=Remedies(remedy_due, remedy_resolved, stats.share(remedy_resolved, remedy_due)),
        response=_response(draft_rows, config.settings.reply_policy.sla_minutes),
        terms_rule=terms.TERMS_RULE,
        new_terms=[Term(t, n) for t, n in fresh],
    )


def _series(rows: Iterable[queries.VolumeRow], key: Callable[[queries.VolumeRow], str],
            count_if: Callable[[queries.VolumeRow], bool]) -> dict[str, list[int]]:
    """Per key, the 9 weekly sums of the rows that pass ``count_if`` (keys seen in any week)."""
    series: dict[str, list[int]] = defaultdict(lambda: [0] * SERIES_WEEKS)
    for r in rows:
        counts = series[key(r)]
        if count_if(r):
            counts[r.week] += r.mentions
    if not series:
        series["all"] = [0] * SERIES_WEEKS
    return dict(series)


def _ordered(items: list[Breakdown]) -> list[Breakdown]:
    return sorted(items, key=lambda b: (-b.mentions.this_week, -b.complaints.this_week, b.key))


def _breakdowns(rows: list[queries.VolumeRow], key: Callable[[queries.VolumeRow], str]) -> list[Breakdown]:
    if not rows:
        return []
    mentions = _series(rows, key, lambda r: True)
    complaints = _series(rows, key, lambda r: r.complaint)
    return _ordered([Breakdown(k, Change.from_series(mentions[k]), Change.from_series(complaints[k]))
                     for k in mentions])


def _category_breakdowns(rows: list[tuple[int, str, int, int]]) -> list[Breakdown]:
    mentions: dict[str, list[int]] = defaultdict(lambda: [0] * SERIES_WEEKS)
    complaints: dict[str, list[int]] = defaultdict(lambda: [0] * SERIES_WEEKS)
    for week, category, n, c in rows:
        mentions[category][week] += n
        complaints[category][week] += c
    return _ordered([Breakdown(k, Change.from_series(mentions[k]), Change.from_series(complaints[k]))
                     for k in mentions])


def _spikes(connection: Connection, scope: queries.Scope, rows: list[tuple[int, str, int, int]],
            config: Config, tz: ZoneInfo) -> list[CategorySpike]:
    complaints: dict[str, list[int]] = defaultdict(lambda: [0] * SERIES_WEEKS)
    for week, category, _n, c in rows:
        complaints[category][week] += c
    result = []
    for category, series in complaints.items():
        if not any(series):
            continue
        centre, mad, scale, z = stats.robust_z(series[:-1], series[-1])
        spike = stats.is_spike(series[-1], z)
        examples = _examples(connection, scope, category, config, tz) if spike else []
        result.append(CategorySpike(category, series[-1], round(centre, 2), round(mad, 2), round(scale, 3),
                                    round(z, 2), spike, examples))
    return sorted(result, key=lambda s: (not s.spike, -s.z, s.category))


def _examples(connection: Connection, scope: queries.Scope, category: str, config: Config,
              tz: ZoneInfo) -> list[Example]:
    own = list(config.brand.handles.values())
    return [
        Example(r.mention_id, r.platform, anonymise_handle(r.handle, r.platform),
                r.created_at.astimezone(tz).isoformat(timespec="minutes"), r.severity, round(r.complaint_score, 3),
                anonymise_text(r.text, keep=own, platform=r.platform))
        for r in queries.examples(connection, scope, category)
    ]


def _minutes(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / 60.0


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _response(rows: list[queries.DraftRow], sla_minutes: int) -> Response:
    first = [_minutes(r.posted, r.mention_created) for r in rows if r.posted is not None]
    waits = [_minutes(r.approved, r.drafted) for r in rows if r.approved is not None]
    rejected = [r for r in rows if r.state == ReplyState.REJECTED.value]
    eligible = [r for r in rows if r.state != ReplyState.REJECTED.value]
    within = sum(1 for r in eligible if r.posted is not None and _minutes(r.posted, r.mention_created) <= sla_minutes)
    unedited = sum(1 for r in rows if r.approval_action == "approved")
    edited = sum(1 for r in rows if r.approval_action == "edited_and_approved")
    reasons: dict[str, int] = defaultdict(int)
    for r in rejected:
        reasons[(r.rejected_reason or "").strip() or "(no reason given)"] += 1
    return Response(
        drafted=len(rows),
        replied=len(first),
        first_response_median_min=_rounded(stats.percentile(first, 0.5)),
        first_response_p90_min=_rounded(stats.percentile(first, 0.9)),
        approval_wait_median_min=_rounded(stats.percentile(waits, 0.5)),
        approval_wait_p90_min=_rounded(stats.percentile(waits, 0.9)),
        sla_minutes=sla_minutes,
        sla_eligible=len(eligible),
        within_sla=within,
        within_sla_share=stats.share(within, len(eligible)),
        approvals=unedited + edited,
        approved_unedited=unedited,
        edited_and_approved=edited,
        unedited_share=stats.share(unedited, unedited + edited),
        rejected=len(rejected),
        rejected_reasons=[RejectionReason(k, v) for k, v in sorted(reasons.items(), key=lambda i: (-i[1], i[0]))],
    )


def _new_terms(connection: Connection, scope: queries.Scope, complaints_per_week: list[int],
               config: Config) -> list[tuple[str, int]]:
    brand_words = {w.lower() for w in config.brand.name.split()}
    brand_words |= {h.lower() for h in config.brand.handles.values()}
    brand_words |= {k.lower().lstrip("#") for k in (*config.brand.keywords, *config.brand.hashtags)}
    ignore = frozenset(brand_words)
    counts = [
        terms.term_counts(queries.complaint_texts(
            connection, scope, week, total, TEXTS_THIS_WEEK if week == scope.this_week else TEXTS_TRAILING_WEEK),
            ignore=ignore)
        if total else Counter[str]()
        for week, total in enumerate(complaints_per_week)
    ]
    return terms.new_terms(counts[-1], counts[:-1])


__all__ = ["Week", "build_report"]
