"""The reply queue: claim, edit, approve, reject and send drafts, each transition recorded as an event.

Sending is exactly-once: the intent to send (state ``sending`` with a lease) is committed before the
platform is called, and the platform's reply id after. A draft found in ``sending`` with an expired
lease (the sender died mid-call) is reconciled by looking for the brand's reply on the platform
before anything is posted again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from connectors import Connector, ConnectorError, PermanentError
from social_care import models as m
from social_care.config import Config
from social_care.db import session_scope
from social_care.drafting import lint_draft
from social_care.pipeline import draft_request_for, templates_dir
from social_care.suggestions import edit_diff
from social_care.users import require_role

log = logging.getLogger(__name__)

SEND_LEASE = timedelta(minutes=5)
PERMANENT = "PermanentError"


class QueueError(Exception):
    """A queue action is not allowed (wrong state, claimed by someone else, unknown draft)."""


class LintBlocked(QueueError):
    """The draft fails the policy lint; approving it needs an explicit, recorded override."""

    def __init__(self, findings: list[dict[str, str]]) -> None:
        rules = ", ".join(sorted({f["rule"] for f in findings if f["level"] == "error"}))
        super().__init__(f"the draft fails the policy lint ({rules}); fix it or approve with --override")
        self.findings = findings


@dataclass
class SendReport:
    sent: int = 0
    reconciled: int = 0
    failed: int = 0


def _event(session: Session, draft: m.ReplyDraft, actor: str, action: str, *, from_state: str | None,
           before: str | None = None, after: str | None = None, note: str | None = None) -> None:
    session.add(
        m.ReplyEvent(draft_id=draft.id, actor=actor, action=action, from_state=from_state,  # type: ignore[arg-type]
                     to_state=draft.state.value if isinstance(draft.state, m.ReplyState) else str(draft.state),
                     before_text=before, after_text=after, note=note)
    )


def _get_draft(session: Session, draft_id: int, *, lock: bool = True) -> m.ReplyDraft:
    query = select(m.ReplyDraft).where(m.ReplyDraft.id == draft_id)
    if lock:
        query = query.with_for_update()
    draft = session.exec(query).first()
    if draft is None:
        raise QueueError(f"no draft with id {draft_id}")
    return draft


def _check_claim(draft: m.ReplyDraft, user: str, now: datetime) -> None:
    if draft.claimed_by and draft.claimed_by != user and draft.claimed_until and draft.claimed_until > now:
        raise QueueError(f"draft {draft.id} is being reviewed by {draft.claimed_by} until {draft.claimed_until:%H:%M} UTC")


def claim(engine: Engine, draft_id: int, user: str, *, minutes: int = 10) -> m.ReplyDraft:
    """Mark a draft as under review by ``user`` for ``minutes``; others see it and cannot act on it."""
    now = m.utcnow()
    with session_scope(engine) as session:
        require_role(session, user, m.Role.AGENT)
        draft = _get_draft(session, draft_id)
        _check_claim(draft, user, now)
        if draft.state != m.ReplyState.DRAFTED:
            raise QueueError(f"draft {draft_id} is {draft.state.value}, not drafted")
        draft.claimed_by, draft.claimed_until = user, now + timedelta(minutes=minutes)
        session.add(draft)
        _event(session, draft, user, "claimed", from_state=draft.state.value, note=f"until {draft.claimed_until.isoformat()}")
        return draft


def _relint(session: Session, config: Config, draft: m.ReplyDraft, text: str) -> list[dict[str, str]]:
    mention = session.get(m.Mention, draft.mention_id)
    classification = session.exec(select(m.Classification).where(m.Classification.mention_id == draft.mention_id)).one()
    assert mention is not None
    policy = config.settings.reply_policy.model_copy(update={"templates_dir": templates_dir(config)})
    request = draft_request_for(session, mention, classification)
    findings = lint_draft(text, request, brand=config.brand, policy=policy)
    return [{"rule": f.rule, "level": f.level, "message": f.message} for f in findings]


def edit(engine: Engine, config: Config, draft_id: int, user: str, text: str) -> m.ReplyDraft:
    """An agent proposes a new text; the draft stays waiting for approval."""
    text = _clean_text(text)
    now = m.utcnow()
    with session_scope(engine) as session:
        require_role(session, user, m.Role.AGENT)
        draft = _get_draft(session, draft_id)
        _check_claim(draft, user, now)
        if draft.state != m.ReplyState.DRAFTED:
            raise QueueError(f"draft {draft_id} is {draft.state.value}; only drafted replies can be edited")
        before = draft.text
        draft.text, draft.lint, draft.updated_at = text, _relint(session, config, draft, text), now
        session.add(draft)
        _event(session, draft, user, "edited", from_state=draft.state.value, before=before, after=text)
        return draft


def approve(engine: Engine, config: Config, draft_id: int, user: str, *, text: str | None = None,
            override: bool = False, note: str | None = None) -> m.ReplyDraft:
    """An approver approves a draft, optionally with a new text (edited-and-approved).

    A draft whose (new) text fails the policy lint is refused unless ``override`` is given; the
    override is recorded in the event.
    """
    now = m.utcnow()
    with session_scope(engine) as session:
        require_role(session, user, m.Role.APPROVER)
        draft = _get_draft(session, draft_id)
        _check_claim(draft, user, now)
        if draft.state != m.ReplyState.DRAFTED:
            raise QueueError(f"draft {draft_id} is {draft.state.value}; only drafted replies can be approved")
        before = draft.text
        final = _clean_text(text) if text is not None else draft.text
        findings = _relint(session, config, draft, final) if final != draft.text else list(draft.lint)
        if blocking_dicts(findings) and not override:
            raise LintBlocked(findings)
        edited = final != draft.original_text
        draft.text, draft.lint = final, findings
        draft.state = m.ReplyState.APPROVED
        draft.approved_by, draft.approved_at, draft.updated_at = user, now, now
        draft.lint_override = bool(override and blocking_dicts(findings))
        draft.claimed_by = draft.claimed_until = None
        session.add(draft)
        diff = edit_diff(draft.original_text, final) if edited else None
        notes = [n for n in (note, "lint override" if draft.lint_override else None,
                             f"edit: {diff}" if diff else None) if n]
        _event(session, draft, user, "edited_and_approved" if edited else "approved",
               from_state=m.ReplyState.DRAFTED.value, before=before, after=final, note="; ".join(notes) or None)
        return draft


def blocking_dicts(findings: Sequence[dict[str, str]]) -> bool:
    return any(f.get("level") == "error" for f in findings)


def reject(engine: Engine, draft_id: int, user: str, reason: str) -> m.ReplyDraft:
    reason = reason.strip()
    if not reason:
        raise QueueError("a rejection needs a reason")
    now = m.utcnow()
    with session_scope(engine) as session:
        require_role(session, user, m.Role.APPROVER)
        draft = _get_draft(session, draft_id)
        _check_claim(draft, user, now)
        if draft.state != m.ReplyState.DRAFTED:
            raise QueueError(f"draft {draft_id} is {draft.state.value}; only drafted replies can be rejected")
        draft.state, draft.rejected_reason, draft.updated_at = m.ReplyState.REJECTED, reason, now
        draft.claimed_by = draft.claimed_until = None
        session.add(draft)
        _event(session, draft, user, "rejected", from_state=m.ReplyState.DRAFTED.value, before=draft.text, note=reason)
        return draft


def _clean_text(text: str) -> str:
    text = text.replace("\x00", "").strip()
    if not text:
        raise QueueError("the reply text is empty")
    return text


ConnectorFor = Callable[[int | None], Connector]


def _has_approval(session: Session, draft: m.ReplyDraft) -> bool:
    """Nothing is posted without an approval event by an approver (checked again at send time)."""
    events = session.exec(
        select(m.ReplyEvent).where(m.ReplyEvent.draft_id == draft.id,
                                   m.ReplyEvent.action.in_(["approved", "edited_and_approved"]))  # type: ignore[attr-defined]
    ).all()
    for event in events:
        user = session.exec(select(m.User).where(m.User.name == event.actor)).first()
        if user and user.active and m.ROLE_RANK[m.Role(user.role)] >= m.ROLE_RANK[m.Role.APPROVER]:
            return True
    return False


@dataclass(frozen=True)
class _Claimed:
    draft_id: int
    account_id: int | None
    reply_ref: dict
    text: str
    retry: bool  # an earlier attempt may have reached the platform


_REFUSED = "refused"


def _begin_send(engine: Engine, *, states: Sequence[m.ReplyState], now: datetime,
                failed_before: datetime | None = None) -> _Claimed | str | None:
    """Claim one draft for sending: committed state ``sending`` with a lease, before any platform call."""
    with session_scope(engine) as session:
        query = (
            select(m.ReplyDraft)
            .where(m.ReplyDraft.state.in_([s.value for s in states]),  # type: ignore[attr-defined]
                   # A permanent refusal (a reply the platform does not allow) is not retried.
                   sa.or_(m.ReplyDraft.state != m.ReplyState.FAILED,
                          sa.and_(sa.not_(sa.func.coalesce(m.ReplyDraft.last_error, "").like(f"{PERMANENT}%")),
                                  m.ReplyDraft.updated_at < (failed_before or now + timedelta(days=1)))))
            .order_by(m.ReplyDraft.priority.desc(), m.ReplyDraft.id)  # type: ignore[attr-defined]
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        draft = session.exec(query).first()
        if draft is None:
            return None
        if not _has_approval(session, draft):
            draft.state, draft.last_error = m.ReplyState.FAILED, "no approval event by an approver"
            session.add(draft)
            _event(session, draft, "system", "send_refused", from_state=m.ReplyState.APPROVED.value, note=draft.last_error)
            return _REFUSED
        mention = session.get(m.Mention, draft.mention_id)
        assert mention is not None
        from_state = draft.state.value
        retry = draft.attempts > 0
        draft.state = m.ReplyState.SENDING
        draft.attempts += 1
        draft.claimed_by, draft.claimed_until = "sender", now + SEND_LEASE
        draft.updated_at = now
        session.add(draft)
        _event(session, draft, "system", "send_started", from_state=from_state, after=draft.text)
        return _Claimed(draft.id, mention.account_id, dict(mention.reply_ref), draft.text, retry)  # type: ignore[arg-type]


def _finish_sent(engine: Engine, draft_id: int, posted, *, reconciled: bool) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        draft = _get_draft(session, draft_id)
        mention = session.get(m.Mention, draft.mention_id)
        assert mention is not None
        session.add(m.PostedReply(draft_id=draft_id, mention_id=draft.mention_id, platform=mention.platform,
                                  external_id=posted.external_id, permalink=posted.permalink, text=draft.text,
                                  reconciled=reconciled))
        draft.state, draft.last_error, draft.updated_at = m.ReplyState.SENT, None, m.utcnow()
        draft.claimed_by = draft.claimed_until = None
        session.add(draft)
        _event(session, draft, "system", "reconciled_sent" if reconciled else "sent",
               from_state=m.ReplyState.SENDING.value, note=f"platform id {posted.external_id}")


def _finish_failed(engine: Engine, draft_id: int, error: str, *, retryable: bool) -> None:
    with session_scope(engine) as session:
        draft = _get_draft(session, draft_id)
        draft.state, draft.last_error, draft.updated_at = m.ReplyState.FAILED, error[:2000], m.utcnow()
        draft.claimed_by = draft.claimed_until = None
        session.add(draft)
        _event(session, draft, "system", "send_failed", from_state=m.ReplyState.SENDING.value,
               note=("retryable: " if retryable else "permanent: ") + error[:500])


def _post_once(engine: Engine, connector_for: ConnectorFor, claimed: _Claimed, *, reconcile_first: bool,
               report: SendReport) -> None:
    draft_id, account_id, reply_ref, text = claimed.draft_id, claimed.account_id, claimed.reply_ref, claimed.text
    try:
        connector = connector_for(account_id)
        if reconcile_first:
            found = connector.find_reply(reply_ref, text)
            if found is not None and _already_recorded(engine, found.external_id):
                # Another draft's reply with the same text in the same thread (templates repeat):
                # not ours, so this one was never posted.
                found = None
            if found is not None:
                _finish_sent(engine, draft_id, found, reconciled=True)
                report.reconciled += 1
                return
        posted = connector.post_reply(reply_ref, text)
    except ConnectorError as exc:
        permanent = isinstance(exc, PermanentError)
        _finish_failed(engine, draft_id, f"{PERMANENT if permanent else type(exc).__name__}: {exc}",
                       retryable=not permanent)
        report.failed += 1
        return
    _finish_sent(engine, draft_id, posted, reconciled=False)
    report.sent += 1


def _already_recorded(engine: Engine, external_id: str) -> bool:
    with session_scope(engine) as session:
        return session.exec(select(m.PostedReply.id).where(m.PostedReply.external_id == external_id)).first() is not None


def send_approved(engine: Engine, connector_for: ConnectorFor, *, limit: int = 50, retry_failed: bool = False,
                  retry_after: timedelta | None = None, now: datetime | None = None) -> SendReport:
    """Post approved replies (and, first, reconcile any left in ``sending`` by a dead sender).

    ``retry_failed`` also retries replies whose sending failed for a passing reason; with
    ``retry_after``, only those that failed at least that long ago (the daemon's back-off).
    """
    report = SendReport()
    reconcile_orphans(engine, connector_for, report=report, now=now)
    states = [m.ReplyState.APPROVED] + ([m.ReplyState.FAILED] if retry_failed else [])
    for _ in range(limit):
        current = now or m.utcnow()
        claimed = _begin_send(engine, states=states, now=current,
                              failed_before=current - retry_after if retry_after else None)
        if claimed is None:
            break
        if claimed == _REFUSED:
            report.failed += 1
            continue
        assert isinstance(claimed, _Claimed)
        # A failed attempt may have reached the platform (timeout after the post): look before posting again.
        _post_once(engine, connector_for, claimed, reconcile_first=claimed.retry, report=report)
    return report


def reconcile_orphans(engine: Engine, connector_for: ConnectorFor, *, report: SendReport | None = None,
                      now: datetime | None = None) -> SendReport:
    """Drafts stuck in ``sending`` past their lease: the sender died. Look before posting again."""
    report = report or SendReport()
    now = now or m.utcnow()
    while True:
        with session_scope(engine) as session:
            draft = session.exec(
                select(m.ReplyDraft)
                .where(m.ReplyDraft.state == m.ReplyState.SENDING,
                       sa.or_(m.ReplyDraft.claimed_until.is_(None), m.ReplyDraft.claimed_until < now))  # type: ignore[union-attr,operator]
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if draft is None:
                return report
            mention = session.get(m.Mention, draft.mention_id)
            assert mention is not None
            draft.claimed_by, draft.claimed_until = "sender", now + SEND_LEASE
            draft.attempts += 1
            session.add(draft)
            _event(session, draft, "system", "reconcile_started", from_state=m.ReplyState.SENDING.value)
            claimed = _Claimed(draft.id, mention.account_id, dict(mention.reply_ref), draft.text, True)  # type: ignore[arg-type]
        _post_once(engine, connector_for, claimed, reconcile_first=True, report=report)


def history(engine: Engine, draft_id: int) -> list[m.ReplyEvent]:
    with session_scope(engine) as session:
        _get_draft(session, draft_id, lock=False)
        return list(session.exec(select(m.ReplyEvent).where(m.ReplyEvent.draft_id == draft_id)
                                 .order_by(m.ReplyEvent.id)).all())  # type: ignore[arg-type]
