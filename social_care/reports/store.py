"""Stored weekly reports: the Monday job that writes `data_dir/reports/<week>.{html,json}`, e-mails them, and lists them."""

from __future__ import annotations

import json
import logging
import os
import smtplib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from social_care.config import Config
from social_care.reports.build import build_report
from social_care.reports.html import render_html
from social_care.reports.model import Report
from social_care.reports.tabular import render_json
from social_care.reports.weeks import last_complete_week, parse_week

log = logging.getLogger(__name__)

SMTP_KEYS = ("host", "port", "user", "password_env", "from", "to")


@dataclass(frozen=True)
class StoredReport:
    """A report kept on disk, as the web inbox lists it."""

    week: str
    html_path: Path | None
    json_path: Path | None
    created_at: datetime  # when the files were written (UTC)
    mentions: int | None  # headline figures read from the JSON, for a list view
    complaints: int | None
    spiking_categories: list[str]


def reports_dir(config: Config) -> Path:
    return config.data_dir / "reports"


def _write_atomically(path: Path, text: str) -> None:
    """A reader (the web inbox) never sees half a file: write aside, then rename."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def produce_weekly_report(engine: Engine, config: Config, *, now: datetime | None = None,
                          smtp: Mapping[str, Any] | None = None, force: bool = False) -> list[Path]:
    """Build last week's report into data_dir/reports/<week>.{html,json}; e-mail it once when ``smtp`` is given.

    Idempotent: when both files exist they are kept (rebuilt only with ``force``), and a marker file
    `<week>.emailed` keeps a restarted daemon from mailing the same week twice.
    """
    week = last_complete_week(ZoneInfo(config.brand.timezone), now)
    folder = reports_dir(config)
    folder.mkdir(parents=True, exist_ok=True)
    html_path, json_path = folder / f"{week.label}.html", folder / f"{week.label}.json"
    report: Report | None = None
    if force or not (html_path.exists() and json_path.exists()):
        report = build_report(engine, config, week.label, now=now)
        _write_atomically(json_path, render_json(report))
        _write_atomically(html_path, render_html(report))
        log.info("weekly report %s written to %s", week.label, folder)
    marker = folder / f"{week.label}.emailed"
    if smtp and not marker.exists():
        summary = json.loads(json_path.read_text(encoding="utf-8")) if report is None else report.to_dict()
        send_report_email(smtp, week.label, summary, html_path)
        marker.write_text(datetime.now(UTC).isoformat(), encoding="utf-8")
    return [html_path, json_path]


def _summary_text(summary: Mapping[str, Any]) -> str:
    mentions, complaints = summary["mentions"], summary["complaints"]
    response = summary["response"]
    lines = [
        f"{summary['brand']}: week {summary['week']} ({summary['timezone']})",
        "",
        f"Mentions: {mentions['this_week']} ({mentions['change']:+d} vs last week)",
        f"Complaints: {complaints['this_week']} ({complaints['change']:+d} vs last week)",
        f"Spiking categories: {', '.join(summary['spiking_categories']) or 'none'}",
        f"Answered within {response['sla_minutes']} min: {response['within_sla']} of {response['sla_eligible']}",
        "",
        "The full report, with charts, is attached (open it in a browser).",
    ]
    return "\n".join(lines) + "\n"


def send_report_email(smtp: Mapping[str, Any], week: str, summary: Mapping[str, Any], html_path: Path) -> None:
    """Send the report: a plain-text summary with the HTML report attached.

    ``smtp`` keys: host, port (default 587), user (optional), password_env (name of the environment
    variable holding the password; never the password itself), from, to (a list), starttls
    (default True when a user is given).
    """
    missing = [k for k in ("host", "from", "to") if not smtp.get(k)]
    if missing:
        raise ValueError(f"smtp settings need {', '.join(missing)} (keys: {', '.join(SMTP_KEYS)})")
    user = smtp.get("user")
    password = os.environ.get(str(smtp["password_env"]), "") if smtp.get("password_env") else ""
    if user and smtp.get("password_env") and not password:
        raise ValueError(f"smtp password_env names {smtp['password_env']}, which is not set")
    recipients = [smtp["to"]] if isinstance(smtp["to"], str) else list(smtp["to"])
    message = EmailMessage()
    message["Subject"] = f"{summary['brand']} weekly complaint report {week}"
    message["From"] = str(smtp["from"])
    message["To"] = ", ".join(recipients)
    message.set_content(_summary_text(summary))
    message.add_attachment(html_path.read_bytes(), maintype="text", subtype="html", filename=html_path.name)
    with smtplib.SMTP(str(smtp["host"]), int(smtp.get("port") or 587), timeout=30) as client:
        if smtp.get("starttls", bool(user)):
            client.starttls()
        if user:
            client.login(str(user), password)
        client.send_message(message, to_addrs=recipients)
    log.info("weekly report %s e-mailed to %s", week, ", ".join(recipients))


def list_reports(config: Config) -> list[StoredReport]:
    """Reports kept under data_dir/reports, newest week first."""
    folder = reports_dir(config)
    if not folder.is_dir():
        return []
    weeks: set[str] = set()
    for path in folder.iterdir():
        if path.suffix in (".html", ".json") and not path.name.startswith("."):
            try:
                weeks.add(parse_week(path.stem).label)
            except ValueError:
                continue  # someone else's file in the folder: not a report
    stored = []
    for label in sorted(weeks, reverse=True):
        html_path, json_path = folder / f"{label}.html", folder / f"{label}.json"
        existing = [p for p in (html_path, json_path) if p.exists()]
        created = datetime.fromtimestamp(max(p.stat().st_mtime for p in existing), UTC)
        summary: dict[str, Any] = {}
        if json_path.exists():
            try:
                summary = json.loads(json_path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                summary = {}  # a damaged JSON still lists its HTML
        stored.append(StoredReport(
            week=label,
            html_path=html_path if html_path.exists() else None,
            json_path=json_path if json_path.exists() else None,
            created_at=created,
            mentions=(summary.get("mentions") or {}).get("this_week"),
            complaints=(summary.get("complaints") or {}).get("this_week"),
            spiking_categories=list(summary.get("spiking_categories") or []),
        ))
    return stored
