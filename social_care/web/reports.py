"""The weekly reports in the inbox: the list of kept reports, each readable as its own page."""

from __future__ import annotations

import re

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, Response

from social_care.reports import list_reports
from social_care.web.auth import CoreDep, UserDep
from social_care.web.inbox import HTMX_CONFIG
from social_care.web.security import csrf_token
from social_care.web.views import render

router = APIRouter()

_WEEK = re.compile(r"^\d{4}-W\d{2}$")
# A stored report is one self-contained file: inline CSS and data: images, no scripts, no links out.
REPORT_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
              "form-action 'none'; frame-ancestors 'none'")


@router.get("/reports")
def reports_page(request: Request, core: CoreDep, user: UserDep) -> Response:
    return render(request, "reports.html", {
        "user": user, "csrf": csrf_token(request), "htmx_config": HTMX_CONFIG,
        "brand": core.config.brand.name, "reports": list_reports(core.config),
        "weekly_at": core.config.settings.reports.weekly_at,
    })


@router.get("/reports/{name}")
def report_file(name: str, core: CoreDep, user: UserDep) -> Response:
    week, _, ext = name.partition(".")
    if not _WEEK.match(week) or ext not in ("html", "json"):
        raise HTTPException(404, "no such report")
    for report in list_reports(core.config):
        path = report.html_path if ext == "html" else report.json_path
        if report.week == week and path is not None and path.is_file():
            headers = {"Content-Security-Policy": REPORT_CSP} if ext == "html" else {}
            return FileResponse(path, media_type="text/html" if ext == "html" else "application/json",
                                headers=headers)
    raise HTTPException(404, f"no report for {week} yet")
