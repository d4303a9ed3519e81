"""Drafting's batch helpers: each mention's author history counts only earlier mentions."""

from __future__ import annotations

from sqlmodel import select

from social_care import models as m
from social_care.db import session_scope
from social_care.ingest import store_records
from social_care.pipeline import _histories


def test_author_history_counts_earlier_mentions_and_complaints_per_mention(engine, record) -> None:
    with session_scope(engine) as session:
        store_records(session, [record(n, author="ana") for n in range(1, 4)] + [record(9, author="bia")],
                      account_id=None)
        mentions = session.exec(select(m.Mention).order_by(m.Mention.id)).all()
        for mention, complaint in zip(mentions, (True, False, True, True), strict=True):
            session.add(m.Classification(mention_id=mention.id, model_name="t", model_version="1", language="pt",
                                         sentiment="negative", intent="complaint" if complaint else "praise",
                                         complaint=complaint, complaint_score=0.9 if complaint else 0.1,
                                         categories=[], severity=1, remedy_due=False))
        session.flush()
        history = _histories(session, mentions)
        ana = [history[mm.id] for mm in mentions[:3]]
        assert ana == [(0, 0), (1, 1), (2, 1)]
        assert history[mentions[3].id] == (0, 0)  # another author's past is not hers
