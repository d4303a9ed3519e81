"""The inbox lists the kept weekly reports and serves each one under a CSP that allows no script."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from social_care.app import SocialCare
from social_care.reports import produce_weekly_report
from social_care.web.reports import REPORT_CSP


def _point_data_dir(core: SocialCare, folder) -> None:  # type: ignore[no-untyped-def]
    settings = core.config.settings.model_copy(update={"data_dir": str(folder)})
    core.config = core.config.__class__(settings=settings, path=core.config.path, base_dir=core.config.base_dir)


def test_reports_page_lists_and_serves_kept_reports(core: SocialCare, client: TestClient, as_user, tmp_path) -> None:
    _point_data_dir(core, tmp_path / "data")
    assert client.get("/reports", follow_redirects=False).status_code == 303  # log in first
    viewer = as_user("vera")
    assert "No report yet" in viewer.client.get("/reports").text

    produce_weekly_report(core.engine, core.config, now=datetime(2026, 11, 23, 10, tzinfo=UTC))
    page = viewer.client.get("/reports")
    assert page.status_code == 200 and "2026-W47" in page.text and 'href="/reports/2026-W47.html"' in page.text
    report = viewer.client.get("/reports/2026-W47.html")
    assert report.status_code == 200 and report.headers["content-security-policy"] == REPORT_CSP
    assert "script-src" not in REPORT_CSP and "<script" not in report.text.lower()
    assert viewer.client.get("/reports/2026-W47.json").json()["week"] == "2026-W47"


def test_report_names_cannot_escape_the_reports_folder(core: SocialCare, as_user, tmp_path) -> None:
    _point_data_dir(core, tmp_path / "data")
    viewer = as_user("vera")
    for name in ("..%2F..%2Fconfig.yaml", "2026-W47.yaml", "2026-W99.html", "x.html"):
        assert viewer.client.get(f"/reports/{name}").status_code == 404
