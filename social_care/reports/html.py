"""The HTML report: one self-contained, phone-friendly file with charts embedded as base64 PNG."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from social_care.reports.charts import all_charts
from social_care.reports.model import Breakdown, Change, Report

_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).parent),
    autoescape=select_autoescape(["html", "j2"], default=True),  # every mention text is user input
    trim_blocks=True,
    lstrip_blocks=True,
)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _delta(change: Change, *, bad_when_up: bool) -> tuple[str, str]:
    if change.change == 0:
        return "same as last week", "flat"
    arrow = "▲" if change.change > 0 else "▼"
    pct = "" if change.change_pct is None else f" ({change.change_pct:+.0f}%)"
    tone = "up" if (change.change > 0) == bad_when_up else "down"
    return f"{arrow} {abs(change.change)} vs last week{pct}", tone


def _minutes(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 120:
        return f"{value / 60:.1f} h"
    return f"{value:.0f} min"


def _table(items: list[Breakdown], dimension: str) -> Markup:
    rows = [f"<tr><th>{escape(dimension)}</th><th>mentions</th><th>Δ</th><th>complaints</th><th>Δ</th></tr>"]
    for item in items:
        rows.append(
            f"<tr><td>{escape(_label(item.key))}</td><td>{item.mentions.this_week}</td><td>{item.mentions.change:+d}</td>"
            f"<td>{item.complaints.this_week}</td><td>{item.complaints.change:+d}</td></tr>"
        )
    if not items:
        rows.append("<tr><td colspan=5>No mentions this week</td></tr>")
    return Markup("<table>" + "".join(rows) + "</table>")


def render_html(report: Report) -> str:
    r = report.response
    mentions_delta, mentions_tone = _delta(report.mentions, bad_when_up=False)
    complaints_delta, complaints_tone = _delta(report.complaints, bad_when_up=True)
    complaint_share = report.complaints.this_week / report.mentions.this_week if report.mentions.this_week else None
    kpis = [
        {"label": "mentions", "value": report.mentions.this_week, "delta": mentions_delta, "tone": mentions_tone},
        {"label": "complaints", "value": report.complaints.this_week, "delta": complaints_delta,
         "tone": complaints_tone},
        {"label": "complaint share", "value": _pct(complaint_share), "delta": "of mentions", "tone": "flat"},
        {"label": f"answered within {r.sla_minutes} min", "value": _pct(r.within_sla_share),
         "delta": f"{r.within_sla} of {r.sla_eligible}", "tone": "flat"},
    ]
    response_rows = [
        ("mentions with a draft", r.drafted),
        ("replies posted", r.replied),
        ("first response, median", _minutes(r.first_response_median_min)),
        ("first response, 90th percentile", _minutes(r.first_response_p90_min)),
        ("waiting for approval, median", _minutes(r.approval_wait_median_min)),
        ("waiting for approval, 90th percentile", _minutes(r.approval_wait_p90_min)),
        (f"answered within {r.sla_minutes} min", f"{r.within_sla} of {r.sla_eligible} ({_pct(r.within_sla_share)})"),
        ("approved without edits", f"{r.approved_unedited} of {r.approvals} ({_pct(r.unedited_share)})"),
        ("rejected drafts", r.rejected),
    ]
    filters = ", ".join(f"{k} {v}" for k, v in report.filters.items() if v)
    return _ENV.get_template("report.html.j2").render(
        r=report,
        charts=all_charts(report),
        kpis=kpis,
        spiking=report.spiking,
        response_rows=response_rows,
        filters=filters,
        start_text=_day(report.start),
        # The week ends at the next Monday 00:00; people read "to Sunday".
        end_text=_day(report.end, days_before=1),
        table=_table,
        pct=_pct,
        when=_when,
        label=_label,
    )


def _label(key: str) -> str:
    """Category keys read as words (and wrap on a phone): damaged_defective -> damaged defective."""
    return key.replace("_", " ")


def _when(iso: str) -> str:
    return datetime.fromisoformat(iso).strftime("%a %d %b, %H:%M")


def _day(iso: str, *, days_before: int = 0) -> str:
    return (datetime.fromisoformat(iso) - timedelta(days=days_before)).strftime("%a %d %b %Y")
