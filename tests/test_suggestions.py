"""Learning from the team: past approved replies offered for similar mentions; edits kept as diffs."""

from __future__ import annotations

from sqlmodel import select

from social_care import models as m
from social_care import replies
from social_care.config import DEFAULT_CONFIG_PATH, parse_config
from social_care.db import session_scope
from social_care.ingest import store_records
from social_care.suggestions import alternatives, edit_diff, similarity
from social_care.users import add_user

CONFIG = parse_config(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"), environ={})
THANKS = "@ana Obrigado pelo carinho, Ana! Ficamos muito felizes. Equipe Loja Aurora"


def _draft(engine, record, n: int, text: str, *, intent: str = "praise", categories: list[str] | None = None) -> int:
    with session_scope(engine) as session:
        account = session.exec(select(m.Account)).first()
        if account is None:
            account = m.Account(name="aurora-x", platform="x")
            session.add(account)
            session.flush()
        store_records(session, [record(n, author="ana", text=text)], account_id=account.id)
        mention = session.exec(select(m.Mention).where(m.Mention.external_id == str(1000 + n))).one()
        session.add(m.Classification(mention_id=mention.id, model_name="t", model_version="1", language="pt",
                                     sentiment="positive", intent=intent, complaint=False, complaint_score=0.1,
                                     categories=categories or [], severity=0, remedy_due=False))
        draft = m.ReplyDraft(mention_id=mention.id, text=THANKS, original_text=THANKS, language="pt")
        session.add(draft)
        session.flush()
        return draft.id


def test_similar_approved_replies_are_offered_best_first_and_edits_flagged(engine, record) -> None:
    add_user(engine, "paula", "approver")
    close = _draft(engine, record, 1, "Amei o vestido azul, chegou lindo e rápido!")
    far = _draft(engine, record, 2, "Obrigada pelo atendimento de ontem")
    other_intent = _draft(engine, record, 3, "Amei o vestido azul, chegou lindo!", intent="question")
    replies.approve(engine, CONFIG, close, "paula", text=THANKS + " Aproveite o vestido!")
    replies.approve(engine, CONFIG, far, "paula")
    replies.approve(engine, CONFIG, other_intent, "paula", text="@ana Boa pergunta! Equipe Loja Aurora", override=True)
    new = _draft(engine, record, 4, "Amei o vestido azul, chegou muito rápido!")
    found = alternatives(engine, new)
    assert [a.draft_id for a in found] == [close]  # the far one repeats the draft itself; other intents never
    assert found[0].edited and found[0].similarity > 0.4


def test_edit_and_approve_keeps_the_diff_in_the_event(engine, record) -> None:
    add_user(engine, "paula", "approver")
    draft_id = _draft(engine, record, 1, "Amei!")
    replies.approve(engine, CONFIG, draft_id, "paula", text=THANKS.replace("muito felizes", "felizes demais"))
    event = replies.history(engine, draft_id)[-1]
    assert event.action == "edited_and_approved"
    assert "[-muito felizes.-]" in event.note and "{+felizes demais.+}" in event.note


def test_similarity_and_diff_helpers() -> None:
    assert similarity("pedido não chegou", "pedido não chegou") > similarity("pedido não chegou", "amei a blusa")
    assert similarity("", "") == 0.0 or similarity("", "") <= 1.0
    assert edit_diff("a b c", "a x c") == "a [-b-] {+x+} c"
