"""XConnector against the sandbox over real HTTP, through tweepy."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from connectors import (
    AuthError,
    BudgetExhausted,
    PermanentError,
    RateLimited,
    TransientError,
    XOptions,
    build_search_query,
)
from social_care.sandbox import X_APP_BEARER_TOKEN, X_USER_ID, SandboxServer


def _round_trip(cursor: dict) -> dict:
    return json.loads(json.dumps(cursor))


def _add_mentions(server: SandboxServer, count: int, prefix: str = "pedido") -> list[str]:
    author = server.state.add_x_user("cliente_teste", "Cliente Teste", followers=321)
    return [
        server.state.add_tweet(author.id, f"@lojaaurora {prefix} {n} não chegou").id
        for n in range(count)
    ]


def test_first_sync_maps_mentions_with_authors_threads_and_languages(sandbox, make_x):
    connector = make_x(sandbox)
    result = connector.fetch("mentions", None)
    assert result.requests_made == 1
    assert not result.quarantined
    by_id = {r.external_id: r for r in result.records}
    assert len(by_id) == 29  # every seeded tweet that @mentions the brand, retweets aside
    marina_again = by_id[sandbox.seed.ids["x-marina-again"]]
    assert marina_again.author.handle == "marinacouto"
    assert marina_again.author.name == "Marina Couto"
    assert marina_again.author.followers == 1840
    assert marina_again.parent_external_id == sandbox.seed.ids["x-brand-re-marina"]
    assert marina_again.thread_external_id == sandbox.seed.ids["x-marina-late"]
    assert marina_again.permalink == f"https://x.com/marinacouto/status/{marina_again.external_id}"
    assert marina_again.created_at.tzinfo == UTC
    assert marina_again.reply_ref["tweet_id"] == marina_again.external_id
    assert marina_again.stream == "mentions" and marina_again.platform == "x"
    assert by_id[sandbox.seed.ids["x-sofia-ar"]].lang_hint == "es"
    assert by_id[sandbox.seed.ids["x-daniel-lamp"]].lang_hint == "en"
    assert not any(r.is_own for r in result.records)
    assert sandbox.seed.ids["x-vitoria-rt"] not in by_id
    assert json.loads(json.dumps(result.cursor)) == result.cursor


def test_incremental_sync_after_restart_fetches_only_new_mentions(sandbox, make_x):
    first = make_x(sandbox).fetch("mentions", None)
    stored_cursor = _round_trip(first.cursor)
    new_ids = _add_mentions(sandbox, 3)

    restarted = make_x(sandbox)
    second = restarted.fetch("mentions", stored_cursor)
    assert sorted(r.external_id for r in second.records) == sorted(new_ids)
    assert second.records[0].author.followers == 321

    third = restarted.fetch("mentions", _round_trip(second.cursor))
    assert third.records == []
    assert third.cursor["since_id"] == second.cursor["since_id"]


def test_pagination_is_capped_per_poll_and_resumes_without_gaps_or_repeats(empty_sandbox, make_x):
    created = _add_mentions(empty_sandbox, 12)
    connector = make_x(empty_sandbox, page_size=5, max_pages_per_poll=2)

    first = connector.fetch("mentions", None)
    assert first.requests_made == 2
    assert len(first.records) == 10
    assert first.cursor["since_id"] is None, "the mark moves only after the whole pagination"
    assert first.cursor["pending"]["newest_id"] == created[-1]

    newer = _add_mentions(empty_sandbox, 1, prefix="novo")
    second = connector.fetch("mentions", _round_trip(first.cursor))
    assert second.cursor["pending"] is None
    assert second.cursor["since_id"] == created[-1]
    third = connector.fetch("mentions", _round_trip(second.cursor))

    seen = [r.external_id for r in first.records + second.records + third.records]
    assert sorted(seen) == sorted(created + newer)
    assert len(seen) == len(set(seen))


def test_search_stream_finds_keyword_mentions_and_skips_retweets_and_own_posts(sandbox, make_x):
    connector = make_x(sandbox)
    assert (
        connector.search_query
        == '("Loja Aurora" OR #lojaaurora OR @lojaaurora) -is:retweet -from:lojaaurora'
    )
    result = connector.fetch("search", None)
    ids = {r.external_id for r in result.records}
    assert sandbox.seed.ids["x-pedro-wrong"] in ids  # "Loja Aurora" without @
    assert sandbox.seed.ids["x-influ-publi"] in ids  # #lojaaurora
    assert sandbox.seed.ids["x-vitoria-rt"] not in ids
    assert sandbox.seed.ids["x-brand-trocas"] not in ids
    assert sandbox.seed.ids["x-aninha-noise"] not in ids
    assert all(r.stream == "search" for r in result.records)


def test_search_query_stays_under_512_characters():
    options = XOptions(
        user_id="1", handle="lojaaurora", keywords=[f"palavra chave {n}" for n in range(80)]
    )
    query = build_search_query(options)
    assert len(query) <= 512
    assert query.startswith('("palavra chave 0" OR')
    assert query.endswith(") -is:retweet -from:lojaaurora")


def test_search_without_terms_is_refused():
    with pytest.raises(ValueError, match="search stream"):
        XOptions(user_id="1", streams=["search"])


def test_rate_limit_raises_rate_limited_with_the_header_reset(sandbox, make_x, sleeps):
    sandbox.faults.inject("rate_limit", route="mentions", reset_in=120)
    before = int(datetime.now(UTC).timestamp())
    with pytest.raises(RateLimited) as caught:
        make_x(sandbox).fetch("mentions", None)
    reset = int(caught.value.reset_at.timestamp())
    assert before + 119 <= reset <= before + 122
    assert caught.value.reset_at.tzinfo is not None
    assert sleeps.delays == [], "a rate limit is never slept on"


def test_server_errors_are_retried_a_bounded_number_of_times(sandbox, make_x, sleeps):
    sandbox.faults.inject("server_error", count=5, route="mentions", status=503)
    with pytest.raises(TransientError):
        make_x(sandbox, max_retries=2).fetch("mentions", None)
    assert len(sandbox.faults.applied) == 3
    assert len(sleeps.delays) == 2
    assert sleeps.delays[0] <= sleeps.delays[1] * 2  # exponential with jitter


def test_a_single_server_error_is_absorbed_by_the_retry(sandbox, make_x, sleeps):
    sandbox.faults.inject("server_error", route="mentions")
    result = make_x(sandbox).fetch("mentions", None)
    assert len(result.records) == 29
    assert result.requests_made == 2
    assert len(sleeps.delays) == 1


def test_truncated_json_and_timeouts_are_transient(sandbox, make_x):
    sandbox.faults.inject("truncated_json", count=3, route="mentions")
    with pytest.raises(TransientError, match="malformed JSON"):
        make_x(sandbox).fetch("mentions", None)
    sandbox.faults.clear()
    sandbox.faults.inject("delay", count=1, route="mentions", delay=0.6)
    with pytest.raises(TransientError, match="failed"):
        make_x(sandbox, timeout=0.2, max_retries=0).fetch("mentions", None)


def test_expired_or_unknown_token_is_an_auth_error(sandbox, make_x):
    sandbox.faults.inject("expired_token", route="mentions")
    with pytest.raises(AuthError):
        make_x(sandbox).fetch("mentions", None)
    with pytest.raises(AuthError):
        make_x(sandbox, secrets={"bearer_token": "revoked"}).fetch("mentions", None)


def test_malformed_item_is_quarantined_and_the_rest_kept(sandbox, make_x):
    sandbox.faults.inject("malformed_item", route="mentions")
    result = make_x(sandbox).fetch("mentions", None)
    assert len(result.quarantined) == 1
    assert result.quarantined[0].reason == "tweet without id or text"
    assert result.quarantined[0].raw.get("created_at")
    assert len(result.records) == 28
    newest = max(int(t.id) for t in sandbox.state.mentions_of(X_USER_ID))
    assert result.cursor["since_id"] == str(newest), (
        "the cursor still advances past the broken item"
    )


def test_daily_read_budget_is_never_exceeded_and_survives_restarts(empty_sandbox, make_x, clock):
    _add_mentions(empty_sandbox, 12)
    connector = make_x(empty_sandbox, page_size=5, max_pages_per_poll=5, daily_read_budget=2)
    first = connector.fetch("mentions", None)
    assert first.requests_made == 2 and len(first.records) == 10
    assert first.cursor["budget"]["reads"] == 2

    restarted = make_x(empty_sandbox, page_size=5, max_pages_per_poll=5, daily_read_budget=2)
    with pytest.raises(BudgetExhausted) as caught:
        restarted.fetch("search", {"budget": _round_trip(first.cursor)["budget"]})
    midnight = (clock.now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    assert caught.value.reset_at == midnight
    assert len(empty_sandbox.faults.applied) == 0

    clock.now = midnight + timedelta(minutes=1)
    second = restarted.fetch("mentions", _round_trip(first.cursor))
    assert len(second.records) == 2
    assert second.cursor["budget"] == {"day": midnight.date().isoformat(), "reads": 1}


def test_reply_is_posted_visible_and_found_for_reconciliation(sandbox, make_x):
    connector = make_x(sandbox)
    mention = next(
        r
        for r in connector.fetch("mentions", None).records
        if r.external_id == sandbox.seed.ids["x-bia-prazo"]
    )
    text = "@bianogueira_ Oi, Beatriz! Para Recife o prazo é de 3 a 5 dias úteis."
    posted = connector.post_reply(mention.reply_ref, text)

    tweet = sandbox.state.tweets[posted.external_id]
    assert tweet.in_reply_to_tweet_id == mention.external_id
    assert tweet.author_id == X_USER_ID and tweet.text == text
    assert posted.permalink == f"https://x.com/lojaaurora/status/{posted.external_id}"

    assert connector.find_reply(mention.reply_ref, text) == posted
    assert connector.find_reply(mention.reply_ref, "outro texto") is None
    with pytest.raises(PermanentError, match="duplicate"):
        connector.post_reply(mention.reply_ref, text)
    with pytest.raises(PermanentError, match="too long"):
        connector.post_reply(mention.reply_ref, "a" * 281)


def test_posting_with_an_app_only_token_is_an_auth_error(sandbox, make_x):
    connector = make_x(sandbox, secrets={"bearer_token": X_APP_BEARER_TOKEN})
    assert len(connector.fetch("mentions", None).records) == 29
    with pytest.raises(AuthError):
        connector.post_reply({"tweet_id": sandbox.seed.ids["x-bia-prazo"]}, "Olá!")


def test_brand_own_tweets_are_flagged(sandbox, make_x):
    own = sandbox.state.add_tweet(X_USER_ID, "Obrigada a todos que falaram com a @lojaaurora hoje!")
    records = make_x(sandbox).fetch("mentions", None).records
    flagged = {r.external_id: r.is_own for r in records}
    assert flagged[own.id] is True
    assert sum(flagged.values()) == 1


def test_check_credentials_identifies_the_account(sandbox, make_x):
    info = make_x(sandbox).check_credentials()
    assert (info.external_id, info.handle) == (X_USER_ID, "lojaaurora")
    with pytest.raises(AuthError):
        make_x(sandbox, secrets={"bearer_token": X_APP_BEARER_TOKEN}).check_credentials()


def test_a_reset_time_in_the_past_still_waits_a_little(sandbox, make_x, clock):
    sandbox.faults.inject("rate_limit", route="mentions", reset_in=-300)
    with pytest.raises(RateLimited) as caught:
        make_x(sandbox).fetch("mentions", None)
    assert caught.value.reset_at >= clock.now + timedelta(seconds=15)


def test_search_after_a_long_outage_restarts_inside_the_seven_day_window(sandbox, make_x, clock):
    week_old_ms = int((clock.now - timedelta(days=8)).timestamp() * 1000)
    stale_id = str((week_old_ms - 1288834974657) << 22)
    result = make_x(sandbox).fetch("search", {"since_id": stale_id})
    assert sandbox.seed.ids["x-pedro-wrong"] in {r.external_id for r in result.records}
    assert int(result.cursor["since_id"]) > int(stale_id)


def test_budget_holds_when_two_streams_poll_at_once(empty_sandbox, make_x):
    _add_mentions(empty_sandbox, 30)
    connector = make_x(empty_sandbox, page_size=5, max_pages_per_poll=4, daily_read_budget=5)

    def poll(stream: str) -> int:
        try:
            return connector.fetch(stream, None).requests_made
        except BudgetExhausted:
            return 0

    with ThreadPoolExecutor(2) as pool:
        spent = list(pool.map(poll, ["mentions", "search"] * 2))
    assert sum(spent) == 5
    windows = empty_sandbox.x_api.windows._windows
    assert sum(window.used for window in windows.values()) == 5
    assert len(windows) == 2  # both routes were called
