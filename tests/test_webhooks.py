"""Meta webhooks: handshake, signatures, store-once with polling, replays, id-only Instagram mentions."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import select

from social_care import models as m
from social_care.app import SocialCare
from social_care.db import session_scope
from social_care.sandbox import APP_SECRET, IG_USER_ID, WEBHOOK_VERIFY_TOKEN
from social_care.sandbox.webhooks import (
    encode_payload,
    feed_comment_payload,
    instagram_mention_payload,
    signature_header,
)
from social_care.webhooks import router


@pytest.fixture
def hook(tmp_path, db_url, sandbox_server, request):
    config_fn = request.getfixturevalue("sandbox_config_fn")
    config = config_fn(tmp_path, db_url=db_url, sandbox_url=sandbox_server.base_url)
    config = config.__class__(
        settings=config.settings.model_copy(update={"webhooks": config.settings.webhooks.model_copy(
            update={"verify_token": WEBHOOK_VERIFY_TOKEN, "app_secret": APP_SECRET})}),
        path=config.path, base_dir=config.base_dir)
    core = SocialCare(config)
    core.upgrade_db()
    app = FastAPI()
    app.include_router(router(core))
    yield core, TestClient(app), sandbox_server
    core.engine.dispose()


def _post(client: TestClient, payload: dict, secret: str | None = APP_SECRET):
    body = encode_payload(payload)
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Hub-Signature-256"] = signature_header(body, secret)
    return client.post("/webhooks/meta", content=body, headers=headers)


def _mentions(core: SocialCare) -> list[m.Mention]:
    with session_scope(core.engine) as session:
        return list(session.exec(select(m.Mention)).all())


def test_subscription_handshake(hook) -> None:
    _core, client, _srv = hook
    ok = client.get("/webhooks/meta", params={"hub.mode": "subscribe", "hub.challenge": "1158201444",
                                              "hub.verify_token": WEBHOOK_VERIFY_TOKEN})
    assert ok.status_code == 200 and ok.text == "1158201444"
    bad = client.get("/webhooks/meta", params={"hub.mode": "subscribe", "hub.challenge": "1",
                                               "hub.verify_token": "guess"})
    assert bad.status_code == 403


def test_wrong_missing_or_tampered_signature_is_rejected_and_body_not_logged(hook, caplog) -> None:
    core, client, srv = hook
    comment = next(iter(srv.state.fb_comments.values()))
    payload = feed_comment_payload(srv.state, comment)
    caplog.set_level(logging.WARNING)
    assert _post(client, payload, secret="not-the-secret").status_code == 403
    assert _post(client, payload, secret=None).status_code == 403
    body = encode_payload(payload)
    tampered = body.replace(b'"message":"', b'"message":"X')
    response = client.post("/webhooks/meta", content=tampered,
                           headers={"X-Hub-Signature-256": signature_header(body, APP_SECRET)})
    assert response.status_code == 403
    assert _mentions(core) == []
    assert comment.message not in caplog.text


def test_webhook_and_poll_store_the_same_comment_once_and_replays_change_nothing(hook) -> None:
    core, client, srv = hook
    comment = next(c for c in srv.state.fb_comments.values() if c.author_id != "104738215672913")
    payload = feed_comment_payload(srv.state, comment)
    first = _post(client, payload)
    assert first.status_code == 200 and first.json()["stored"] == 1
    assert _post(client, payload).json()["stored"] == 0  # a replayed delivery
    core.poll("aurora-facebook")
    with session_scope(core.engine) as session:
        rows = session.exec(select(m.Mention).where(m.Mention.external_id == comment.id)).all()
        assert len(rows) == 1 and rows[0].source == "webhook"
        dupes = session.exec(select(m.Mention.external_id, sa.func.count()).group_by(m.Mention.external_id)
                             .having(sa.func.count() > 1)).all()
        assert dupes == []


def test_instagram_mention_ids_are_resolved_through_the_connector(hook) -> None:
    core, client, srv = hook
    media = next(md for md in srv.state.ig_media.values()
                 if md.owner_id != IG_USER_ID and "@lojaaurora" in (md.caption or "").lower())
    response = _post(client, instagram_mention_payload(media.id, None, media.timestamp))
    assert response.status_code == 200 and response.json()["resolved"] == 1
    stored = [mm for mm in _mentions(core) if mm.external_id == media.id]
    assert len(stored) == 1 and stored[0].text == media.caption


def test_unresolvable_mention_and_unreadable_body_are_quarantined_not_lost(hook) -> None:
    core, client, _srv = hook
    response = _post(client, instagram_mention_payload("999999999", None, m.utcnow()))
    assert response.status_code == 200 and response.json()["quarantined"] == 1
    body = b'{"object": "page", "entry": [truncated'
    response = client.post("/webhooks/meta", content=body,
                           headers={"X-Hub-Signature-256": signature_header(body, APP_SECRET)})
    assert response.status_code == 200
    with session_scope(core.engine) as session:
        reasons = [q.reason for q in session.exec(select(m.QuarantinedItem)).all()]
    assert any("mention not fetched" in r for r in reasons) and any("not JSON" in r for r in reasons)
