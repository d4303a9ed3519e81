"""Webhook handshake, signatures and payload parsing; ids must match polling's."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
import requests

from connectors import (
    FollowUp,
    WebhookVerificationError,
    parse_webhook,
    verify_signature,
    verify_subscription,
)
from social_care.sandbox import (
    APP_SECRET,
    FB_PAGE_ID,
    IG_USER_ID,
    SandboxServer,
    deliver_webhook,
    feed_comment_payload,
    feed_post_payload,
    instagram_comment_payload,
    instagram_mention_payload,
)

VECTOR_BODY = (
    b'{"object":"page","entry":[{"id":"123","time":1700000000,"changes":[{"field":"feed","value":'
    b'{"item":"comment","verb":"add","post_id":"123_456","comment_id":"456_789","parent_id":"123_456",'
    b'"from":{"id":"999","name":"Dana"},"message":"hi","created_time":1700000000}}]}]}'
)
VECTOR_SIGNATURE = "sha256=c8a3bb020680e2fedcca1988c9a64600aae7568f735e0f12cf60bab95e811365"


def test_reference_test_vector():
    assert len(VECTOR_BODY) == 267
    assert verify_signature(VECTOR_BODY, VECTOR_SIGNATURE, "test-app-secret")


@pytest.mark.parametrize(
    ("body", "header", "secret"),
    [
        (VECTOR_BODY, VECTOR_SIGNATURE, "another-secret"),
        (VECTOR_BODY, None, "test-app-secret"),
        (VECTOR_BODY, "", "test-app-secret"),
        (VECTOR_BODY.replace(b'"hi"', b'"ho"'), VECTOR_SIGNATURE, "test-app-secret"),
        (VECTOR_BODY + b" ", VECTOR_SIGNATURE, "test-app-secret"),
        (VECTOR_BODY, VECTOR_SIGNATURE.replace("sha256=", "sha1="), "test-app-secret"),
        (VECTOR_BODY, VECTOR_SIGNATURE, ""),
    ],
    ids=[
        "wrong-secret",
        "missing",
        "empty",
        "tampered",
        "trailing-byte",
        "wrong-scheme",
        "no-secret",
    ],
)
def test_bad_signatures_are_rejected(body, header, secret):
    assert not verify_signature(body, header, secret)


def test_parsing_the_vector_gives_a_comment_record():
    records, quarantined, follow_ups = parse_webhook(json.loads(VECTOR_BODY))
    assert not quarantined and not follow_ups
    (record,) = records
    assert (record.platform, record.external_id, record.stream) == (
        "facebook",
        "456_789",
        "comments",
    )
    assert record.parent_external_id == "123_456" and record.thread_external_id == "123_456"
    assert record.author.name == "Dana" and record.text == "hi"
    assert int(record.created_at.timestamp()) == 1700000000 and record.created_at.tzinfo is not None


def test_subscription_handshake():
    params = {
        "hub.mode": "subscribe",
        "hub.challenge": "1158201444",
        "hub.verify_token": "meatyhamhock",
    }
    assert verify_subscription(params, "meatyhamhock") == "1158201444"
    with pytest.raises(WebhookVerificationError):
        verify_subscription(params, "another-token")
    with pytest.raises(WebhookVerificationError):
        verify_subscription({**params, "hub.mode": "unsubscribe"}, "meatyhamhock")
    with pytest.raises(WebhookVerificationError):
        verify_subscription(
            {k: v for k, v in params.items() if k != "hub.challenge"}, "meatyhamhock"
        )
    with pytest.raises(WebhookVerificationError):
        verify_subscription(params, "")


def test_facebook_webhook_records_match_polled_records(sandbox, make_facebook):
    polled = {r.external_id: r for r in make_facebook(sandbox).fetch("comments", None).records}
    polled_feed = {r.external_id: r for r in make_facebook(sandbox).fetch("feed", None).records}
    state, ids = sandbox.state, sandbox.seed.ids
    for key in ("fb-joao-reclameaqui", "fb-cristina-pix", "fb-brand-re-joao"):
        payload = feed_comment_payload(state, state.fb_comments[ids[key]])
        (record,), _, _ = parse_webhook(payload)
        twin = polled[ids[key]]
        assert (record.platform, record.external_id) == (twin.platform, twin.external_id)
        assert record.reply_ref == twin.reply_ref
        assert record.parent_external_id == twin.parent_external_id
        assert record.is_own == twin.is_own
    (post,), _, _ = parse_webhook(
        feed_post_payload(state, state.fb_posts[ids["fb-luisa-cafeteira"]])
    )
    assert (
        post.external_id in polled_feed
        and post.reply_ref == polled_feed[post.external_id].reply_ref
    )


def test_instagram_comment_and_mention_webhooks_match_polled_ids(sandbox, make_instagram):
    connector = make_instagram(sandbox)
    polled = {r.external_id: r for r in connector.fetch("comments", None).records}
    state, ids = sandbox.state, sandbox.seed.ids
    for key in ("ig-leo-double", "ig-gabi-too", "ig-brand-re-duda"):
        (record,), _, _ = parse_webhook(
            instagram_comment_payload(state, state.ig_comments[ids[key]])
        )
        twin = polled[ids[key]]
        assert (record.platform, record.external_id, record.reply_ref) == (
            twin.platform,
            twin.external_id,
            twin.reply_ref,
        )
        assert record.is_own == twin.is_own
        assert record.author.handle == twin.author.handle

    comment = state.ig_comments[ids["ig-joana-caneca"]]
    records, _, follow_ups = parse_webhook(
        instagram_mention_payload(comment.media_id, comment.id, comment.timestamp)
    )
    assert records == []
    assert follow_ups == [
        FollowUp(
            "instagram",
            "instagram_mention",
            IG_USER_ID,
            {"media_id": comment.media_id, "comment_id": comment.id},
        )
    ]
    resolved = connector.fetch_mention(**follow_ups[0].params)
    assert (resolved.platform, resolved.external_id) == ("instagram", comment.id)

    tagged_and_mentioned = ids["ig-anadecor-canecas"]
    polled_tags = {r.external_id: r for r in connector.fetch("tags", None).records}
    _, _, (media_follow_up,) = parse_webhook(
        instagram_mention_payload(
            tagged_and_mentioned, None, state.ig_media[tagged_and_mentioned].timestamp
        )
    )
    via_webhook = connector.fetch_mention(**media_follow_up.params)
    assert via_webhook.external_id == polled_tags[tagged_and_mentioned].external_id
    assert via_webhook.reply_ref == polled_tags[tagged_and_mentioned].reply_ref


def test_non_mention_changes_are_ignored_and_broken_ones_quarantined():
    payload = {
        "object": "page",
        "entry": [
            {
                "id": FB_PAGE_ID,
                "time": 1700000000,
                "changes": [
                    {
                        "field": "feed",
                        "value": {
                            "item": "reaction",
                            "verb": "add",
                            "post_id": "1_2",
                            "created_time": 1,
                        },
                    },
                    {
                        "field": "feed",
                        "value": {
                            "item": "comment",
                            "verb": "remove",
                            "post_id": "1_2",
                            "comment_id": "2_3",
                        },
                    },
                    {
                        "field": "feed",
                        "value": {
                            "item": "comment",
                            "verb": "add",
                            "post_id": "1_2",
                            "created_time": 1,
                        },
                    },
                ],
            }
        ],
    }
    records, quarantined, follow_ups = parse_webhook(payload)
    assert records == [] and follow_ups == []
    assert len(quarantined) == 1 and "comment_id" in quarantined[0].reason
    _, unknown, _ = parse_webhook({"object": "whatsapp_business_account", "entry": []})
    assert len(unknown) == 1


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[bytes, str | None]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((body, self.headers.get("X-Hub-Signature-256")))
        ok = verify_signature(body, self.headers.get("X-Hub-Signature-256"), APP_SECRET)
        self.send_response(200 if ok else 403)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[bytes, str | None]]]]:
    received: list[tuple[bytes, str | None]] = []
    handler = type("Receiver", (_Receiver,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/webhooks", received
    server.shutdown()
    server.server_close()


def test_signed_delivery_over_http_is_accepted_and_parsed(sandbox, receiver):
    url, received = receiver
    comment = sandbox.state.ig_comments[sandbox.seed.ids["ig-leo-double"]]
    assert deliver_webhook(url, instagram_comment_payload(sandbox.state, comment)) == 200
    assert (
        deliver_webhook(url, instagram_comment_payload(sandbox.state, comment), app_secret="wrong")
        == 403
    )
    body, header = received[0]
    assert verify_signature(body, header, APP_SECRET)
    (record,), _, _ = parse_webhook(json.loads(body))
    assert record.external_id == comment.id


def test_sandbox_delivers_webhooks_for_new_items(receiver):
    url, received = receiver
    with SandboxServer(port=0, seed="demo", webhook_url=url) as server:
        fan = server.state.add_fb_profile("Nova Cliente").id
        post_id = server.seed.ids["fb-brand-bf"]
        comment = server.state.add_fb_comment(post_id, fan, "Meu pedido não chegou!")
        server.state.add_fb_comment(
            comment.id, "104738215672913", "Oi! Vamos verificar."
        )  # the page's own: no webhook
        for _ in range(100):
            if server.webhook_statuses:
                break
            threading.Event().wait(0.02)
    assert server.webhook_statuses == [200]
    (record,), _, _ = parse_webhook(json.loads(received[0][0]))
    assert record.external_id == comment.id


def test_admin_endpoint_delivers_the_notification_for_any_item(sandbox, receiver):
    url, received = receiver
    ids = sandbox.seed.ids
    for key in (
        "fb-cristina-pix",
        "fb-luisa-cafeteira",
        "ig-leo-double",
        "ig-clara-sumiu",
        "ig-tiago-mochila",
    ):
        answer = requests.post(
            f"{sandbox.base_url}/_sandbox/webhooks",
            json={"item_id": ids[key], "url": url},
            timeout=5,
        )
        assert answer.json() == {"delivered": 200}
    parsed = [parse_webhook(json.loads(body)) for body, _ in received]
    assert [r[0][0].external_id for r in parsed[:3]] == [
        ids["fb-cristina-pix"],
        ids["fb-luisa-cafeteira"],
        ids["ig-leo-double"],
    ]
    assert parsed[3][2][0].params == {
        "media_id": ids["ig-bruna-look"],
        "comment_id": ids["ig-clara-sumiu"],
    }
    assert parsed[4][2][0].params == {"media_id": ids["ig-tiago-mochila"]}
    missing = requests.post(
        f"{sandbox.base_url}/_sandbox/webhooks", json={"item_id": "nope", "url": url}, timeout=5
    )
    assert missing.status_code == 400
