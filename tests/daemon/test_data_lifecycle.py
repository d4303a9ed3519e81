"""Retention drops old raw payloads only; `forget` erases one person's data and leaves an audit event."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from connectors import Author, MentionRecord
from social_care import models as m
from social_care.daemon import ErasureBlocked, forget_author, purge_raw_payloads
from social_care.daemon.erasure import ERASED, handle_digest
from social_care.db import session_scope
from social_care.ingest import store_records


def _mention(n: int, handle: str, text: str) -> MentionRecord:
    return MentionRecord(
        platform="x", external_id=str(5000 + n), stream="mentions", text=text,
        created_at=m.utcnow() - timedelta(hours=n), author=Author(external_id=f"id-{handle}", handle=handle,
                                                                  name=handle.title() + " Souza", followers=50),
        reply_ref={"tweet_id": str(5000 + n)}, permalink=f"https://x.com/{handle}/status/{5000 + n}",
        raw={"id": str(5000 + n), "author": handle},
    )


def _store(engine: sa.engine.Engine, records: list[MentionRecord]) -> None:
    with session_scope(engine) as session:
        store_records(session, records, account_id=None)


def test_retention_nulls_old_raw_payloads_and_keeps_texts(engine) -> None:
    _store(engine, [_mention(1, "ana", "old one"), _mention(2, "bia", "new one")])
    old = m.utcnow() - timedelta(days=120)
    with session_scope(engine) as session:
        session.execute(sa.update(m.Mention.__table__).where(m.Mention.__table__.c.external_id == "5001")
                        .values(received_at=old))
        session.add(m.QuarantinedItem(platform="x", stream="mentions", reason="bad", raw="{...}", received_at=old))
    report = purge_raw_payloads(engine, days=90)
    assert (report.mentions, report.quarantined) == (1, 1)
    with engine.connect() as connection:
        rows = dict(connection.execute(sa.text("SELECT external_id, raw IS NULL FROM mentions")).all())
        texts = {r[0] for r in connection.execute(sa.text("SELECT text FROM mentions"))}
    assert {k: bool(v) for k, v in rows.items()} == {"5001": True, "5002": False}  # SQL NULL, not JSON null
    assert texts == {"old one", "new one"}
    assert purge_raw_payloads(engine, days=90).mentions == 0  # idempotent
    with session_scope(engine) as session:
        audit = session.exec(select(m.AuditEvent).where(m.AuditEvent.action == "retention_purge")).all()
    assert len(audit) == 1 and audit[0].detail["mentions"] == 1


def _draft_for(engine: sa.engine.Engine, external_id: str, text: str, state: m.ReplyState) -> int:
    with session_scope(engine) as session:
        mention = session.exec(select(m.Mention).where(m.Mention.external_id == external_id)).one()
        mention.stage = m.MentionStage.DRAFTED
        session.add(mention)
        draft = m.ReplyDraft(mention_id=mention.id, state=state, text=text, original_text=text, language="pt")
        session.add(draft)
        session.flush()
        session.add(m.ReplyEvent(draft_id=draft.id, actor="system", action="drafted", to_state=state.value,
                                 after_text=text))
        if state == m.ReplyState.SENT:
            session.add(m.PostedReply(draft_id=draft.id, mention_id=mention.id, platform="x", external_id="r1",
                                      text=text))
        return draft.id  # type: ignore[return-value]


def test_forget_erases_the_person_withdraws_drafts_and_is_audited(engine) -> None:
    _store(engine, [_mention(1, "ana_souza", "meu CPF 123.456.789-09, pedido atrasado"),
                    _mention(2, "ana_souza", "ainda nada"),
                    _mention(3, "bia", "a @Ana_Souza também reclamou, eu também"),
                    _mention(4, "carla", "first")])
    sent = _draft_for(engine, "5001", "Olá @ana_souza, sentimos muito. Ana Souza, chame no DM.", m.ReplyState.SENT)
    pending = _draft_for(engine, "5002", "Olá @ana_souza, vamos verificar.", m.ReplyState.APPROVED)
    other = _draft_for(engine, "5003", "Olá @bia! Também falamos com @ana_souza.", m.ReplyState.DRAFTED)

    report = forget_author(engine, "@Ana_Souza", actor="dpo")

    assert (report.authors, report.mentions, report.drafts_erased, report.drafts_withdrawn) == (1, 2, 2, 1)
    assert report.posted_replies == 1 and report.quoted_elsewhere >= 2
    with session_scope(engine) as session:
        theirs = session.exec(select(m.Mention).where(m.Mention.external_id.in_(["5001", "5002"]))).all()
        assert {(x.text, x.raw, x.permalink) for x in theirs} == {(ERASED, None, None)}
        author = session.get(m.Author, theirs[0].author_id)
        assert author.handle is None and author.name is None and author.external_id.startswith("erased-")
        assert session.get(m.ReplyDraft, pending).state == m.ReplyState.REJECTED  # never posted now
        assert session.get(m.ReplyDraft, sent).state == m.ReplyState.SENT
        for draft_id in (sent, pending):
            draft = session.get(m.ReplyDraft, draft_id)
            assert draft.text == draft.original_text == ERASED
            events = session.exec(select(m.ReplyEvent).where(m.ReplyEvent.draft_id == draft_id)).all()
            assert all("ana" not in (e.after_text or "").lower() for e in events)
        assert session.exec(select(m.PostedReply)).one().text == ERASED
        quoting = session.exec(select(m.Mention).where(m.Mention.external_id == "5003")).one()
        assert "ana" not in quoting.text.lower() and "também reclamou" in quoting.text
        assert "ana" not in session.get(m.ReplyDraft, other).text.lower()
        untouched = session.exec(select(m.Mention).where(m.Mention.external_id == "5004")).one()
        assert untouched.text == "first" and untouched.raw is not None
        audit = session.exec(select(m.AuditEvent).where(m.AuditEvent.action == "forget_author")).one()
    assert audit.actor == "dpo" and audit.detail["handle_sha256"] == handle_digest("ana_souza")
    assert audit.detail["mentions"] == 2 and "ana" not in str(audit.detail).lower()


def test_forget_refuses_while_a_reply_to_them_is_being_posted(engine) -> None:
    _store(engine, [_mention(1, "ana", "oi")])
    _draft_for(engine, "5001", "Olá @ana", m.ReplyState.SENDING)
    with pytest.raises(ErasureBlocked):
        forget_author(engine, "ana")
    with session_scope(engine) as session:
        assert session.exec(select(m.Mention)).one().text == "oi"  # nothing half-done


def test_forget_unknown_person_is_recorded_and_erases_nothing(engine) -> None:
    _store(engine, [_mention(1, "ana", "oi")])
    assert forget_author(engine, "nobody", platform="x").authors == 0
    with session_scope(engine) as session:
        assert session.exec(select(m.AuditEvent)).one().detail["authors"] == 0
        assert session.exec(select(m.Mention)).one().text == "oi"
