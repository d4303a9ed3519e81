"""Security: the inbox refuses the anonymous, viewers, forged CSRF and tampered cookies; untrusted text is
escaped; webhooks need a valid signature and a replay stores nothing; no secret reaches a log or an error page.

The real-browser check (a script in a mention does not run in Chromium) is tests/web/test_browser.py.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from social_care.app import SocialCare
from social_care.config import Config
from social_care.daemon import setup_logging
from social_care.sandbox import APP_SECRET, WEBHOOK_VERIFY_TOKEN, sandbox_secrets
from social_care.sandbox.webhooks import encode_payload, signature_header
from social_care.webhooks import router

from .conftest import SMALL_PAGES, Tally, poll_until_quiet, release_next_polls, stored_mentions, web

SCRIPT = "<script>alert('pwned')</script>"
IMG = '<img src=x onerror="alert(1)">'


def _state(core: SocialCare, draft_id: int) -> str:
    return web.draft_state(core.engine, draft_id).state.value


def test_anonymous_viewer_forged_csrf_and_tampered_cookie_change_nothing(web_core, web_app, as_user) -> None:
    """Every state-changing route refuses each of the four; the draft stays drafted."""
    tally = Tally("security: access control")
    draft = web.insert_draft(web_core.engine, 1)
    actions = [(f"/drafts/{draft}/approve", {}), (f"/drafts/{draft}/reject", {"reason": "x"}),
               (f"/drafts/{draft}/edit", {"text": "changed"}), ("/send", {}),
               ("/users", {"name": "mallory", "role": "admin", "password": "a long passphrase!"})]

    anonymous = TestClient(web_app, raise_server_exceptions=False)
    assert anonymous.get("/", follow_redirects=False).status_code == 303
    assert anonymous.get("/users", follow_redirects=False).status_code in (303, 401)
    for url, data in actions:
        response = anonymous.post(url, data=data, follow_redirects=False)
        tally.cases += 1
        tally.crashes += response.status_code >= 500
        assert response.status_code in (303, 401, 403), (url, response.status_code)

    viewer = as_user("vera")
    assert viewer.client.get("/users").status_code == 403
    for url, data in actions:
        response = viewer.post(url, data)
        tally.cases += 1
        tally.crashes += response.status_code >= 500
        assert response.status_code == 403, (url, response.status_code)

    approver = as_user("paula")
    for token in ("forged-" + approver.csrf[7:], "", approver.csrf + "x"):
        for url, data in actions[:4]:
            response = approver.client.post(url, data=data, follow_redirects=False,
                                            headers={"HX-Request": "true", "X-CSRF-Token": token})
            tally.cases += 1
            tally.crashes += response.status_code >= 500
            assert response.status_code == 403, (url, token, response.status_code)
    # Another user's valid token is not this session's token.
    other = as_user("rui")
    response = approver.client.post(f"/drafts/{draft}/approve", headers={"HX-Request": "true", "X-CSRF-Token": other.csrf})
    assert response.status_code == 403

    cookie_name = next(iter(approver.client.cookies.keys()))
    value = approver.client.cookies[cookie_name]
    for tampered in (value[:-2] + ("AA" if value[-2:] != "AA" else "BB"), value[: len(value) // 2], "x" + value):
        thief = TestClient(web_app, raise_server_exceptions=False, cookies={cookie_name: tampered})
        page = thief.get("/", follow_redirects=False)
        response = thief.post(f"/drafts/{draft}/approve", headers={"HX-Request": "true", "X-CSRF-Token": approver.csrf},
                              follow_redirects=False)
        tally.cases += 2
        tally.crashes += page.status_code >= 500 or response.status_code >= 500
        assert page.status_code == 303 and response.status_code in (401, 403, 303), (page.status_code, response.status_code)
    tally.faults = tally.cases
    tally.emit()
    assert _state(web_core, draft) == "drafted"
    assert "mallory" not in {u.name for u in __import__("social_care.users", fromlist=["x"]).list_users(web_core.engine)}
    assert tally.crashes == 0
    # The positive control: the same approver with the right token can approve.
    assert approver.post(f"/drafts/{draft}/approve", {"override": "1"}).status_code == 200
    assert _state(web_core, draft) == "approved"


def test_script_and_html_in_mentions_and_names_are_escaped(web_core, as_user) -> None:
    """The queue, the card and the history render untrusted text as text."""
    draft = web.insert_draft(web_core.engine, 2, mention=f"@lojaaurora {SCRIPT} {IMG}", author_name=f"Eve {SCRIPT}",
                             handle="eve", text=f"@eve Olá! {IMG} Equipe Loja Aurora")
    viewer = as_user("vera")
    pages = [viewer.client.get("/").text, viewer.client.get(f"/drafts/{draft}").text,
             viewer.client.get(f"/drafts/{draft}/history").text, viewer.client.get("/api/queue").text]
    tally = Tally("security: escaping")
    tally.cases = len(pages)
    tally.emit()
    for html in pages[:2]:
        assert "alert(" in html  # the text is there...
        assert "<script>alert" not in html and '<img src=x onerror' not in html  # ...but never as markup
    assert "<script>alert" not in pages[2] and '<img src=x onerror' not in pages[2]
    assert "&lt;script&gt;alert(" in pages[0] and "&lt;img src=x onerror=" in pages[0]
    assert json.loads(pages[3])  # JSON carries the raw text; it is data, not HTML


@pytest.fixture
def hook(tmp_path, sandbox_server, sandbox_config_fn) -> Iterator[tuple[SocialCare, TestClient]]:
    config = sandbox_config_fn(tmp_path, db_url=f"sqlite:///{tmp_path / 'hook.db'}", sandbox_url=sandbox_server.base_url)
    webhooks = config.settings.webhooks.model_copy(update={"verify_token": WEBHOOK_VERIFY_TOKEN, "app_secret": APP_SECRET})
    core = SocialCare(Config(settings=config.settings.model_copy(update={"webhooks": webhooks}), path=config.path,
                             base_dir=config.base_dir))
    core.upgrade_db()
    app = FastAPI()
    app.include_router(router(core))
    yield core, TestClient(app, raise_server_exceptions=False)
    core.engine.dispose()


def test_webhook_signatures_wrong_missing_and_replayed(hook, sandbox_server) -> None:
    """Wrong or missing signatures store nothing (403); a replay of a valid delivery stores nothing new."""
    core, client = hook
    item = next(iter(sandbox_server.state.fb_comments))
    body = encode_payload(sandbox_server.webhook_payload_for(item))
    tally = Tally("security: webhook signatures")
    bad = {"wrong secret": signature_header(body, "not-the-app-secret"), "missing": None, "empty": "",
           "no prefix": signature_header(body, APP_SECRET).split("=", 1)[1], "sha1": "sha1=" + "0" * 40,
           "other body": signature_header(body + b" ", APP_SECRET)}
    for label, signature in bad.items():
        headers = {"Content-Type": "application/json"} | ({"X-Hub-Signature-256": signature} if signature is not None else {})
        response = client.post("/webhooks/meta", content=body, headers=headers)
        tally.cases += 1
        tally.crashes += response.status_code >= 500
        assert response.status_code == 403, (label, response.status_code)
        assert stored_mentions(core) == []
    good = {"Content-Type": "application/json", "X-Hub-Signature-256": signature_header(body, APP_SECRET)}
    assert client.post("/webhooks/meta", content=body, headers=good).status_code == 200
    first = stored_mentions(core)
    for _ in range(3):  # replays of the captured, validly signed delivery
        assert client.post("/webhooks/meta", content=body, headers=good).status_code == 200
        tally.cases += 1
    tally.faults = tally.cases
    tally.doubled = len(stored_mentions(core)) - len(first)
    tally.emit()
    assert len(first) == 1 and stored_mentions(core) == first
    assert tally.crashes == 0


def _secrets(extra: list[str]) -> list[str]:
    values = [v for platform in sandbox_secrets().values() for v in platform.values()] + [APP_SECRET] + extra
    return sorted({v for v in values if v and len(v) >= 8})


@pytest.fixture
def daemon_log() -> Iterator[io.StringIO]:
    """The daemon's own logging (JSON lines, redaction filter) into a buffer, at DEBUG; pytest's handlers restored."""
    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    stream = io.StringIO()
    setup_logging("DEBUG", stream=stream, json_lines=True)
    for name in ("urllib3", "requests_oauthlib", "oauthlib", "tweepy", "httpx"):
        logging.getLogger(name).setLevel(logging.DEBUG)  # the libraries that see the tokens
    yield stream
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved:
        root.addHandler(handler)
    root.setLevel(level)


def test_no_secret_in_logs_when_polls_fail(tmp_path, sandbox_server, sandbox_config_fn, daemon_log) -> None:
    """Expired tokens, 500s and truncated JSON on every platform, polled at DEBUG: no token in any log line."""
    config = sandbox_config_fn(tmp_path, db_url=f"sqlite:///{tmp_path / 'logs.db'}", sandbox_url=sandbox_server.base_url,
                               options=SMALL_PAGES)
    core = SocialCare(config)
    core.upgrade_db()
    for platform in ("x", "graph"):
        sandbox_server.faults.inject("server_error", count=2, platform=platform, status=500)
        sandbox_server.faults.inject("truncated_json", count=1, platform=platform)
        sandbox_server.faults.inject("expired_token", count=1, platform=platform)
    for _ in range(8):
        core.poll()
        release_next_polls(core)
    faults = len(sandbox_server.faults.applied)
    sandbox_server.faults.clear()
    poll_until_quiet(SocialCare(config))
    # Replies go out too: posting signs requests with the OAuth 1.0a secrets.
    text = daemon_log.getvalue()
    lines = text.splitlines()
    leaked = [s for s in _secrets([]) if s in text]
    tally = Tally("security: secrets in logs")
    tally.cases, tally.faults, tally.lost = len(lines), faults, len(leaked)
    tally.emit()
    assert faults >= 6 and len(lines) > 20
    assert any(json.loads(line).get("level") in ("WARNING", "ERROR") for line in lines if line.startswith("{"))
    assert not leaked, f"secrets in the daemon's log: {[s[:4] + '...' for s in leaked]}"
    core.engine.dispose()


def test_no_secret_in_error_pages(web_core, web_app, monkeypatch) -> None:
    """A 500 whose exception names the secrets, a 404, a 403 and a 422: none shows a secret or a traceback."""
    session_secret = web.SECRET
    browser = web.Browser(TestClient(web_app, raise_server_exceptions=False))
    assert browser.login("ada").status_code == 303
    monkeypatch.setattr(SocialCare, "queue", lambda *_a, **_k: (_ for _ in ()).throw(
        RuntimeError(f"database said: password={session_secret} app_secret={APP_SECRET}")))
    pages = [browser.client.get("/"), browser.client.get("/api/queue"), browser.client.get("/drafts/999999"),
             browser.client.get("/no/such/page"), browser.post("/drafts/abc/approve"),
             browser.client.post("/drafts/1/approve", headers={"X-CSRF-Token": "forged"})]
    tally = Tally("security: error pages")
    tally.cases = len(pages)
    for response in pages:
        body = response.text
        tally.crashes += "Traceback" in body
        tally.lost += sum(s in body for s in (session_secret, APP_SECRET, *_secrets([])))
    tally.emit()
    assert pages[0].status_code == 500 and pages[2].status_code == 404 and pages[5].status_code == 403
    assert tally.lost == 0 and tally.crashes == 0, tally.line()
