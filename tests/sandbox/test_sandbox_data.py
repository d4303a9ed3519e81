"""Seed data, the synthetic mention generator and the search-query evaluator."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from social_care.sandbox import X_USER_ID, SandboxState, generate_mentions, iter_mentions
from social_care.sandbox.generator import GeneratedMentionWriter
from social_care.sandbox.seed_loader import load_seed, read_seed
from social_care.sandbox.x_query import QuerySyntaxError, compile_query


def test_seed_is_a_realistic_mix():
    items = read_seed("demo")["items"]
    mentions = [i for i in items if i["labels"]["intent"] != "own"]
    assert len(items) >= 80
    assert Counter(i["platform"] for i in items).keys() == {"x", "facebook", "instagram"}
    assert {i["labels"]["intent"] for i in mentions} == {
        "complaint",
        "question",
        "praise",
        "noise",
        "spam",
    }
    categories = {i["labels"]["category"] for i in mentions if i["labels"]["intent"] == "complaint"}
    assert categories == {
        "delivery_late",
        "delivery_lost",
        "wrong_item",
        "damaged_defective",
        "refund_return",
        "payment_billing",
        "customer_service",
        "website_app",
    }
    assert {i["labels"]["severity"] for i in mentions} >= {0, 1, 2, 3, 4}
    languages = Counter(i.get("lang") for i in items if i["platform"] == "x")
    assert languages["pt"] > languages["en"] > 0 and languages["es"] > 0
    assert len({i["key"] for i in items}) == len(items)


def test_seed_loads_with_threads_and_relative_times():
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    state = SandboxState(clock=lambda: now)
    loaded = load_seed(state, "demo")
    tweet = state.tweets[loaded.ids["x-marina-again"]]
    assert tweet.in_reply_to_tweet_id == loaded.ids["x-brand-re-marina"]
    assert tweet.conversation_id == loaded.ids["x-marina-late"]
    assert max(t.created_at for t in state.tweets.values()) < now
    assert len(state.mentions_of(X_USER_ID)) == 29


def test_generator_is_deterministic_and_mixed():
    first = generate_mentions(300, seed=11)
    assert first == generate_mentions(300, seed=11)
    assert first != generate_mentions(300, seed=12)
    assert generate_mentions(10, seed=11) == first[:10]
    assert Counter(m["platform"] for m in first).keys() == {"x", "facebook", "instagram"}
    assert Counter(m["lang"] for m in first).keys() == {"pt", "en", "es"}
    assert Counter(m["labels"]["intent"] for m in first).keys() == {
        "complaint",
        "question",
        "praise",
        "noise",
        "spam",
    }
    assert all(m["text"] for m in first)


def test_generated_mentions_go_into_the_state():
    state = SandboxState()
    writer = GeneratedMentionWriter(state)
    ids = [writer.add(item) for item in generate_mentions(60, seed=5)]
    assert len(set(ids)) == 60
    assert (
        len(state.tweets) + len(state.fb_posts) + len(state.fb_comments) + len(state.ig_comments)
        >= 60
    )


def _tweet(state: SandboxState, handle: str, text: str, **kwargs):
    user = state.x_user_by_username(handle) or state.add_x_user(handle, handle)
    return state.add_tweet(user.id, text, **kwargs)


def test_search_query_operators():
    state = SandboxState()
    plain = _tweet(state, "ana", "Comprei na Loja Aurora ontem")
    tagged = _tweet(state, "bia", "amei #lojaaurora")
    own = _tweet(state, "lojaaurora", "Loja Aurora informa")
    retweet = _tweet(state, "caio", "RT Loja Aurora", retweet_of=plain.id)
    other = _tweet(state, "dani", "aurora boreal linda")
    predicate = compile_query(
        '("Loja Aurora" OR #lojaaurora) -is:retweet -from:lojaaurora', state.x_users
    )
    assert [t.id for t in (plain, tagged, own, retweet, other) if predicate(t)] == [
        plain.id,
        tagged.id,
    ]
    assert compile_query("aurora -boreal", state.x_users)(other) is False
    assert compile_query("aurora -boreal", state.x_users)(plain) is True
    assert compile_query("comprei aurora", state.x_users)(plain) is True
    for broken in ("", "(aurora", "-aurora", "foo:bar"):
        with pytest.raises(QuerySyntaxError):
            compile_query(broken, state.x_users)


def test_the_endless_stream_extends_the_fixed_list():
    stream = iter_mentions(9)
    assert [next(stream) for _ in range(25)] == generate_mentions(25, seed=9)
