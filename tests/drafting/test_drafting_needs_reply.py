"""needs_reply: which mentions get a drafted reply, and the reason shown to the team."""

from __future__ import annotations

from collections.abc import Callable

from social_care.config import ReplyPolicy
from social_care.drafting import DraftRequest, needs_reply

RequestFactory = Callable[..., DraftRequest]


def test_complaint_question_praise_need_a_reply(make_request: RequestFactory) -> None:
    policy = ReplyPolicy()
    for intent in ("complaint", "question", "praise"):
        answer, reason = needs_reply(make_request(intent=intent), policy)
        assert answer is True, intent
        assert reason


def test_own_post_never_needs_a_reply(make_request: RequestFactory) -> None:
    answer, reason = needs_reply(make_request(is_own=True), ReplyPolicy())
    assert answer is False
    assert "own" in reason


def test_noise_does_not_need_a_reply(make_request: RequestFactory) -> None:
    answer, reason = needs_reply(make_request(intent="other", categories=()), ReplyPolicy())
    assert answer is False
    assert "spam" in reason


def test_intent_not_configured_is_skipped(make_request: RequestFactory) -> None:
    policy = ReplyPolicy(reply_to_intents=["complaint"])
    answer, reason = needs_reply(make_request(intent="praise"), policy)
    assert answer is False
    assert "reply_to_intents" in reason
    assert needs_reply(make_request(intent="complaint"), policy)[0] is True


def test_flagged_complaint_is_answered_even_with_other_intent(make_request: RequestFactory) -> None:
    answer, _ = needs_reply(make_request(intent="other", complaint=True), ReplyPolicy())
    assert answer is True
