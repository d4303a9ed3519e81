"""The reply queue: roles, claims, lint gate, history, and exactly-once sending across crashes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from connectors import TransientError
from social_care import models as m
from social_care import replies
from social_care.config import DEFAULT_CONFIG_PATH, parse_config
from social_care.db import session_scope
from social_care.ingest import store_records
from social_care.users import PermissionDenied, add_user

CONFIG = parse_config(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"), environ={})
GOOD_TEXT = "@ana Obrigado pelo carinho, Ana! Ficamos muito felizes. Equipe Loja Aurora"


@pytest.fixture
def team(engine):
    for name, role in [("vera", "viewer"), ("alex", "agent"), ("paula", "approver"), ("rui", "approver")]:
        add_user(engine, name, role)
    return engine


def _draft(engine, record, n: int = 1, *, text: str = GOOD_TEXT, lint: list | None = None) -> int:
    with session_scope(engine) as session:
        account = session.exec(select(m.Account).where(m.Account.name == "aurora-x")).first()
        if account is None:
            account = m.Account(name="aurora-x", platform="x")
            session.add(account)
            session.flush()
        store_records(session, [record(n, author="ana")], account_id=account.id)
        mention = session.exec(select(m.Mention).where(m.Mention.external_id == str(1000 + n))).one()
        session.add(m.Classification(mention_id=mention.id, model_name="test", model_version="1", language="pt",
                                     sentiment="positive", intent="praise", complaint=False, complaint_score=0.02,
                                     categories=[], severity=0, remedy_due=False))
        draft = m.ReplyDraft(mention_id=mention.id, text=text, original_text=text, language="pt", lint=lint or [])
        session.add(draft)
        session.flush()
        return draft.id


def _state(engine, draft_id: int) -> m.ReplyState:
    with session_scope(engine) as session:
        return session.get(m.ReplyDraft, draft_id).state


def test_only_approvers_approve_and_reject(team, record) -> None:
    draft_id = _draft(team, record)
    for user in ("vera", "alex", "nobody"):
        with pytest.raises(PermissionDenied):
            replies.approve(team, CONFIG, draft_id, user)
        with pytest.raises(PermissionDenied):
            replies.reject(team, draft_id, user, "no")
    replies.approve(team, CONFIG, draft_id, "paula")
    assert _state(team, draft_id) == m.ReplyState.APPROVED
    with pytest.raises(replies.QueueError, match="approved"):
        replies.approve(team, CONFIG, draft_id, "rui")  # never approved twice


def test_reject_needs_a_reason_and_is_final(team, record) -> None:
    draft_id = _draft(team, record)
    with pytest.raises(replies.QueueError, match="reason"):
        replies.reject(team, draft_id, "paula", "  ")
    replies.reject(team, draft_id, "paula", "off-topic")
    assert _state(team, draft_id) == m.ReplyState.REJECTED
    with pytest.raises(replies.QueueError):
        replies.approve(team, CONFIG, draft_id, "paula")


def test_claim_is_visible_blocks_others_and_expires(team, record) -> None:
    draft_id = _draft(team, record)
    replies.claim(team, draft_id, "alex", minutes=10)
    with pytest.raises(replies.QueueError, match="being reviewed by alex"):
        replies.approve(team, CONFIG, draft_id, "paula")
    with session_scope(team) as session:
        draft = session.get(m.ReplyDraft, draft_id)
        draft.claimed_until = m.utcnow() - timedelta(seconds=1)
        session.add(draft)
    replies.approve(team, CONFIG, draft_id, "paula")


def test_edit_and_approve_keeps_before_and_after_in_history(team, record) -> None:
    draft_id = _draft(team, record)
    replies.edit(team, CONFIG, draft_id, "alex", GOOD_TEXT + " 💛")
    replies.approve(team, CONFIG, draft_id, "paula", text=GOOD_TEXT + " Volte sempre!")
    events = replies.history(team, draft_id)
    assert [e.action for e in events] == ["edited", "edited_and_approved"]
    assert events[0].before_text == GOOD_TEXT and events[0].actor == "alex"
    assert events[1].after_text == GOOD_TEXT + " Volte sempre!" and events[1].actor == "paula"


def test_lint_errors_block_approval_unless_overridden_and_recorded(team, record) -> None:
    bad = [{"rule": "personal_data_request", "level": "error", "message": "asks for the order number in public"}]
    draft_id = _draft(team, record, lint=bad)
    with pytest.raises(replies.LintBlocked, match="personal_data_request"):
        replies.approve(team, CONFIG, draft_id, "paula")
    replies.approve(team, CONFIG, draft_id, "paula", override=True)
    events = replies.history(team, draft_id)
    assert events[-1].note == "lint override"
    with session_scope(team) as session:
        assert session.get(m.ReplyDraft, draft_id).lint_override


def test_edited_text_is_linted_again(team, record) -> None:
    draft_id = _draft(team, record)
    with pytest.raises(replies.LintBlocked):
        replies.approve(team, CONFIG, draft_id, "paula", text="@ana qual o número do seu pedido e seu CPF?")


def test_send_posts_each_approved_reply_once_and_records_the_platform_id(team, record, scripted) -> None:
    ids = [_draft(team, record, n) for n in (1, 2)]
    for draft_id in ids:
        replies.approve(team, CONFIG, draft_id, "paula")
    connector = scripted()
    report = replies.send_approved(team, lambda _account: connector)
    again = replies.send_approved(team, lambda _account: connector)
    assert (report.sent, again.sent) == (2, 0)
    assert len(connector.posted) == 2
    with session_scope(team) as session:
        posted = session.exec(select(m.PostedReply)).all()
        assert sorted(p.external_id for p in posted) == ["r1", "r2"]


def test_unapproved_drafts_are_never_posted(team, record, scripted) -> None:
    _draft(team, record)
    connector = scripted()
    assert replies.send_approved(team, lambda _a: connector).sent == 0
    assert connector.posted == []


def test_crash_after_platform_accepted_is_reconciled_not_posted_twice(team, record, scripted) -> None:
    draft_id = _draft(team, record)
    replies.approve(team, CONFIG, draft_id, "paula")
    connector = scripted()
    connector.crash_after_post = True
    with pytest.raises(KeyboardInterrupt):
        replies.send_approved(team, lambda _a: connector)
    assert _state(team, draft_id) == m.ReplyState.SENDING
    connector.crash_after_post = False
    # A restarted sender waits for the lease, then looks on the platform before posting again.
    assert replies.send_approved(team, lambda _a: connector).reconciled == 0
    later = m.utcnow() + replies.SEND_LEASE + timedelta(seconds=1)
    report = replies.send_approved(team, lambda _a: connector, now=later)
    assert report.reconciled == 1 and len(connector.posted) == 1
    assert _state(team, draft_id) == m.ReplyState.SENT


def test_crash_before_platform_call_posts_once_after_restart(team, record, scripted) -> None:
    draft_id = _draft(team, record)
    replies.approve(team, CONFIG, draft_id, "paula")
    connector = scripted()
    connector.fail_post = KeyboardInterrupt("killed before the request left")
    with pytest.raises(KeyboardInterrupt):
        replies.send_approved(team, lambda _a: connector)
    connector.fail_post = None
    later = m.utcnow() + replies.SEND_LEASE + timedelta(seconds=1)
    report = replies.send_approved(team, lambda _a: connector, now=later)
    assert report.sent == 1 and len(connector.posted) == 1


def test_failed_send_is_retryable_and_checks_the_platform_first(team, record, scripted) -> None:
    draft_id = _draft(team, record)
    replies.approve(team, CONFIG, draft_id, "paula")
    connector = scripted()
    connector.fail_post = TransientError("503")
    assert replies.send_approved(team, lambda _a: connector).failed == 1
    assert _state(team, draft_id) == m.ReplyState.FAILED
    connector.fail_post = None
    assert replies.send_approved(team, lambda _a: connector).sent == 0  # failed waits for an explicit retry
    assert replies.send_approved(team, lambda _a: connector, retry_failed=True).sent == 1
    assert _state(team, draft_id) == m.ReplyState.SENT


def test_permanent_refusals_are_not_retried(team, record, scripted) -> None:
    from connectors import PermanentError

    draft_id = _draft(team, record)
    replies.approve(team, CONFIG, draft_id, "paula")
    connector = scripted()
    connector.fail_post = PermanentError("commenting on media you are tagged in is not supported")
    assert replies.send_approved(team, lambda _a: connector).failed == 1
    assert replies.send_approved(team, lambda _a: connector, retry_failed=True).failed == 0
    with session_scope(team) as session:
        draft = session.get(m.ReplyDraft, draft_id)
        assert draft.state == m.ReplyState.FAILED and draft.last_error.startswith("PermanentError")


def test_retry_after_waits_before_retrying_a_failed_reply(team, record, scripted) -> None:
    draft_id = _draft(team, record)
    replies.approve(team, CONFIG, draft_id, "paula")
    connector = scripted()
    connector.fail_post = TransientError("429 posting limit")
    replies.send_approved(team, lambda _a: connector)
    connector.fail_post = None
    wait = timedelta(minutes=5)
    assert replies.send_approved(team, lambda _a: connector, retry_failed=True, retry_after=wait).sent == 0
    later = m.utcnow() + wait + timedelta(seconds=1)
    assert replies.send_approved(team, lambda _a: connector, retry_failed=True, retry_after=wait, now=later).sent == 1
