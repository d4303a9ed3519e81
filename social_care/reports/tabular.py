"""Machine formats of a report: JSON (every figure) and tidy CSV rows for people's own BI tools."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from social_care.reports.model import Breakdown, Change, Report

CSV_HEADER = ("section", "dimension", "key", "metric", "value")
Row = tuple[str, str, str, str, Any]


def render_json(report: Report) -> str:
    return json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n"


def _change_rows(section: str, dimension: str, key: str, name: str, change: Change, weeks: list[str]) -> Iterator[Row]:
    yield section, dimension, key, f"{name}_this_week", change.this_week
    yield section, dimension, key, f"{name}_previous_week", change.previous_week
    yield section, dimension, key, f"{name}_change", change.change
    yield section, dimension, key, f"{name}_change_pct", change.change_pct
    for label, value in zip(weeks, change.series):
        yield "series", dimension, key, f"{name}_{label}", value


def _breakdown_rows(dimension: str, items: list[Breakdown], weeks: list[str]) -> Iterator[Row]:
    for item in items:
        yield from _change_rows("volume", dimension, item.key, "mentions", item.mentions, weeks)
        yield from _change_rows("volume", dimension, item.key, "complaints", item.complaints, weeks)


def csv_rows(report: Report) -> Iterator[Row]:
    """Every figure as (section, dimension, key, metric, value); empty value = not defined."""
    for name, value in (("week", report.week), ("previous_week", report.previous_week),
                        ("timezone", report.timezone), ("start", report.start), ("end", report.end),
                        ("brand", report.brand), ("account", report.filters.get("account")),
                        ("platform", report.filters.get("platform")), ("generated_at", report.generated_at)):
        yield "report", "meta", "", name, value
    yield from _change_rows("volume", "total", "all", "mentions", report.mentions, report.weeks)
    yield from _change_rows("volume", "total", "all", "complaints", report.complaints, report.weeks)
    yield from _breakdown_rows("platform", report.by_platform, report.weeks)
    yield from _breakdown_rows("language", report.by_language, report.weeks)
    yield from _breakdown_rows("category", report.by_category, report.weeks)
    for spike in report.spikes:
        for metric in ("this_week", "median", "mad", "scale", "z", "spike"):
            yield "spikes", "category", spike.category, metric, getattr(spike, metric)
        for i, example in enumerate(spike.examples, 1):
            yield "spikes", "category", spike.category, f"example_{i}", f"{example.author}: {example.text}"
    for key, value in report.sentiment.items():
        yield "sentiment", "sentiment", key, "mentions", value
        yield "sentiment", "sentiment", key, "share", report.sentiment_share[key]
    for key, value in report.complaint_severity.items():
        yield "severity", "severity", key, "complaints", value
    for metric in ("due", "resolved", "resolved_share"):
        yield "remedies", "total", "all", metric, getattr(report.remedies, metric)
    response = report.response
    for metric, value in vars(response).items():
        if metric != "rejected_reasons":
            yield "response", "total", "all", metric, value
    for reason in response.rejected_reasons:
        yield "response", "rejected_reason", reason.reason, "drafts", reason.count
    for term in report.new_terms:
        yield "new_terms", "term", term.term, "complaints", term.complaints


def render_csv(report: Report) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for row in csv_rows(report):
        writer.writerow(["" if v is None else v for v in row])
    return buffer.getvalue()
