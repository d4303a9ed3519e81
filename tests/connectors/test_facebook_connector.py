"""FacebookConnector against the sandbox over real HTTP, through pyfacebook."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from connectors import AuthError, FacebookOptions, PermanentError, RateLimited, TransientError
from social_care.sandbox import FB_PAGE_ID, SandboxServer


def _round_trip(cursor: dict) -> dict:
    return json.loads(json.dumps(cursor))


def _visitor(server: SandboxServer, name: str = "Cliente Teste") -> str:
    return server.state.add_fb_profile(name).id


def test_feed_first_sync_maps_posts_and_flags_the_pages_own(sandbox, make_facebook):
    result = make_facebook(sandbox).fetch("feed", None)
    by_key = {
        key: r for r in result.records for key, i in sandbox.seed.ids.items() if i == r.external_id
    }
    assert len(result.records) == 12  # page posts, visitor posts and posts tagging the page
    assert by_key["fb-brand-bf"].is_own and by_key["fb-brand-verao"].is_own
    fatima = by_key["fb-fatima-procon"]
    assert not fatima.is_own
    assert fatima.author.name == "Fátima Oliveira"
    assert fatima.created_at.tzinfo == UTC
    assert fatima.permalink.startswith(f"https://www.facebook.com/{FB_PAGE_ID}/posts/")
    assert fatima.reply_ref == {"kind": "post", "object_id": fatima.external_id}
    assert fatima.thread_external_id == fatima.external_id and fatima.parent_external_id is None
    assert by_key["fb-wagner-boicote"].external_id.startswith(
        by_key["fb-wagner-boicote"].author.external_id + "_"
    )
    assert result.requests_made == 1


def test_visitor_posts_and_tagged_streams(sandbox, make_facebook):
    connector = make_facebook(sandbox, streams=["visitor_posts", "tagged"])
    assert connector.streams() == ["visitor_posts", "tagged"]
    visitors = connector.fetch("visitor_posts", None).records
    tagged = connector.fetch("tagged", None).records
    assert len(visitors) == 7 and len(tagged) == 3
    assert {r.stream for r in visitors} == {"visitor_posts"}
    assert sandbox.seed.ids["fb-carol-sala"] in {r.external_id for r in tagged}


def test_comments_first_sync_includes_replies_with_their_thread(sandbox, make_facebook):
    result = make_facebook(sandbox).fetch("comments", None)
    records = {r.external_id: r for r in result.records}
    ids = sandbox.seed.ids
    assert len(records) == 15
    late, brand, again = (
        records[ids["fb-joao-late"]],
        records[ids["fb-brand-re-joao"]],
        records[ids["fb-joao-reclameaqui"]],
    )
    assert (
        late.parent_external_id == ids["fb-brand-verao"]
        and late.thread_external_id == ids["fb-brand-verao"]
    )
    assert brand.is_own and brand.parent_external_id == late.external_id
    # A reply to a reply joins the top-level comment's thread, as on Facebook.
    assert again.parent_external_id == late.external_id
    assert again.reply_ref["object_id"] == late.external_id
    assert "reply_comment_id=" in again.permalink
    assert not result.quarantined


def test_incremental_sync_after_restart_fetches_only_new_items(sandbox, make_facebook):
    connector = make_facebook(sandbox)
    feed = connector.fetch("feed", None)
    comments = connector.fetch("comments", None)
    person = _visitor(sandbox)
    post = sandbox.state.add_fb_post(person, "Vocês entregam em Palmas?", kind="visitor")
    comment = sandbox.state.add_fb_comment(
        sandbox.seed.ids["fb-brand-bf"], person, "O cupom não funciona"
    )
    reply = sandbox.state.add_fb_comment(
        comment.id, _visitor(sandbox, "Outra Pessoa"), "Comigo também!"
    )

    restarted = make_facebook(sandbox)
    new_feed = restarted.fetch("feed", _round_trip(feed.cursor))
    new_comments = restarted.fetch("comments", _round_trip(comments.cursor))
    assert [r.external_id for r in new_feed.records] == [post.id]
    assert sorted(r.external_id for r in new_comments.records) == sorted([comment.id, reply.id])
    # The feed listing, then the post with new comments; the new post's summary counts 0
    # comments, so reading its (empty) thread would be a wasted request.
    assert new_comments.requests_made == 2

    assert restarted.fetch("feed", _round_trip(new_feed.cursor)).records == []
    assert restarted.fetch("comments", _round_trip(new_comments.cursor)).records == []
    # Its first comment changes the count: the next poll reads it.
    late = sandbox.state.add_fb_comment(post.id, _visitor(sandbox, "Terceira Pessoa"), "Entregam sim?")
    latest = restarted.fetch("comments", _round_trip(new_comments.cursor))
    assert [r.external_id for r in latest.records] == [late.id]


def test_feed_pagination_is_capped_and_resumed_without_gaps(empty_sandbox, make_facebook):
    person = _visitor(empty_sandbox)
    created = [
        empty_sandbox.state.add_fb_post(person, f"post {n}", kind="visitor").id for n in range(7)
    ]
    connector = make_facebook(empty_sandbox, page_size=2, max_pages_per_poll=2)
    first = connector.fetch("feed", None)
    assert len(first.records) == 4 and first.cursor["pending"] is not None
    assert first.cursor["since"] is None
    second = connector.fetch("feed", _round_trip(first.cursor))
    assert second.cursor["pending"] is None
    third = connector.fetch("feed", _round_trip(second.cursor))
    seen = [r.external_id for r in first.records + second.records + third.records]
    assert sorted(seen) == sorted(created) and len(seen) == len(set(seen))


def test_comment_pagination_follows_paging_next(sandbox, make_facebook):
    post_id = sandbox.seed.ids["fb-brand-bf"]
    person = _visitor(sandbox)
    for n in range(5):
        sandbox.state.add_fb_comment(post_id, person, f"comentário {n}")
    result = make_facebook(sandbox, page_size=2).fetch("comments", None)
    assert len([r for r in result.records if r.thread_external_id == post_id]) == 10


def test_rate_limit_error_uses_the_usage_header_regain_time(sandbox, make_facebook):
    sandbox.faults.inject("rate_limit", route="/feed", reset_in=600)
    connector = make_facebook(sandbox)
    now = datetime.now(UTC)
    with pytest.raises(RateLimited) as caught:
        connector.fetch("feed", None)
    assert abs((caught.value.reset_at - now).total_seconds() - 600) < 5
    assert "80001" in str(caught.value)
    with pytest.raises(RateLimited):  # no request while blocked
        connector.fetch("feed", None)
    assert len(sandbox.faults.applied) == 1


@pytest.mark.parametrize("code", [4, 17, 32, 613])
def test_platform_rate_limit_codes(sandbox, make_facebook, code):
    sandbox.faults.inject("rate_limit", route="/feed", code=code)
    with pytest.raises(RateLimited):
        make_facebook(sandbox).fetch("feed", None)


def test_usage_header_at_100_percent_stops_the_next_call(sandbox, make_facebook):
    sandbox.faults.inject("usage_limit", route="/feed", reset_in=300)
    connector = make_facebook(sandbox)
    assert len(connector.fetch("feed", None).records) == 12  # the answer itself is good
    with pytest.raises(RateLimited) as caught:
        connector.fetch("feed", None)
    assert caught.value.reset_at > datetime.now(UTC)


def test_server_errors_are_retried_then_transient(sandbox, make_facebook, sleeps):
    sandbox.faults.inject("server_error", count=3, route="/feed", status=500)
    with pytest.raises(TransientError):
        make_facebook(sandbox, max_retries=2).fetch("feed", None)
    assert len(sleeps.delays) == 2
    sandbox.faults.inject("truncated_json", route="/feed")
    assert len(make_facebook(sandbox).fetch("feed", None).records) == 12


def test_expired_and_invalid_tokens_are_auth_errors(sandbox, make_facebook):
    sandbox.faults.inject("expired_token", route="/feed")
    with pytest.raises(AuthError, match="190/463"):
        make_facebook(sandbox).fetch("feed", None)
    with pytest.raises(AuthError):
        make_facebook(sandbox, secrets={"page_access_token": "nope"}).check_credentials()


def test_bad_request_is_permanent(sandbox, make_facebook):
    with pytest.raises(PermanentError, match="appsecret_proof"):
        make_facebook(
            sandbox, secrets={"page_access_token": "sandbox-fb-page-token", "app_secret": "wrong"}
        ).fetch("feed", None)
    with pytest.raises(PermanentError):
        make_facebook(sandbox).post_reply({"kind": "post", "object_id": "123_456"}, "Olá")


def test_malformed_item_is_quarantined_and_neighbours_kept(sandbox, make_facebook):
    sandbox.faults.inject("malformed_item", route="/feed")
    result = make_facebook(sandbox).fetch("feed", None)
    assert len(result.quarantined) == 1 and len(result.records) == 11
    assert "created_time" in result.quarantined[0].raw
    assert result.cursor["since"] is not None


def test_reply_is_posted_visible_and_found(sandbox, make_facebook):
    connector = make_facebook(sandbox)
    comments = connector.fetch("comments", None)
    target = next(
        r for r in comments.records if r.external_id == sandbox.seed.ids["fb-cristina-pix"]
    )
    text = "Oi, Cristina! Já localizamos o Pix em dobro e o estorno sai em até 24h."
    posted = connector.post_reply(target.reply_ref, text)
    stored = sandbox.state.fb_comments[posted.external_id]
    assert stored.parent_id == target.external_id and stored.author_id == FB_PAGE_ID

    assert connector.find_reply(target.reply_ref, text).external_id == posted.external_id
    assert connector.find_reply(target.reply_ref, "outra coisa") is None

    after = connector.fetch("comments", _round_trip(comments.cursor))
    assert [(r.external_id, r.is_own) for r in after.records] == [(posted.external_id, True)]


def test_check_credentials_and_option_validation(sandbox, make_facebook):
    info = make_facebook(sandbox).check_credentials()
    assert info.external_id == FB_PAGE_ID and info.name == "Loja Aurora"
    with pytest.raises(ValueError, match="unknown Facebook streams"):
        FacebookOptions(page_id="1", streams=["mentions"])


def test_slow_answers_time_out_as_transient_errors(sandbox, make_facebook):
    sandbox.faults.inject("delay", route="/feed", delay=0.6)
    with pytest.raises(TransientError, match="failed"):
        make_facebook(sandbox, timeout=0.2, max_retries=0).fetch("feed", None)


def test_a_token_of_another_page_is_an_auth_error(sandbox, make_facebook):
    with pytest.raises(AuthError, match="not to page 42"):
        make_facebook(sandbox, page_id="42").check_credentials()


def test_a_long_comment_thread_is_read_over_several_polls(empty_sandbox, make_facebook):
    person = _visitor(empty_sandbox)
    post = empty_sandbox.state.add_fb_post(FB_PAGE_ID, "Promoção relâmpago!", kind="page")
    created = [
        empty_sandbox.state.add_fb_comment(post.id, person, f"quero {n}").id for n in range(5)
    ]
    connector = make_facebook(empty_sandbox, page_size=2, max_pages_per_poll=1)
    seen: list[str] = []
    cursor = None
    for _ in range(3):
        result = connector.fetch("comments", cursor)
        seen += [r.external_id for r in result.records]
        cursor = _round_trip(result.cursor)
    assert seen == created
    assert connector.fetch("comments", cursor).records == []
    later = empty_sandbox.state.add_fb_comment(post.id, person, "mais um")
    assert [r.external_id for r in connector.fetch("comments", cursor).records] == [later.id]


def test_an_expired_paging_cursor_falls_back_to_the_time_mark(sandbox, make_facebook):
    connector = make_facebook(sandbox)
    first = _round_trip(connector.fetch("comments", None).cursor)
    post_id = sandbox.seed.ids["fb-brand-bf"]
    assert first["posts"][post_id]["after"]
    first["posts"][post_id]["after"] = "ZXhwaXJlZA"
    comment = sandbox.state.add_fb_comment(post_id, _visitor(sandbox), "Ainda tem cupom?")
    result = connector.fetch("comments", first)
    assert [r.external_id for r in result.records] == [comment.id]
