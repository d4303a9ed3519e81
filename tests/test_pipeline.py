"""Drafting's batch helpers and the batched classify and draft stages."""

from __future__ import annotations

from sqlmodel import select

from social_care import models as m
from social_care.classifier import Classification
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


class _SplitClassifier:
    """Texts with "spam" are noise (no reply); every other text is a delivery complaint."""

    name, version = "split", "1"

    def classify(self, texts: list[str], batch_size: int = 32) -> list[Classification]:
        return [Classification(
            language="pt", sentiment="negative", sentiment_scores={"negative": 1.0},
            intent="other" if "spam" in t else "complaint", intent_scores={},
            complaint="spam" not in t, complaint_score=0.1 if "spam" in t else 0.9,
            categories=[] if "spam" in t else ["delivery"], category_scores={}, severity=0 if "spam" in t else 2,
            severity_scores=[0.0, 0.0, 1.0, 0.0, 0.0], remedy_due=False, remedy_score=0.1,
        ) for t in texts]


def test_batched_stages_write_one_classification_draft_and_event_per_mention(engine, record) -> None:
    from social_care.config import parse_config
    from social_care.pipeline import classify_pending, draft_pending

    texts = ["meu pedido não chegou", "spam compre já", "entrega atrasada", "spam", "cadê minha encomenda"] * 30
    with session_scope(engine) as session:
        store_records(session, [record(n, text=t, author=f"p{n % 7}") for n, t in enumerate(texts)], account_id=None)
    config = parse_config('{"brand": {"name": "Loja Aurora", "languages": ["pt"]}, "database": {"url": "sqlite://"}}',
                          environ={})
    assert classify_pending(engine, _SplitClassifier(), limit=1000, batch_size=32).processed == len(texts)
    assert draft_pending(engine, config, limit=1000).processed == len(texts)
    assert draft_pending(engine, config, limit=1000).processed == 0  # nothing is drafted twice
    with session_scope(engine) as session:
        mentions = session.exec(select(m.Mention)).all()
        classes = {c.mention_id: c for c in session.exec(select(m.Classification)).all()}
        drafts = {d.mention_id: d for d in session.exec(select(m.ReplyDraft)).all()}
        events = session.exec(select(m.ReplyEvent)).all()
        for mention in mentions:
            assert classes[mention.id].created_at is not None and classes[mention.id].model_name == "split"
            if "spam" in mention.text:
                assert mention.stage == m.MentionStage.NO_REPLY and mention.id not in drafts
            else:
                draft = drafts[mention.id]
                assert mention.stage == m.MentionStage.DRAFTED and draft.state == m.ReplyState.DRAFTED
                assert draft.text == draft.original_text and draft.created_at is not None
                assert draft.priority >= 2000 and isinstance(draft.lint, list)
        # each draft has exactly one "drafted" event, carrying that draft's own text
        by_draft = {e.draft_id: e for e in events}
        assert len(events) == len(drafts) == 90 and set(by_draft) == {d.id for d in drafts.values()}
        for draft in drafts.values():
            assert by_draft[draft.id].after_text == draft.text and by_draft[draft.id].action == "drafted"
        counts = dict(session.exec(select(m.InboxCount.name, m.InboxCount.n)).all())
        assert counts["drafted"] == 90 and counts["mentions"] == len(texts)
