"""Read-only lookups the inbox needs that the core does not offer yet (one draft, claims, a user).

Every write goes through the core (:mod:`social_care.app`, :mod:`social_care.replies`,
:mod:`social_care.users`); this module only reads.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import select

from social_care import models as m
from social_care.app import QueueRow, SocialCare
from social_care.db import session_scope


@dataclass(frozen=True)
class WebUser:
    """The logged-in person, read from the database on every request (role changes apply now)."""

    name: str
    role: m.Role
    stamp: str  # changes when the password does, which ends the sessions opened with the old one

    def can(self, role: m.Role | str) -> bool:
        return m.ROLE_RANK[self.role] >= m.ROLE_RANK[m.Role(role)]


def password_stamp(password_hash: str | None) -> str:
    return hashlib.sha256((password_hash or "").encode()).hexdigest()[:16]


def load_user(engine: Engine, name: str) -> WebUser | None:
    """The active user called ``name``, or None."""
    with session_scope(engine) as session:
        user = session.exec(select(m.User).where(m.User.name == name)).first()
        if user is None or not user.active or not user.password_hash:
            return None
        return WebUser(user.name, m.Role(user.role), password_stamp(user.password_hash))


def draft_row(core: SocialCare, draft_id: int) -> QueueRow | None:
    """One draft as the queue shows it, whatever its state (the queue has no id filter).

    Same joins and fields as :meth:`SocialCare.queue`; wanted in the core as
    ``SocialCare.queue_row(draft_id)`` so this copy can go.
    """
    d, mt, c, au = m.ReplyDraft, m.Mention, m.Classification, m.Author
    query = (
        select(d, mt, c, au, m.Account.name)  # type: ignore[call-overload]
        .join(mt, mt.id == d.mention_id)
        .join(c, c.mention_id == mt.id)
        .outerjoin(au, au.id == mt.author_id)
        .outerjoin(m.Account, m.Account.id == mt.account_id)
        .where(d.id == draft_id)
    )
    with session_scope(core.engine) as session:
        found = session.exec(query).first()
        if found is None:
            return None
        draft, mention, cls, author, account_name = found
        return QueueRow(
            id=draft.id,
            mention_id=mention.id,
            platform=mention.platform,
            account=account_name,
            mention_text=mention.text,
            author=author.handle if author else None,
            author_name=author.name if author else None,
            followers=author.followers if author else None,
            language=cls.language,
            sentiment=cls.sentiment,
            intent=cls.intent,
            complaint=cls.complaint,
            complaint_score=round(cls.complaint_score, 4),
            categories=list(cls.categories),
            severity=cls.severity,
            remedy_due=cls.remedy_due,
            state=draft.state.value,
            draft_text=draft.text,
            lint=list(draft.lint),
            priority=round(draft.priority, 2),
            claimed_by=draft.claimed_by,
            created_at=mention.created_at,
            drafted_at=draft.created_at,
            permalink=mention.permalink,
        )


@dataclass(frozen=True)
class DraftExtras:
    """Fields of a draft the queue row leaves out."""

    claimed_until: datetime | None
    approved_by: str | None
    rejected_reason: str | None
    last_error: str | None
    lint_override: bool


def draft_extras(engine: Engine, draft_ids: list[int]) -> dict[int, DraftExtras]:
    """Claim expiry, approver, rejection reason and last send error of the drafts on a page."""
    if not draft_ids:
        return {}
    with session_scope(engine) as session:
        drafts = session.exec(select(m.ReplyDraft).where(m.ReplyDraft.id.in_(draft_ids))).all()  # type: ignore[union-attr]
        return {
            d.id: DraftExtras(
                d.claimed_until, d.approved_by, d.rejected_reason, d.last_error, d.lint_override
            )
            for d in drafts
            if d.id is not None
        }
