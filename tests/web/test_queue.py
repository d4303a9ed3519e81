"""The queue page and its actions: filters, paging, lint override, claims, history, escaping."""

from __future__ import annotations

import re

from sqlmodel import select

from social_care import models as m
from social_care.db import session_scope

from .conftest import draft_state, insert_draft

BLOCKING = [
    {"rule": "apology", "level": "error", "message": "A complaint needs an apology."},
    {"rule": "thanks", "level": "warning", "message": "Consider thanking the customer."},
]


def _card_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<article class="draft[^"]*" id="draft-(\d+)"', html)]


def test_queue_lists_drafts_in_priority_order_with_everything_a_reviewer_needs(
    as_user, engine
) -> None:
    low = insert_draft(engine, 1, priority=1.0)
    high = insert_draft(
        engine,
        2,
        mention="o pedido não chegou",
        intent="complaint",
        severity=3,
        categories=["delivery"],
        priority=9.0,
        lint=BLOCKING,
        handle="bia",
        author_name="Bia Reis",
    )
    page = as_user("vera").client.get("/")
    assert _card_ids(page.text) == [high, low]
    card = page.text[page.text.index(f'id="draft-{high}"') : page.text.index(f'id="draft-{low}"')]
    for expected in (
        "@bia",
        "Bia Reis",
        "o pedido não chegou",
        "https://x.example/status/5002",
        "complaint",
        "delivery",
        "91%",
        "waiting 30 min",
        'class="lint-error"',
        'class="lint-warning"',
        "A complaint needs an apology.",
        "History",
    ):
        assert expected in card, expected


def test_filters_narrow_the_queue(as_user, engine) -> None:
    x_pt = insert_draft(engine, 1, platform="x", language="pt", severity=0)
    fb_en = insert_draft(
        engine,
        2,
        platform="facebook",
        language="en",
        severity=2,
        intent="complaint",
        categories=["refund_return"],
    )
    ig_es = insert_draft(
        engine,
        3,
        platform="instagram",
        language="es",
        severity=4,
        intent="complaint",
        categories=["delivery", "damaged_defective"],
    )
    approved = insert_draft(engine, 4, platform="x")
    client = as_user("paula").client
    assert client.get("/", headers={}).status_code == 200
    as_paula = as_user("paula")
    assert as_paula.post(f"/drafts/{approved}/approve").status_code == 200

    def ids(query: str) -> set[int]:
        return set(_card_ids(client.get("/" + query).text))

    assert ids("") == {x_pt, fb_en, ig_es}  # drafted is the default state
    assert ids("?platform=facebook") == {fb_en}
    assert ids("?language=es") == {ig_es}
    assert ids("?severity=2") == {fb_en, ig_es}
    assert ids("?category=delivery") == {ig_es}
    assert ids("?state=approved") == {approved}
    assert ids("?state=all&platform=x") == {x_pt, approved}
    assert ids("?platform=myspace&severity=high&state=bogus") == {
        x_pt,
        fb_en,
        ig_es,
    }  # nonsense is ignored
    page = client.get("/?platform=facebook&severity=2").text
    assert '<option value="facebook" selected>' in page and '<option value="2" selected>' in page
    api = client.get("/api/queue?platform=instagram").json()
    assert [row["id"] for row in api] == [ig_es]


def test_pagination(as_user, engine) -> None:
    for n in range(25):
        insert_draft(engine, n, priority=100 - n)
    client = as_user("vera").client
    first, second = client.get("/").text, client.get("/?page=2").text
    assert len(_card_ids(first)) == 20 and 'href="/?page=2"' in first
    assert len(_card_ids(second)) == 5 and 'rel="next"' not in second and 'href="/"' in second
    assert not set(_card_ids(first)) & set(_card_ids(second))


def test_lint_blocked_draft_needs_the_explicit_override(as_user, engine) -> None:
    draft_id = insert_draft(engine, 1, intent="complaint", lint=BLOCKING)
    paula = as_user("paula")
    page = paula.client.get("/").text
    assert 'name="override"' in page  # offered because the lint blocks...
    refused = paula.post(f"/drafts/{draft_id}/approve")
    assert refused.status_code == 422
    assert "fails the policy lint (apology)" in refused.text and 'name="override"' in refused.text
    assert draft_state(engine, draft_id).state == m.ReplyState.DRAFTED
    approved = paula.post(f"/drafts/{draft_id}/approve", {"override": "1"})
    assert approved.status_code == 200 and "(lint override)" in approved.text
    draft = draft_state(engine, draft_id)
    assert draft.state == m.ReplyState.APPROVED and draft.lint_override
    history = paula.client.get(f"/drafts/{draft_id}/history").text
    assert "paula" in history and "lint override" in history


def test_override_is_not_offered_when_the_lint_passes(as_user, engine) -> None:
    insert_draft(
        engine, 1, lint=[{"rule": "thanks", "level": "warning", "message": "Consider thanking."}]
    )
    page = as_user("paula").client.get("/").text
    assert 'name="override"' not in page and 'class="lint-warning"' in page


def test_claims_are_shown_and_block_others(as_user, engine) -> None:
    draft_id = insert_draft(engine, 1)
    alex, paula = as_user("alex"), as_user("paula")
    claimed = alex.post(f"/drafts/{draft_id}/claim")
    assert claimed.status_code == 200 and "Being reviewed by <b>alex</b>" in claimed.text
    assert "Being reviewed by <b>alex</b>" in paula.client.get("/").text
    refused = paula.post(f"/drafts/{draft_id}/approve")
    assert refused.status_code == 409 and "being reviewed by alex" in refused.text


def test_edit_keeps_the_text_and_says_why_when_refused(as_user, engine) -> None:
    draft_id = insert_draft(engine, 1)
    response = as_user("alex").post(f"/drafts/{draft_id}/edit", {"text": "   "})
    assert response.status_code == 422 and "the reply text is empty" in response.text


def test_history_lists_every_transition(as_user, engine) -> None:
    draft_id = insert_draft(engine, 1)
    alex, paula = as_user("alex"), as_user("paula")
    new_text = "@ana Obrigado pelo carinho, Ana! Até breve. Equipe Loja Aurora"
    assert alex.post(f"/drafts/{draft_id}/edit", {"text": new_text}).status_code == 200
    approved = paula.post(f"/drafts/{draft_id}/approve")
    assert approved.status_code == 200, approved.text
    history = paula.client.get(f"/drafts/{draft_id}/history")
    assert history.status_code == 200
    assert re.search(r"<b>alex</b> edited", history.text) and re.search(
        r"<b>paula</b> edited and approved", history.text
    )
    assert "<ins>" + new_text + "</ins>" in history.text
    assert paula.client.get("/drafts/999/history").status_code == 404


def test_send_now_posts_approved_replies(as_user, engine, core) -> None:
    draft_id = insert_draft(engine, 1)
    paula = as_user("paula")
    paula.post(f"/drafts/{draft_id}/approve")
    response = paula.post("/send")
    assert response.status_code == 200 and "Sent 1, failed 0" in response.text
    assert response.headers["HX-Trigger"] == "queue-changed"
    assert core.scripted_connector.posted == [
        ({"tweet_id": "5001"}, draft_state(engine, draft_id).text)
    ]
    assert draft_state(engine, draft_id).state == m.ReplyState.SENT
    with session_scope(engine) as session:
        assert session.exec(select(m.PostedReply)).one().external_id == "r1"


def test_failed_sends_are_shown_and_can_be_retried(as_user, engine, core) -> None:
    from connectors import TransientError

    draft_id = insert_draft(engine, 1)
    paula = as_user("paula")
    paula.post(f"/drafts/{draft_id}/approve")
    core.scripted_connector.fail_post = TransientError("platform timed out")
    assert "failed 1" in paula.post("/send").text
    page = paula.client.get("/?state=failed").text
    assert (
        "Last send error: TransientError: platform timed out" in page
        and 'id="retry-failed"' in page
    )
    core.scripted_connector.fail_post = None
    assert "Sent 1" in paula.post("/send", {"retry_failed": "1"}).text
    assert draft_state(engine, draft_id).state == m.ReplyState.SENT


def test_counts_fragment_polls_live(as_user, engine) -> None:
    insert_draft(engine, 1)
    insert_draft(engine, 2)
    client = as_user("vera").client
    fragment = client.get("/fragments/counts", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert 'hx-trigger="every 4s' in fragment.text
    assert re.search(r'data-state="drafted"><span class="n">2</span>', fragment.text)
    assert client.get("/api/counts").json()["drafted"] == 2


def test_untrusted_text_is_escaped_everywhere(as_user, engine) -> None:
    draft_id = insert_draft(
        engine,
        1,
        mention="<script>window.__xss=1</script> oi",
        author_name='<img src=x onerror="window.__xss=2">',
        handle="<b>h</b>",
        permalink="javascript:window.__xss=3",
        text="<script>window.__xss=4</script>",
        lint=[{"rule": "<i>r</i>", "level": "error", "message": "<svg onload=alert(1)>"}],
    )
    paula = as_user("paula")
    paula.post(f"/drafts/{draft_id}/reject", {"reason": "<script>window.__xss=5</script>"})
    pages = [
        paula.client.get("/?state=all").text,
        paula.client.get(f"/drafts/{draft_id}").text,
        paula.client.get(f"/drafts/{draft_id}/history").text,
    ]
    for html in pages:
        assert "<script>window" not in html and "<img src=x" not in html and "<svg" not in html
        assert "<b>h</b>" not in html and "javascript:" not in html
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt; oi" in pages[0]
    assert "&lt;img src=x onerror=&#34;window.__xss=2&#34;&gt;" in pages[0]
    assert "&lt;script&gt;window.__xss=5&lt;/script&gt;" in pages[2]


def test_unknown_draft_is_404(as_user) -> None:
    paula = as_user("paula")
    assert paula.client.get("/drafts/12345").status_code == 404
    assert paula.post("/drafts/12345/approve").status_code in (404, 409)
