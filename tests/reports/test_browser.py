"""The HTML report in a real browser (headless Chromium): readable on a phone.

The screenshot goes to docs/screenshots/report.png when missing or with SOCIAL_CARE_UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from social_care.db import create_db_engine
from social_care.reports import build_report, render_html

from .conftest import NOW, make_config

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "report.png"
PHONE = {"width": 412, "height": 915}


@pytest.mark.browser
def test_html_report_reads_well_on_a_phone(sqlite_seeded_url: str, tmp_path: Path, chromium: Any) -> None:
    url = sqlite_seeded_url
    engine = create_db_engine(url)
    page_file = tmp_path / "2026-W46.html"
    page_file.write_text(render_html(build_report(engine, make_config(tmp_path, database_url=url), "2026-W46",
                                                  now=NOW)), encoding="utf-8")
    engine.dispose()

    page = chromium.new_page(viewport=PHONE, device_scale_factor=2)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(page_file.as_uri())
    page.wait_for_load_state("load")
    images = page.eval_on_selector_all("img", "els => els.map(e => [e.complete, e.naturalWidth])")
    assert len(images) == 4 and all(done and width > 0 for done, width in images)
    # Nothing wider than the phone (tables scroll inside their own box), and large enough text.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 16
    assert "<script>alert(1)</script>" in page.inner_text("blockquote >> nth=0")
    assert dialogs == []  # the mention's script was shown, not run
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    # The docs copy is refreshed on request (or when missing), so an ordinary run leaves the tree clean.
    if os.environ.get("SOCIAL_CARE_UPDATE_SCREENSHOTS") == "1" or not SCREENSHOT.exists():
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        SCREENSHOT.write_bytes(shot.read_bytes())
