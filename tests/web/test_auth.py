"""Log-in, sessions, roles and CSRF of the web inbox, through the HTTP interface."""

from __future__ import annotations

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from social_care import models as m
from social_care.users import add_user
from social_care.web import admin as web_admin
from social_care.web import auth as web_auth
from social_care.web import health as web_health
from social_care.web import inbox as web_inbox

from .conftest import PASSWORD, Browser, draft_state, insert_draft, page_csrf


def test_anonymous_is_sent_to_login_or_refused(client) -> None:
    page = client.get("/?state=approved", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=%2F%3Fstate%3Dapproved"
    fragment = client.get("/fragments/counts", headers={"HX-Request": "true"})
    assert fragment.status_code == 401
    assert fragment.headers["HX-Redirect"].startswith("/login")
    assert client.get("/api/queue").status_code == 401
    assert client.get("/login").status_code == 200


def test_wrong_password_and_unknown_user_are_refused(client) -> None:
    browser = Browser(client)
    for name, password in [("paula", "wrong password"), ("nobody", PASSWORD), ("paula", "")]:
        response = browser.login(name, password)
        assert response.status_code == 401
        assert "Wrong user name or password" in response.text
    assert client.get("/", follow_redirects=False).status_code == 303


def test_repeated_wrong_passwords_are_throttled(client) -> None:
    browser = Browser(client)
    for _ in range(5):
        assert browser.login("paula", "not the password").status_code == 401
    throttled = browser.login("paula", PASSWORD)  # even the right password waits now
    assert throttled.status_code == 429 and "Too many failed log-ins" in throttled.text
    assert browser.login("rui", PASSWORD).status_code == 303  # other names are not locked out


def test_login_sets_a_hardened_cookie_and_redirects_only_within_the_site(client) -> None:
    form = client.get("/login?next=//evil.example/x")
    assert 'value="/"' in form.text  # the crafted next was dropped
    response = client.post(
        "/login",
        data={
            "name": "paula",
            "password": PASSWORD,
            "next": "https://evil.example/",
            "csrf_token": page_csrf(form.text),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    page = client.get("/")
    assert page.status_code == 200 and "paula" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"


def test_tampered_cookie_is_logged_out(client) -> None:
    Browser(client).login("paula")
    value = client.cookies["social_care_session"]
    # Flip one character of the payload: the signature no longer matches.
    tampered = ("A" if value[0] != "A" else "B") + value[1:]
    client.cookies.clear()
    client.cookies.set("social_care_session", tampered)
    assert client.get("/", follow_redirects=False).status_code == 303
    # A forged session naming an admin, signed with the wrong key, is no better.
    client.cookies.clear()
    client.cookies.set("social_care_session", "eyJ1c2VyIjogImFkYSJ9.ZZZZZZ.forgedsignature")
    assert client.get("/users", follow_redirects=False).status_code == 303


def test_logout_ends_the_session(as_user) -> None:
    paula = as_user("paula")
    response = paula.post("/logout", htmx=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert paula.client.get("/", follow_redirects=False).status_code == 303


def test_password_change_and_deactivation_end_existing_sessions(as_user, engine) -> None:
    alex = as_user("alex")
    assert alex.client.get("/").status_code == 200
    add_user(engine, "alex", "agent", password="a brand new password")
    assert alex.client.get("/", follow_redirects=False).status_code == 303


def test_viewer_reads_but_cannot_act(as_user, engine) -> None:
    draft_id = insert_draft(engine, 1)
    vera = as_user("vera")
    page = vera.client.get("/")
    assert page.status_code == 200 and "mention 1" in page.text
    assert (
        "Approve</button>" not in page.text and "<textarea" not in page.text
    )  # nothing offered...
    for action, data in [
        ("approve", {}),
        ("edit", {"text": "hi"}),
        ("claim", {}),
        ("reject", {"reason": "no"}),
    ]:
        response = vera.post(f"/drafts/{draft_id}/{action}", data)  # ...and nothing accepted
        assert response.status_code == 403, action
        assert "vera is a viewer" in response.text
    assert vera.post("/send").status_code == 403
    assert draft_state(engine, draft_id).state == m.ReplyState.DRAFTED


def test_agent_edits_and_claims_but_cannot_approve_reject_or_send(as_user, engine) -> None:
    draft_id = insert_draft(engine, 1)
    alex = as_user("alex")
    edited = "@ana Obrigado pelo carinho, Ana! Volte sempre. Equipe Loja Aurora"
    response = alex.post(f"/drafts/{draft_id}/edit", {"text": edited})
    assert response.status_code == 200
    assert edited in response.text and response.text.lstrip().startswith("<article")
    assert draft_state(engine, draft_id).text == edited
    assert alex.post(f"/drafts/{draft_id}/claim").status_code == 200
    assert alex.post(f"/drafts/{draft_id}/approve").status_code == 403
    assert alex.post(f"/drafts/{draft_id}/reject", {"reason": "no"}).status_code == 403
    assert alex.post("/send").status_code == 403
    assert draft_state(engine, draft_id).state == m.ReplyState.DRAFTED


def test_approver_approves_and_rejects(as_user, engine) -> None:
    first, second = insert_draft(engine, 1), insert_draft(engine, 2)
    paula = as_user("paula")
    response = paula.post(f"/drafts/{first}/approve")
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "counts-changed"
    assert (
        'class="badge state">approved' in response.text
        and "Approved by <b>paula</b>" in response.text
    )
    assert draft_state(engine, first).state == m.ReplyState.APPROVED
    assert (
        paula.post(f"/drafts/{second}/reject", {"reason": ""}).status_code == 409
    )  # a reason is required
    assert paula.post(f"/drafts/{second}/reject", {"reason": "spam"}).status_code == 200
    assert draft_state(engine, second).state == m.ReplyState.REJECTED
    again = paula.post(f"/drafts/{first}/approve")
    assert again.status_code == 409 and "only drafted replies can be approved" in again.text


def test_plain_form_posts_work_without_javascript(as_user, engine) -> None:
    draft_id = insert_draft(engine, 1)
    paula = as_user("paula")
    response = paula.post(f"/drafts/{draft_id}/approve", htmx=False)
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert draft_state(engine, draft_id).state == m.ReplyState.APPROVED


def test_missing_or_forged_csrf_token_is_refused(as_user, engine) -> None:
    draft_id = insert_draft(engine, 1)
    paula = as_user("paula")
    client = paula.client
    url = f"/drafts/{draft_id}/approve"
    assert client.post(url, headers={"HX-Request": "true"}).status_code == 403  # none at all
    assert (
        client.post(url, headers={"HX-Request": "true", "X-CSRF-Token": "forged"}).status_code
        == 403
    )
    assert client.post(url, data={"csrf_token": "forged"}).status_code == 403
    # A valid token of another session does not transfer.
    rui = as_user("rui")
    assert client.post(url, headers={"X-CSRF-Token": rui.csrf}).status_code == 403
    assert draft_state(engine, draft_id).state == m.ReplyState.DRAFTED
    # Every state-changing route refuses a request without the token, not just the ones above.
    routes = [
        r for module in (web_admin, web_auth, web_health, web_inbox) for r in module.router.routes
    ]
    posts = [
        r.path.replace("{draft_id}", str(draft_id))
        for r in routes
        if isinstance(r, APIRoute) and r.methods - {"GET", "HEAD"}
    ]
    assert {"/login", "/logout", "/send", "/users", url} <= set(posts)
    for path in posts:
        assert client.post(path, data={"name": "x", "text": "x"}).status_code == 403, path
    assert client.get("/").status_code == 200  # still logged in: the forged logout did nothing


def test_login_form_needs_its_csrf_token(client) -> None:
    client.get("/login")
    response = client.post(
        "/login", data={"name": "paula", "password": PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 403


def test_only_admins_manage_users(as_user) -> None:
    paula = as_user("paula")
    assert paula.client.get("/users").status_code == 403
    assert (
        paula.post(
            "/users", {"name": "eve", "role": "admin", "password": "whatever123"}, htmx=False
        ).status_code
        == 403
    )
    ada = as_user("ada")
    page = ada.client.get("/users")
    assert page.status_code == 200 and "vera" in page.text
    saved = ada.post(
        "/users", {"name": "nina", "role": "agent", "password": "a long password"}, htmx=False
    )
    assert saved.status_code == 200 and "Saved nina as agent" in saved.text
    short = ada.post("/users", {"name": "otto", "role": "agent", "password": "short"}, htmx=False)
    assert short.status_code == 422 and "at least 8 characters" in short.text
    assert (
        ada.post(
            "/users", {"name": "otto", "role": "boss", "password": "a long password"}, htmx=False
        ).status_code
        == 422
    )
    with TestClient(ada.client.app) as fresh:
        assert Browser(fresh).login("nina", "a long password").status_code == 303


def test_healthz_needs_no_login(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert client.head("/healthz").status_code == 200


def test_healthz_reports_an_unreachable_database() -> None:
    import sqlalchemy as sa

    from social_care.app import SocialCare
    from social_care.web import create_app

    from .conftest import web_config

    # Port 1 on localhost: nothing listens, so the connection is refused at once.
    broken = sa.create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    with TestClient(create_app(SocialCare(web_config(), engine=broken))) as client:
        response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["status"] == "error"


def test_secure_cookies_behind_tls(core) -> None:
    from social_care.web import create_app

    with TestClient(create_app(core, https_only=True), base_url="https://testserver") as client:
        response = Browser(client).login("paula")
    assert response.status_code == 303 and "secure" in response.headers["set-cookie"].lower()


def test_meta_webhooks_are_served_without_session_or_csrf(engine) -> None:
    import hashlib
    import hmac

    from social_care.app import SocialCare
    from social_care.web import create_app

    from .conftest import web_config

    config = web_config()
    secret = "meta-app-secret"
    hooks = config.settings.webhooks.model_copy(update={"app_secret": secret, "verify_token": "vt"})
    config = config.__class__(
        settings=config.settings.model_copy(update={"webhooks": hooks}),
        path=config.path,
        base_dir=config.base_dir,
    )
    body = b'{"object": "page", "entry": []}'
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    with TestClient(create_app(SocialCare(config, engine=engine))) as client:
        challenge = client.get(
            "/webhooks/meta",
            params={"hub.mode": "subscribe", "hub.challenge": "42", "hub.verify_token": "vt"},
        )
        assert challenge.status_code == 200 and challenge.text == "42"
        signed = client.post(
            "/webhooks/meta", content=body, headers={"X-Hub-Signature-256": signature}
        )
        assert signed.status_code == 200, signed.text
        assert client.post("/webhooks/meta", content=body).status_code == 403  # unsigned
