"""The inbox in real headless Chromium: log in, filter, edit, approve, send; no mention script runs.

Needs Debian's chromium at /usr/bin/chromium (driven by the installed Playwright package; no
`playwright install`). Without it these tests skip, except under CI (SOCIAL_CARE_REQUIRE_BROWSER=1)
where a missing browser is a failure. The run takes a screenshot of the queue; it replaces
docs/screenshots/inbox.png (the README's) when that file is missing or when
SOCIAL_CARE_UPDATE_SCREENSHOTS=1, so an ordinary run leaves the working tree clean (the waiting
times differ on every run).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from social_care import models as m
from social_care.app import SocialCare

from .conftest import PASSWORD, draft_state, insert_draft

pytestmark = pytest.mark.browser

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "inbox.png"
XSS_MENTION = "<script>window.__xss=1</script> Adorei o atendimento da Loja Aurora!"
XSS_AUTHOR = '<img src=x onerror="window.__xss=2">'
EDITED = (
    "@ana Obrigado pelo carinho, Ana! Ficamos muito felizes com a sua mensagem. Equipe Loja Aurora"
)


class LiveServer:
    """uvicorn in a background thread on a free port of 127.0.0.1."""

    def __init__(self, app: Any) -> None:
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the web server did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def wait_until(page: Any, expression: str, timeout: float = 15.0) -> None:
    """Poll a JS expression through page.evaluate: Playwright's wait_for_function evaluates its
    predicate with eval(), which the inbox's CSP (rightly) refuses."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        time.sleep(0.05)


@pytest.fixture
def browser_page(app: Any, chromium: Any) -> Iterator[tuple[Any, str, list[str]]]:
    with LiveServer(app) as base_url:
        page = chromium.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(15_000)
        errors: list[str] = []  # console errors include CSP violations, which would mean a broken page
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        yield page, base_url, errors


def test_review_edit_approve_and_send_in_a_real_browser(
    browser_page, engine, core: SocialCare
) -> None:
    page, base_url, errors = browser_page
    xss = insert_draft(
        engine,
        1,
        mention=XSS_MENTION,
        author_name=XSS_AUTHOR,
        handle="ana",
        severity=1,
        priority=5.0,
        minutes_ago=12,
    )
    insert_draft(
        engine,
        2,
        platform="facebook",
        language="en",
        intent="complaint",
        severity=3,
        categories=["delivery"],
        priority=9.0,
        handle="sam.lee",
        author_name="Sam Lee",
        mention="Ordered two weeks ago and still nothing. Tracking hasn't moved since Monday.",
        text="Hi Sam, thanks for letting us know. Could you send us your order number by DM?",
        lint=[
            {"rule": "apology", "level": "error", "message": "A complaint needs an apology."},
            {"rule": "policy_link", "level": "warning", "message": "Link the delivery policy."},
        ],
        minutes_ago=95,
        permalink="https://www.facebook.com/100000000000001/posts/1",
    )
    insert_draft(
        engine,
        3,
        platform="instagram",
        language="es",
        intent="question",
        severity=0,
        priority=2.0,
        handle="lu.mar",
        author_name="Lucía",
        mention="¿Hacen envíos a Montevideo?",
        text="@lu.mar ¡Hola, Lucía! Sí, enviamos a Montevideo. Equipo Loja Aurora",
        minutes_ago=40,
    )

    # Not logged in: the inbox sends us to the log-in page.
    page.goto(base_url + "/")
    assert "/login" in page.url
    page.fill("#name", "paula")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base_url + "/")
    page.wait_for_selector(f"#draft-{xss}")

    # The mention's markup is shown as text and never runs, not even after htmx swaps.
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("img[src='x']").count() == 0
    card = page.locator(f"#draft-{xss}")
    assert "<script>window.__xss=1</script>" in card.locator(".mention").inner_text()
    assert XSS_AUTHOR in card.locator(".author-name").inner_text()
    # caret="initial": hiding the caret would inject a style, which the CSP refuses.
    shot = page.screenshot(full_page=True, caret="initial")
    assert shot.startswith(b"\x89PNG")
    if os.environ.get("SOCIAL_CARE_UPDATE_SCREENSHOTS") == "1" or not SCREENSHOT.exists():
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        SCREENSHOT.write_bytes(shot)

    # Filter to X only: the list is swapped in place and the URL remembers the filter.
    page.select_option("select[name=platform]", "x")
    wait_until(page, "document.querySelectorAll('#queue article.draft').length === 1")
    assert "platform=x" in page.url
    assert page.locator(f"#draft-{xss}").count() == 1

    # Edit, then approve: each swaps only the card.
    card = page.locator(f"#draft-{xss}")
    card.locator("textarea").fill(EDITED)
    assert card.locator(".char-count").inner_text() == f"{len(EDITED)} / 280 characters"
    with page.expect_response(lambda r: r.url.endswith(f"/drafts/{xss}/edit")) as edited:
        card.locator("button.save").click()
    assert edited.value.status == 200
    assert draft_state(engine, xss).text == EDITED
    with page.expect_response(lambda r: r.url.endswith(f"/drafts/{xss}/approve")) as approved:
        page.locator(f"#draft-{xss} button.approve").click()
    assert approved.value.status == 200, approved.value.text()
    page.wait_for_selector(f"#draft-{xss}.state-approved")
    assert draft_state(engine, xss).state == m.ReplyState.APPROVED

    # The approved list, then send now: the platform receives the edited text, and the list and
    # the counts refresh themselves.
    page.select_option("select[name=state]", "approved")
    page.wait_for_selector("#counts .count.current[data-state=approved]")
    wait_until(page, f"document.querySelectorAll('#queue #draft-{xss}').length === 1")
    page.click("#send-now")
    page.wait_for_selector("#flash .flash.ok")
    assert "Sent 1" in page.inner_text("#flash")
    assert core.scripted_connector.posted == [({"tweet_id": "5001"}, EDITED)]  # type: ignore[attr-defined]
    wait_until(page, "document.querySelectorAll('#queue article.draft').length === 0")
    wait_until(
        page, "document.querySelector('#counts [data-state=sent] .n').textContent.trim() === '1'"
    )

    # The history of the draft opens in place.
    page.goto(base_url + "/?state=sent")
    page.locator(f"#draft-{xss} details.history summary").click()
    page.wait_for_selector(f"#draft-{xss} .events")
    history = page.inner_text(f"#draft-{xss} .events")
    assert "paula edited and approved" in history and "system sent" in history

    # Usable at phone width: nothing wider than the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(base_url + "/?state=all")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    assert page.evaluate("typeof window.__xss") == "undefined"
    assert errors == [], "\n".join(errors)


def test_missing_chromium_skips_locally_and_fails_under_ci(monkeypatch, tmp_path, require_browser) -> None:
    monkeypatch.delenv("SOCIAL_CARE_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no-chromium is missing"):
        require_browser(tmp_path / "no-chromium")
    monkeypatch.setenv("SOCIAL_CARE_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="required"):
        require_browser(tmp_path / "no-chromium")
