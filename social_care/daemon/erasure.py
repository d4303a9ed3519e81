"""`forget`: erase one person's data on request (their mentions, the drafts that quote them) and audit it."""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import select

from social_care import models as m
from social_care.db import session_scope

ERASED = "[erased on request]"
ERASED_HANDLE = "@[erased]"
ERASED_REASON = "the author's data was erased on request"
# Drafts not yet posted are withdrawn: a reply to an erased mention must never go out.
_WITHDRAWN = (m.ReplyState.DRAFTED, m.ReplyState.APPROVED, m.ReplyState.FAILED)


class ErasureBlocked(ValueError):
    """A reply to this person is being posted right now; erasing mid-send could post it twice."""


@dataclass
class ErasureReport:
    authors: int = 0
    mentions: int = 0
    drafts_withdrawn: int = 0
    drafts_erased: int = 0
    posted_replies: int = 0
    quoted_elsewhere: int = 0  # other people's mentions and drafts that quoted the @handle

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def handle_digest(handle: str) -> str:
    """What the audit log keeps instead of the handle: proof of which request it was, without the data."""
    return hashlib.sha256(handle.lower().encode()).hexdigest()


def forget_author(engine: Engine, handle: str, *, platform: str | None = None, actor: str = "cli") -> ErasureReport:
    """Erase everything stored about the author ``handle`` (on ``platform``, or every platform).

    Their mentions keep only what aggregates need (platform, times, classification): text, raw
    payload, permalink and reply reference are replaced. Their author rows lose handle, name,
    reach and platform id. Drafts answering them are erased (and withdrawn unless already posted),
    with their event texts; other mentions and drafts that quote ``@handle`` get it masked. One
    transaction, recorded in ``audit_events`` with a digest of the handle.
    """
    handle = handle.strip().lstrip("@")
    if not handle:
        raise ValueError("--author needs a handle, e.g. --author ana_souza")
    report = ErasureReport()
    quote = re.compile(rf"@{re.escape(handle)}\b", re.IGNORECASE)
    with session_scope(engine) as session:
        query = select(m.Author).where(sa.func.lower(m.Author.handle) == handle.lower())
        if platform:
            query = query.where(m.Author.platform == platform)
        authors = list(session.exec(query.with_for_update()).all())
        author_ids = [a.id for a in authors]
        names = {a.name for a in authors if a.name and len(a.name) >= 3}
        mentions = list(session.exec(
            select(m.Mention).where(m.Mention.author_id.in_(author_ids)).with_for_update()  # type: ignore[union-attr]
        ).all()) if author_ids else []
        mention_ids = [x.id for x in mentions]
        drafts = list(session.exec(
            select(m.ReplyDraft).where(m.ReplyDraft.mention_id.in_(mention_ids)).with_for_update()  # type: ignore[attr-defined]
        ).all()) if mention_ids else []
        if any(d.state == m.ReplyState.SENDING for d in drafts):
            raise ErasureBlocked(f"a reply to @{handle} is being posted right now; run `forget` again in a minute")

        def scrub(text: str | None) -> str | None:
            if text is None:
                return None
            text = quote.sub(ERASED_HANDLE, text)
            for name in names:
                text = re.sub(re.escape(name), "[erased]", text, flags=re.IGNORECASE)
            return text

        for mention in mentions:
            mention.text, mention.raw, mention.permalink, mention.reply_ref = ERASED, None, None, {}
            if mention.stage in (m.MentionStage.NEW, m.MentionStage.CLASSIFIED):
                mention.stage = m.MentionStage.NO_REPLY  # nothing left to answer
            session.add(mention)
        report.mentions = len(mentions)
        now = m.utcnow()
        for draft in drafts:
            from_state = draft.state.value
            draft.text = draft.original_text = ERASED
            draft.lint, draft.claimed_by, draft.claimed_until, draft.updated_at = [], None, None, now
            if draft.state in _WITHDRAWN:
                draft.state, draft.rejected_reason = m.ReplyState.REJECTED, ERASED_REASON
                report.drafts_withdrawn += 1
            report.drafts_erased += 1
            session.add(draft)
            for event in session.exec(select(m.ReplyEvent).where(m.ReplyEvent.draft_id == draft.id)).all():
                event.before_text = ERASED if event.before_text is not None else None
                event.after_text = ERASED if event.after_text is not None else None
                event.note = scrub(event.note)
                session.add(event)
            session.add(m.ReplyEvent(draft_id=draft.id, actor=actor, action="erased",  # type: ignore[arg-type]
                                     from_state=from_state, to_state=draft.state.value, note=ERASED_REASON))
        if mention_ids:
            for posted in session.exec(select(m.PostedReply).where(m.PostedReply.mention_id.in_(mention_ids))).all():  # type: ignore[attr-defined]
                posted.text = ERASED
                session.add(posted)
                report.posted_replies += 1
        # Other people's words that quote the handle: mask the handle, keep the rest.
        like = f"%@{handle.lower()}%"
        for mention in session.exec(select(m.Mention).where(sa.func.lower(m.Mention.text).like(like))).all():
            scrubbed = scrub(mention.text) or mention.text
            if scrubbed != mention.text:
                mention.text = scrubbed
                session.add(mention)
                report.quoted_elsewhere += 1
        for draft in session.exec(select(m.ReplyDraft).where(sa.func.lower(m.ReplyDraft.text).like(like))).all():
            scrubbed = scrub(draft.text) or draft.text
            if scrubbed != draft.text:
                draft.text, draft.original_text = scrubbed, scrub(draft.original_text) or draft.original_text
                session.add(draft)
                report.quoted_elsewhere += 1
        for author in authors:
            author.handle = author.name = author.followers = None
            author.external_id = f"erased-{author.id}"
            session.add(author)
        report.authors = len(authors)
        session.add(m.AuditEvent(actor=actor, action="forget_author",
                                 detail={"handle_sha256": handle_digest(handle), "platform": platform or "all",
                                         **report.as_dict()}))
    return report
