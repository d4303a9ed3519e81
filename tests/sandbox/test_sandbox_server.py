"""The sandbox server itself: wire formats, admin endpoints, faults, HTML page, drip."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pyfacebook
import pytest
import requests

from social_care.sandbox import (
    FB_PAGE_ACCESS_TOKEN,
    FB_PAGE_ID,
    IG_ACCESS_TOKEN,
    IG_USER_ID,
    X_APP_BEARER_TOKEN,
    X_USER_ID,
    Fault,
    SandboxServer,
)

X_AUTH = {"Authorization": f"Bearer {X_APP_BEARER_TOKEN}"}


@pytest.fixture(scope="module")
def shared() -> Iterator[SandboxServer]:
    server = SandboxServer(port=0, seed="demo").start()
    yield server
    server.stop()


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    instance = SandboxServer(port=0, seed="demo").start()
    yield instance
    instance.stop()


def test_starts_and_stops_quickly():
    started = time.monotonic()
    instance = SandboxServer(port=0, seed="demo").start()
    assert time.monotonic() - started < 1.0
    assert requests.get(instance.base_url + "/_sandbox/state", timeout=2).status_code == 200
    stopping = time.monotonic()
    instance.stop()
    assert time.monotonic() - stopping < 1.0
    with pytest.raises(requests.ConnectionError):
        requests.get(instance.base_url + "/", timeout=1)
    instance.stop()  # stopping twice is harmless


def test_x_rate_limit_headers_on_every_response(shared):
    ok = requests.get(f"{shared.base_url}/2/users/{X_USER_ID}/mentions", headers=X_AUTH, timeout=2)
    unauthorized = requests.get(f"{shared.base_url}/2/users/{X_USER_ID}/mentions", timeout=2)
    for response in (ok, unauthorized):
        assert {"x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset"} <= set(
            response.headers
        )
    assert unauthorized.status_code == 401
    assert unauthorized.json() == {
        "title": "Unauthorized",
        "type": "about:blank",
        "status": 401,
        "detail": "Unauthorized",
    }
    assert ok.headers["Content-Type"] == "application/json; charset=UTF-8"


def test_x_timeline_wire_format(shared):
    response = requests.get(
        f"{shared.base_url}/2/users/{X_USER_ID}/mentions",
        params={
            "max_results": 5,
            "expansions": "author_id",
            "tweet.fields": "created_at",
            "user.fields": "public_metrics",
        },
        headers=X_AUTH,
        timeout=2,
    )
    body = response.json()
    first = body["data"][0]
    assert set(first) >= {"id", "text", "edit_history_tweet_ids", "created_at"}
    assert first["created_at"].endswith("Z") and len(first["created_at"]) == 24  # milliseconds
    assert [int(t["id"]) for t in body["data"]] == sorted(
        (int(t["id"]) for t in body["data"]), reverse=True
    )
    assert body["meta"]["result_count"] == 5 and "next_token" in body["meta"]
    assert all("followers_count" in u["public_metrics"] for u in body["includes"]["users"])
    since = requests.get(
        f"{shared.base_url}/2/users/{X_USER_ID}/mentions",
        params={"since_id": body["meta"]["newest_id"]},
        headers=X_AUTH,
        timeout=2,
    )
    assert since.json() == {"meta": {"result_count": 0}}


def test_x_invalid_parameters_get_the_invalid_request_body(shared):
    response = requests.get(
        f"{shared.base_url}/2/users/{X_USER_ID}/mentions",
        params={"max_results": 3},
        headers=X_AUTH,
        timeout=2,
    )
    assert response.status_code == 400
    body = response.json()
    assert body["title"] == "Invalid Request"
    assert body["type"] == "https://api.twitter.com/2/problems/invalid-request"
    assert "is not between 5 and 100" in body["errors"][0]["message"]
    search = requests.get(
        f"{shared.base_url}/2/tweets/search/recent",
        params={"query": "x" * 513},
        headers=X_AUTH,
        timeout=2,
    )
    assert search.status_code == 400


def test_graph_wire_format_and_pyfacebook_compatibility(shared):
    api = pyfacebook.GraphAPI(
        access_token=FB_PAGE_ACCESS_TOKEN,
        version="v26.0",
        base_url=shared.base_url + "/",
        sleep_on_rate_limit=False,
    )
    page = api.get_connection(FB_PAGE_ID, "feed", fields="id,message", limit=3)
    assert len(page["data"]) == 3
    assert "access_token=" in page["paging"]["next"]
    assert page["paging"]["cursors"]["after"]
    usage = api.rate_limit.get_limit(object_id=FB_PAGE_ID, rate_limit_type="pages")
    assert usage.type == "pages"
    everything = api.get_full_connections(FB_PAGE_ID, "feed", count=None, limit=4)
    assert len(everything["data"]) == 12
    raw = requests.get(
        f"{shared.base_url}/v25.0/{FB_PAGE_ID}/feed",
        params={"access_token": FB_PAGE_ACCESS_TOKEN},
        timeout=2,
    )
    assert raw.headers["Content-Type"] == "application/json; charset=UTF-8"
    assert raw.json()["data"][0]["created_time"].endswith("+0000")


def test_graph_error_bodies(shared):
    missing = requests.get(f"{shared.base_url}/v26.0/{FB_PAGE_ID}/feed", timeout=2).json()
    assert missing["error"]["code"] == 104
    unknown = requests.get(
        f"{shared.base_url}/v26.0/999/feed",
        params={"access_token": FB_PAGE_ACCESS_TOKEN},
        timeout=2,
    ).json()["error"]
    assert set(unknown) == {"message", "type", "code", "error_subcode", "fbtrace_id"}
    assert (unknown["code"], unknown["error_subcode"]) == (100, 33)


def test_instagram_field_expansion_for_mentions(shared):
    media_id = shared.seed.ids["ig-tiago-mochila"]
    response = requests.get(
        f"{shared.base_url}/v26.0/{IG_USER_ID}",
        params={
            "access_token": IG_ACCESS_TOKEN,
            "fields": f"mentioned_media.media_id({media_id}){{caption,username,timestamp}}",
        },
        timeout=2,
    ).json()
    assert response["id"] == IG_USER_ID
    assert response["mentioned_media"]["id"] == media_id
    assert response["mentioned_media"]["username"] == "tiago.viaja"


def test_faults_via_the_python_api(server):
    server.faults.add(Fault("rate_limit", count=2, route="mentions", reset_in=90))
    first = requests.get(
        f"{server.base_url}/2/users/{X_USER_ID}/mentions", headers=X_AUTH, timeout=2
    )
    assert first.status_code == 429
    assert first.json()["title"] == "Too Many Requests"
    assert first.headers["x-rate-limit-remaining"] == "0"
    assert int(first.headers["x-rate-limit-reset"]) > time.time() + 80
    requests.get(
        f"{server.base_url}/2/tweets/search/recent",
        params={"query": "aurora"},
        headers=X_AUTH,
        timeout=2,
    )
    assert (
        requests.get(
            f"{server.base_url}/2/users/{X_USER_ID}/mentions", headers=X_AUTH, timeout=2
        ).status_code
        == 429
    )
    assert (
        requests.get(
            f"{server.base_url}/2/users/{X_USER_ID}/mentions", headers=X_AUTH, timeout=2
        ).status_code
        == 200
    )
    assert [a.kind for a in server.faults.applied] == ["rate_limit", "rate_limit"]


def test_faults_via_http_admin_endpoints(server):
    admin = f"{server.base_url}/_sandbox/faults"
    assert (
        requests.post(
            admin, json={"kind": "expired_token", "platform": "graph"}, timeout=2
        ).status_code
        == 201
    )
    assert requests.post(admin, json={"kind": "bogus"}, timeout=2).status_code == 400
    assert len(requests.get(admin, timeout=2).json()["pending"]) == 1
    error = requests.get(
        f"{server.base_url}/v26.0/{FB_PAGE_ID}/feed",
        params={"access_token": FB_PAGE_ACCESS_TOKEN},
        timeout=2,
    ).json()["error"]
    assert (error["code"], error["error_subcode"]) == (190, 463)
    requests.post(admin, json={"kind": "truncated_json"}, timeout=2)
    truncated = requests.get(
        f"{server.base_url}/2/users/{X_USER_ID}/mentions", headers=X_AUTH, timeout=2
    )
    with pytest.raises(ValueError):
        json.loads(truncated.content)
    requests.post(admin, json={"kind": "server_error", "count": 5}, timeout=2)
    assert requests.delete(admin, timeout=2).json() == {"cleared": True}
    assert (
        requests.get(
            f"{server.base_url}/2/users/{X_USER_ID}/mentions", headers=X_AUTH, timeout=2
        ).status_code
        == 200
    )


def _random_run(seed: int) -> list[str]:
    with SandboxServer(port=0, seed=None) as instance:
        requests.post(
            f"{instance.base_url}/_sandbox/faults/random",
            json={"seed": seed, "rate": 0.5},
            timeout=2,
        )
        for _ in range(12):
            requests.get(
                f"{instance.base_url}/2/users/{X_USER_ID}/mentions", headers=X_AUTH, timeout=2
            )
        return [a.kind for a in instance.faults.applied]


def test_random_fault_mix_is_reproducible():
    first, again, other = _random_run(3), _random_run(3), _random_run(4)
    assert first == again and first
    assert first != other


def test_html_page_escapes_platform_text(server):
    author = server.state.add_x_user("hacker", "<b>Hacker</b>")
    server.state.add_tweet(author.id, "@lojaaurora <script>alert('x')</script> & mais")
    page = requests.get(server.base_url + "/", timeout=2)
    assert page.headers["Content-Type"].startswith("text/html")
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; mais" in page.text
    assert "Loja Aurora" in page.text


def test_brand_replies_show_in_the_state_summary(server):
    post_id = server.seed.ids["fb-marcos-site"]
    requests.post(
        f"{server.base_url}/v26.0/{post_id}/comments",
        data={"message": "Oi, Marcos! O site já voltou.", "access_token": FB_PAGE_ACCESS_TOKEN},
        timeout=2,
    )
    summary = requests.get(f"{server.base_url}/_sandbox/state", timeout=2).json()
    assert summary["brand_replies"][-1]["text"] == "Oi, Marcos! O site já voltou."
    assert summary["accounts"] == {
        "x_user_id": X_USER_ID,
        "fb_page_id": FB_PAGE_ID,
        "ig_user_id": IG_USER_ID,
    }
    assert "O site já voltou" in requests.get(server.base_url + "/", timeout=2).text


def test_drip_adds_mentions_over_time():
    with SandboxServer(port=0, seed=None, drip_seconds=0.05) as instance:
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            counts = instance.summary()["counts"]
            if (
                counts["tweets"]
                + counts["fb_posts"]
                + counts["fb_comments"]
                + counts["ig_comments"]
                >= 4
            ):
                break
            time.sleep(0.05)
        else:
            pytest.fail("the drip added nothing")


def test_admin_endpoint_adds_generated_mentions(server):
    before = server.summary()["counts"]
    added = requests.post(
        f"{server.base_url}/_sandbox/mentions", json={"count": 5}, timeout=2
    ).json()["added"]
    after = server.summary()["counts"]
    assert len(added) == 5
    assert sum(after.values()) - sum(before.values()) == 5


def test_recent_search_refuses_a_since_id_older_than_seven_days(shared):
    old_ms = int((time.time() - 8 * 86400) * 1000)
    response = requests.get(
        f"{shared.base_url}/2/tweets/search/recent",
        params={"query": "aurora", "since_id": str((old_ms - 1288834974657) << 22)},
        headers=X_AUTH,
        timeout=2,
    )
    assert response.status_code == 400
    assert "since_id" in response.json()["errors"][0]["message"]
