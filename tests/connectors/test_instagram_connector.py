"""InstagramConnector against the sandbox over real HTTP, through pyfacebook."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from connectors import AuthError, PermanentError, RateLimited, TransientError
from social_care.sandbox import IG_USER_ID, SandboxServer


def _round_trip(cursor: dict) -> dict:
    return json.loads(json.dumps(cursor))


def _fan(server: SandboxServer, username: str = "cliente.teste") -> str:
    return server.state.add_ig_profile(username, "Cliente Teste").id


def test_comments_first_sync_includes_replies_and_flags_the_brand(sandbox, make_instagram):
    result = make_instagram(sandbox).fetch("comments", None)
    ids = sandbox.seed.ids
    records = {r.external_id: r for r in result.records}
    assert len(records) == 20 and not result.quarantined
    trincada = records[ids["ig-duda-trincada"]]
    assert trincada.author.handle == "dudaferraz"
    assert trincada.thread_external_id == ids["ig-brand-casa"] == trincada.parent_external_id
    assert trincada.permalink.startswith("https://www.instagram.com/p/")
    assert trincada.created_at.tzinfo == UTC
    assert trincada.reply_ref == {
        "kind": "comment",
        "comment_id": trincada.external_id,
        "media_id": ids["ig-brand-casa"],
        "reply_to": trincada.external_id,
    }
    brand_reply = records[ids["ig-brand-re-duda"]]
    assert brand_reply.is_own and brand_reply.parent_external_id == trincada.external_id
    thanks = records[ids["ig-duda-thanks"]]
    assert (
        thanks.reply_ref["comment_id"] == trincada.external_id
    )  # replies hang under the top level
    assert sum(r.is_own for r in result.records) == 2


def test_incremental_sync_reads_only_media_whose_comment_count_changed(sandbox, make_instagram):
    first = make_instagram(sandbox).fetch("comments", None)
    restarted = make_instagram(sandbox)
    unchanged = restarted.fetch("comments", _round_trip(first.cursor))
    assert unchanged.records == [] and unchanged.requests_made == 1

    fan = _fan(sandbox)
    comment = sandbox.state.add_ig_comment(
        sandbox.seed.ids["ig-brand-bf"], fan, "Chegou hoje, amei!"
    )
    reply = sandbox.state.add_ig_comment(
        sandbox.seed.ids["ig-leo-double"], fan, "Comigo aconteceu o mesmo"
    )
    second = restarted.fetch("comments", _round_trip(unchanged.cursor))
    assert sorted(r.external_id for r in second.records) == sorted([comment.id, reply.id])
    assert second.requests_made == 2
    assert restarted.fetch("comments", _round_trip(second.cursor)).records == []


def test_long_comment_lists_are_read_over_several_polls(empty_sandbox, make_instagram):
    media = empty_sandbox.state.add_ig_media(IG_USER_ID, "Promoção!")
    fan = _fan(empty_sandbox)
    created = [
        empty_sandbox.state.add_ig_comment(media.id, fan, f"comentário {n}").id for n in range(7)
    ]
    connector = make_instagram(empty_sandbox, page_size=2, max_pages_per_poll=2)
    seen: list[str] = []
    cursor = None
    for _ in range(3):
        result = connector.fetch("comments", cursor)
        seen += [r.external_id for r in result.records]
        cursor = _round_trip(result.cursor)
    assert sorted(seen) == sorted(created) and len(seen) == len(set(seen))
    later = empty_sandbox.state.add_ig_comment(media.id, fan, "mais um")
    assert [r.external_id for r in connector.fetch("comments", cursor).records] == [later.id]


def test_tags_stream_and_reply_kinds(sandbox, make_instagram):
    result = make_instagram(sandbox).fetch("tags", None)
    refs = {r.external_id: r.reply_ref for r in result.records}
    assert refs == {
        sandbox.seed.ids["ig-anadecor-canecas"]: {
            "kind": "mention",
            "media_id": sandbox.seed.ids["ig-anadecor-canecas"],
        },
        sandbox.seed.ids["ig-bruna-look"]: {
            "kind": "tagged",
            "media_id": sandbox.seed.ids["ig-bruna-look"],
        },
    }
    assert {r.author.handle for r in result.records} == {"ana.decor", "fit.bruna"}
    with pytest.raises(PermanentError, match="tagged"):
        make_instagram(sandbox).post_reply(refs[sandbox.seed.ids["ig-bruna-look"]], "Obrigada!")


def test_comment_reply_is_posted_visible_and_found(sandbox, make_instagram):
    connector = make_instagram(sandbox)
    first = connector.fetch("comments", None)
    target = next(
        r for r in first.records if r.external_id == sandbox.seed.ids["ig-tainara-estorno"]
    )
    text = "@tainara.f Oi, Tainara! Seu estorno foi liberado hoje; chamamos você no direct."
    posted = connector.post_reply(target.reply_ref, text)
    stored = sandbox.state.ig_comments[posted.external_id]
    assert stored.parent_id == target.external_id and stored.author_id == IG_USER_ID
    assert connector.find_reply(target.reply_ref, text) == posted
    assert connector.find_reply(target.reply_ref, "outro") is None
    after = connector.fetch("comments", _round_trip(first.cursor))
    assert [(r.external_id, r.is_own) for r in after.records] == [(posted.external_id, True)]


def test_caption_and_comment_mentions_are_fetched_and_answered(sandbox, make_instagram):
    connector = make_instagram(sandbox)
    ids = sandbox.seed.ids
    caption = connector.fetch_mention(ids["ig-tiago-mochila"])
    assert caption.external_id == ids["ig-tiago-mochila"] and caption.stream == "mentions"
    assert caption.author.handle == "tiago.viaja" and "backpack" in caption.text
    assert caption.reply_ref == {"kind": "mention", "media_id": ids["ig-tiago-mochila"]}

    comment = connector.fetch_mention(ids["ig-bruna-look"], ids["ig-clara-sumiu"])
    assert comment.external_id == ids["ig-clara-sumiu"] and comment.author.handle == "clara.m"
    assert comment.thread_external_id == ids["ig-bruna-look"]

    for record, text in (
        (caption, "Oi, Tiago! Sentimos muito, vamos trocar a mochila."),
        (comment, "Oi, Clara! Te chamamos no direct."),
    ):
        posted = connector.post_reply(record.reply_ref, text)
        assert sandbox.state.ig_comments[posted.external_id].author_id == IG_USER_ID
        assert connector.find_reply(record.reply_ref, text) == posted
    assert sandbox.state.ig_comments[posted.external_id].parent_id == ids["ig-clara-sumiu"]

    with pytest.raises(PermanentError):
        connector.fetch_mention(ids["ig-bruna-look"])  # tagged, but its caption does not @mention


def test_rate_limit_80002_and_expired_token(sandbox, make_instagram):
    sandbox.faults.inject("rate_limit", route="/media", reset_in=120)
    now = datetime.now(UTC)
    with pytest.raises(RateLimited, match="80002") as caught:
        make_instagram(sandbox).fetch("comments", None)
    assert abs((caught.value.reset_at - now).total_seconds() - 120) < 5
    sandbox.faults.inject("expired_token", route="/tags")
    with pytest.raises(AuthError):
        make_instagram(sandbox).fetch("tags", None)


def test_transient_failures_and_malformed_items(sandbox, make_instagram, sleeps):
    sandbox.faults.inject("server_error", count=3, route="/tags")
    with pytest.raises(TransientError):
        make_instagram(sandbox).fetch("tags", None)
    assert len(sleeps.delays) == 2
    sandbox.faults.clear()
    sandbox.faults.inject("malformed_item", route=r"^/v\d+\.\d+/\d+/comments$")
    result = make_instagram(sandbox).fetch("comments", None)
    assert len(result.quarantined) == 1
    assert len(result.records) >= 17  # the broken comment (and its nested replies) only


def test_check_credentials(sandbox, make_instagram):
    info = make_instagram(sandbox).check_credentials()
    assert info.external_id == IG_USER_ID and info.handle == "lojaaurora"
    with pytest.raises(AuthError):
        make_instagram(sandbox, secrets={"access_token": "expired"}).check_credentials()


def test_an_expired_paging_cursor_restarts_the_comment_list(empty_sandbox, make_instagram):
    media = empty_sandbox.state.add_ig_media(IG_USER_ID, "Promoção!")
    fan = _fan(empty_sandbox)
    created = [
        empty_sandbox.state.add_ig_comment(media.id, fan, f"comentário {n}").id for n in range(5)
    ]
    connector = make_instagram(empty_sandbox, page_size=2, max_pages_per_poll=1)
    first = connector.fetch("comments", None)
    cursor = _round_trip(first.cursor)
    cursor["media"][media.id]["pending"]["next"]["after"] = "ZXhwaXJlZA"
    seen = [r.external_id for r in first.records]
    for _ in range(3):
        result = connector.fetch("comments", cursor)
        seen += [r.external_id for r in result.records]
        cursor = _round_trip(result.cursor)
    assert set(seen) == set(created)
    assert connector.fetch("comments", cursor).records == []
