"""Ingest: mentions stored once, cursor committed with them, failures recorded on the account."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from connectors import AuthError, FetchResult, QuarantinedItem, RateLimited, TransientError
from social_care import models as m
from social_care.db import session_scope
from social_care.ingest import commit_fetch, load_cursor, poll_account, store_records


def _account(engine: sa.engine.Engine) -> int:
    with session_scope(engine) as session:
        account = m.Account(name="aurora-x", platform="x")
        session.add(account)
        session.flush()
        assert account.id is not None
        return account.id


def _count(engine: sa.engine.Engine, model: type) -> int:
    with session_scope(engine) as session:
        return session.exec(select(sa.func.count()).select_from(model)).one()


def test_records_and_cursor_commit_together_and_repeat_is_absorbed(engine, scripted, record) -> None:
    account_id = _account(engine)
    page = FetchResult([record(1), record(2)], [], {"since_id": "1002"})
    connector = scripted([page, FetchResult([record(2), record(3)], [], {"since_id": "1003"})])
    first = poll_account(engine, account_id, connector, interval_seconds=60)
    second = poll_account(engine, account_id, connector, interval_seconds=60)
    assert (first.stored, second.stored) == (2, 1)
    assert _count(engine, m.Mention) == 3
    with session_scope(engine) as session:
        assert load_cursor(session, account_id, "mentions") == {"since_id": "1003"}
        account = session.get(m.Account, account_id)
        assert account.status == m.AccountStatus.OK and account.last_success_at is not None


def test_failed_commit_leaves_neither_mentions_nor_cursor(engine, record, monkeypatch) -> None:
    account_id = _account(engine)

    def crash(*_args, **_kwargs):
        raise RuntimeError("killed between storing the mentions and the cursor")

    monkeypatch.setattr("social_care.ingest.save_cursor", crash)
    with pytest.raises(RuntimeError):
        commit_fetch(engine, account_id, "mentions", FetchResult([record(1), record(2)], [], {"since_id": "1002"}))
    assert _count(engine, m.Mention) == 0
    with session_scope(engine) as session:
        assert load_cursor(session, account_id, "mentions") is None


def test_authors_and_threads_are_shared_and_kept_current(engine, record) -> None:
    account_id = _account(engine)
    with session_scope(engine) as session:
        store_records(session, [record(1, thread="t1"), record(2, thread="t1")], account_id=account_id)
    with session_scope(engine) as session:
        store_records(session, [record(5, thread="t1")], account_id=account_id)
    assert _count(engine, m.Author) == 1
    assert _count(engine, m.Conversation) == 1
    with session_scope(engine) as session:
        author = session.exec(select(m.Author)).one()
        assert author.followers == 50  # the latest reach wins


def test_brand_own_posts_are_stored_but_never_queued(engine, record) -> None:
    account_id = _account(engine)
    with session_scope(engine) as session:
        store_records(session, [record(1, is_own=True)], account_id=account_id)
        mention = session.exec(select(m.Mention)).one()
        assert mention.stage == m.MentionStage.NO_REPLY


def test_odd_unicode_and_nul_and_huge_texts_are_kept(engine, record) -> None:
    account_id = _account(engine)
    texts = ["\u202eRTL\u200b zero\u0301 width 👩‍👩‍👧", "nul\x00inside", "x" * 100_000, ""]
    with session_scope(engine) as session:
        store_records(session, [record(i, text=t) for i, t in enumerate(texts)], account_id=account_id)
    with session_scope(engine) as session:
        stored = [r.text for r in session.exec(select(m.Mention).order_by(m.Mention.id)).all()]
    assert stored[0] == texts[0] and stored[2] == texts[2] and stored[3] == ""
    assert stored[1] == "nul\ufffdinside"  # PostgreSQL cannot hold NUL; the rest is kept


def test_quarantined_items_are_kept_with_reason_and_neighbours_stored(engine, record) -> None:
    account_id = _account(engine)
    q = QuarantinedItem(platform="x", stream="mentions", reason="missing text", raw={"id": "9"}, external_id="9")
    commit_fetch(engine, account_id, "mentions", FetchResult([record(1)], [q], {"since_id": "1001"}))
    assert _count(engine, m.Mention) == 1
    with session_scope(engine) as session:
        item = session.exec(select(m.QuarantinedItem)).one()
        assert item.reason == "missing text" and '"id": "9"' in item.raw


def test_rate_limit_reschedules_for_the_reset_time(engine, scripted) -> None:
    account_id = _account(engine)
    reset = m.utcnow() + timedelta(minutes=14)
    report = poll_account(engine, account_id, scripted([RateLimited("429", reset)]), interval_seconds=60)
    assert report.status == m.AccountStatus.RATE_LIMITED
    assert report.next_poll_at == reset


def test_auth_error_marks_the_account_for_reauthentication(engine, scripted) -> None:
    account_id = _account(engine)
    report = poll_account(engine, account_id, scripted([AuthError("token expired")]), interval_seconds=60)
    assert report.status == m.AccountStatus.NEEDS_REAUTH
    with session_scope(engine) as session:
        assert "token expired" in session.get(m.Account, account_id).status_detail


def test_transient_errors_back_off_exponentially(engine, scripted) -> None:
    account_id = _account(engine)
    delays = []
    for _ in range(4):
        now = m.utcnow()
        report = poll_account(engine, account_id, scripted([TransientError("502")]), interval_seconds=60, now=now)
        delays.append((report.next_poll_at - now).total_seconds())
    assert delays[0] < delays[1] < delays[2] < delays[3] <= 1800 * 1.2


def test_a_connector_bug_marks_the_account_and_spares_other_streams(engine, scripted, record) -> None:
    account_id = _account(engine)

    class TwoStreams(scripted):  # type: ignore[misc,valid-type]
        def streams(self) -> list[str]:
            return ["mentions", "search"]

    connector = TwoStreams([AttributeError("'NoneType' object has no attribute 'get'"),
                            FetchResult([record(1)], [], {"since_id": "1001"})])
    report = poll_account(engine, account_id, connector, interval_seconds=60)
    assert report.status == m.AccountStatus.ERROR and report.stored == 1
    assert "unexpected AttributeError" in report.streams[0].error


def test_one_poll_larger_than_the_databases_parameter_limit_is_stored_whole(engine, scripted, record) -> None:
    # 16,000 mentions x 17 columns is 272,000 bound values: over the SQLite build's limit here (250,000) and PostgreSQL's
    # 65,535 per statement. It used to fail on every retry, so the stream never advanced.
    account_id = _account(engine)
    records = [record(n, author=f"a{n % 50}") for n in range(16_000)]
    connector = scripted([FetchResult(records, [], {"since_id": "17000"})])
    report = poll_account(engine, account_id, connector, interval_seconds=60)
    assert report.stored == 16_000
    assert _count(engine, m.Mention) == 16_000
    with session_scope(engine) as session:
        assert load_cursor(session, account_id, "mentions") == {"since_id": "17000"}
    # and the same page again is absorbed, not doubled
    again = poll_account(engine, account_id, scripted([FetchResult(records, [], {"since_id": "17000"})]),
                         interval_seconds=60)
    assert again.stored == 0 and _count(engine, m.Mention) == 16_000
