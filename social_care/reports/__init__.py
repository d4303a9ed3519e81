"""Weekly complaint-trend reports: build one from the database, render it, keep and list stored ones.

Public API:

- :func:`build_report` -> :class:`Report` (every figure, JSON-serialisable with ``to_dict``);
- :func:`render_terminal`, :func:`render_html`, :func:`render_json`, :func:`render_csv`;
- :func:`produce_weekly_report` (the daemon's Monday job) and :func:`list_reports` (the web inbox).

The spike rule is documented in :mod:`social_care.reports.stats`, the new-terms rule in
:mod:`social_care.reports.terms`; both are also written into every report.
"""

from __future__ import annotations

from social_care.reports.build import build_report
from social_care.reports.html import render_html
from social_care.reports.model import Report
from social_care.reports.store import (
    StoredReport,
    list_reports,
    produce_weekly_report,
    send_report_email,
)
from social_care.reports.tabular import render_csv, render_json
from social_care.reports.terminal import render_terminal
from social_care.reports.weeks import Week, last_complete_week, parse_week

FORMATS = ("terminal", "html", "json", "csv")

__all__ = [
    "FORMATS",
    "Report",
    "StoredReport",
    "Week",
    "build_report",
    "last_complete_week",
    "list_reports",
    "parse_week",
    "produce_weekly_report",
    "render_csv",
    "render_html",
    "render_json",
    "render_terminal",
    "send_report_email",
]
