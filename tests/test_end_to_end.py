"""The whole path on the sandbox platform, through the real client libraries and the shipped model:
poll -> classify -> draft -> approve -> send, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections import Counter

import pytest
import sqlalchemy as sa
from sqlmodel import select

from social_care import models as m
from social_care.app import SocialCare
from social_care.db import session_scope
from social_care.users import add_user

pytestmark = pytest.mark.shipped_model


def test_mentions_flow_from_sandbox_to_posted_reply(sandbox_core: SocialCare, sandbox_server) -> None:
    core = sandbox_core
    first = core.cycle(send=False)
    assert all(p.status == m.AccountStatus.OK for p in first.polls), [p.streams for p in first.polls]
    stored = core.counts()["mentions"]
    assert stored >= 30
    assert first.classified.processed == stored - _own_posts(core)
    drafted = core.queue(state="drafted", limit=1000)
    assert drafted, "no drafts were written"
    assert {r.platform for r in drafted} == {"x", "facebook", "instagram"}
    assert {r.language for r in drafted} >= {"pt", "en"}
    # Every draft is addressed, in the mention's language family, and free of lint errors.
    assert all(not any(f["level"] == "error" for f in r.lint) for r in drafted), [
        (r.draft_text, r.lint) for r in drafted if any(f["level"] == "error" for f in r.lint)]

    # A second poll stores nothing new: the cursors held and the unique key absorbs repeats.
    again = core.poll()
    assert sum(p.stored for p in again) == 0
    assert core.counts()["mentions"] == stored

    add_user(core.engine, "paula", "approver")
    # A Facebook comment reply comes back in the comments stream (on X the brand's reply mentions the
    # customer, not the brand, and search excludes the brand's own posts).
    target = next(r for r in drafted if r.platform == "facebook")
    core.approve(target.id, "paula")
    report = core.send()
    assert report.sent == 1
    posted = [r for r in sandbox_server.state.brand_replies if r.text == target.draft_text]
    assert len(posted) == 1

    # The brand's own reply comes back on the next poll, recognised as ours and never drafted for.
    core.poll()
    core.classify_pending()
    core.draft_pending()
    with session_scope(core.engine) as session:
        own = session.exec(select(m.Mention).where(m.Mention.is_own.is_(True))).all()  # type: ignore[attr-defined]
        assert any(mm.text == target.draft_text for mm in own)
        assert all(mm.stage == m.MentionStage.NO_REPLY for mm in own)
        duplicates = session.exec(
            select(m.Mention.platform, m.Mention.external_id, sa.func.count())
            .group_by(m.Mention.platform, m.Mention.external_id)
            .having(sa.func.count() > 1)
        ).all()
        assert duplicates == []
    assert core.send().sent == 0  # nothing is posted twice


def test_classification_records_model_and_scores(sandbox_core: SocialCare) -> None:
    sandbox_core.cycle(send=False)
    with session_scope(sandbox_core.engine) as session:
        rows = session.exec(select(m.Classification)).all()
    assert rows
    assert {r.model_name for r in rows} == {sandbox_core.classifier.name}
    intents = Counter(r.intent for r in rows)
    assert intents["complaint"] > 0 and intents["praise"] > 0
    assert all(0.0 <= r.complaint_score <= 1.0 for r in rows)
    assert all(r.complaint == (r.complaint_score >= 0.5) for r in rows)


def _own_posts(core: SocialCare) -> int:
    with session_scope(core.engine) as session:
        return session.exec(select(sa.func.count()).select_from(m.Mention).where(m.Mention.is_own.is_(True))).one()  # type: ignore[attr-defined]


def test_status_shows_the_x_read_budget_spent_today(sandbox_core: SocialCare) -> None:
    from social_care.daemon import status_snapshot

    sandbox_core.poll()
    snapshot = status_snapshot(sandbox_core.engine, sandbox_core.config)
    x = next(a for a in snapshot["accounts"] if a["platform"] == "x")
    assert x["daily_read_budget"] == 10000
    assert 2 <= x["reads_today"] <= 10  # one poll: a page of mentions and one of search, at least
    assert all("reads_today" not in a for a in snapshot["accounts"] if a["platform"] != "x")
