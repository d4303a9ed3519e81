"""Database tables (SQLModel). One class per entity; the migrations in social_care/migrations mirror them."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class EnumText(TypeDecorator[enum.Enum]):
    """A str enum stored as plain text (portable, migration-friendly), read back as the enum."""

    impl = sa.String(20)
    cache_ok = True

    def __init__(self, enum_type: type[enum.Enum]) -> None:
        super().__init__()
        self.enum_type = enum_type

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> str | None:
        return None if value is None else self.enum_type(value).value

    def process_result_value(self, value: str | None, dialect: sa.Dialect) -> enum.Enum | None:
        return None if value is None else self.enum_type(value)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC, on SQLite and PostgreSQL alike."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use timezone-aware UTC")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Role(str, enum.Enum):
    VIEWER = "viewer"
    AGENT = "agent"
    APPROVER = "approver"
    ADMIN = "admin"


ROLE_RANK = {Role.VIEWER: 0, Role.AGENT: 1, Role.APPROVER: 2, Role.ADMIN: 3}


class AccountStatus(str, enum.Enum):
    OK = "ok"
    RATE_LIMITED = "rate_limited"
    NEEDS_REAUTH = "needs_reauth"
    ERROR = "error"
    BUDGET_EXHAUSTED = "budget_exhausted"


class MentionStage(str, enum.Enum):
    """Where a mention is in the pipeline."""

    NEW = "new"  # stored, not yet classified
    CLASSIFIED = "classified"  # classified, not yet looked at by drafting
    DRAFTED = "drafted"  # a reply draft exists
    NO_REPLY = "no_reply"  # needs no answer (noise, the brand's own post, other intent)


class ReplyState(str, enum.Enum):
    DRAFTED = "drafted"
    APPROVED = "approved"
    REJECTED = "rejected"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=100)
    role: Role = Field(sa_type=EnumText(Role))
    password_hash: str | None = Field(default=None, max_length=255)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Account(SQLModel, table=True):
    __tablename__ = "accounts"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=100)
    platform: str = Field(max_length=20)
    external_id: str | None = Field(default=None, max_length=100)
    handle: str | None = Field(default=None, max_length=100)
    status: AccountStatus = Field(default=AccountStatus.OK, sa_type=EnumText(AccountStatus))
    status_detail: str | None = None
    last_poll_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_success_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    next_poll_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    consecutive_failures: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Cursor(SQLModel, table=True):
    """Where each stream of an account left off; moves only with the mentions it covered."""

    __tablename__ = "cursors"
    __table_args__ = (sa.UniqueConstraint("account_id", "stream", name="uq_cursor_account_stream"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="accounts.id", index=True)
    stream: str = Field(max_length=50)
    value: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Author(SQLModel, table=True):
    __tablename__ = "authors"
    __table_args__ = (sa.UniqueConstraint("platform", "external_id", name="uq_author_platform_external"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=20)
    external_id: str = Field(max_length=100)
    handle: str | None = Field(default=None, max_length=100, index=True)
    name: str | None = Field(default=None, max_length=200)
    followers: int | None = None
    first_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Conversation(SQLModel, table=True):
    """A thread: the root post, tweet or media that mentions hang under."""

    __tablename__ = "conversations"
    __table_args__ = (sa.UniqueConstraint("platform", "external_id", name="uq_conversation_platform_external"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=20)
    external_id: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Mention(SQLModel, table=True):
    __tablename__ = "mentions"
    __table_args__ = (
        sa.UniqueConstraint("platform", "external_id", name="uq_mention_platform_external"),
        sa.Index("ix_mentions_stage_id", "stage", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=20)
    external_id: str = Field(max_length=100)
    account_id: int | None = Field(default=None, foreign_key="accounts.id", index=True)
    stream: str = Field(max_length=50)
    author_id: int | None = Field(default=None, foreign_key="authors.id", index=True)
    conversation_id: int | None = Field(default=None, foreign_key="conversations.id", index=True)
    parent_external_id: str | None = Field(default=None, max_length=100)
    text: str
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    permalink: str | None = None
    lang_hint: str | None = Field(default=None, max_length=10)
    is_own: bool = False
    stage: MentionStage = Field(default=MentionStage.NEW, sa_type=EnumText(MentionStage))
    reply_ref: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    raw: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    source: str = Field(default="poll", max_length=20)  # poll or webhook


class QuarantinedItem(SQLModel, table=True):
    """A payload item that could not be parsed: kept with its raw body and the reason."""

    __tablename__ = "quarantined_items"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int | None = Field(default=None, foreign_key="accounts.id", index=True)
    platform: str = Field(max_length=20)
    stream: str = Field(max_length=50)
    external_id: str | None = Field(default=None, max_length=100)
    reason: str
    raw: str
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Classification(SQLModel, table=True):
    __tablename__ = "classifications"

    id: int | None = Field(default=None, primary_key=True)
    mention_id: int = Field(foreign_key="mentions.id", unique=True)
    model_name: str = Field(max_length=200)
    model_version: str = Field(max_length=100)
    language: str = Field(max_length=10)
    sentiment: str = Field(max_length=10)
    intent: str = Field(max_length=20)
    complaint: bool
    complaint_score: float
    categories: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    severity: int
    remedy_due: bool
    scores: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MentionCategory(SQLModel, table=True):
    """A category of a mention's classification, one row each, for filtering with an index.

    Derived from ``Classification.categories`` by triggers (migration 0004); nothing in Python writes it.
    """

    __tablename__ = "mention_categories"

    mention_id: int = Field(foreign_key="mentions.id", primary_key=True)
    category: str = Field(primary_key=True, max_length=50)


class ReplyDraft(SQLModel, table=True):
    __tablename__ = "reply_drafts"
    __table_args__ = (
        sa.Index("ix_reply_drafts_state_priority", "state", "priority"),
        sa.Index("ix_reply_drafts_priority_id", sa.text("priority DESC"), "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    mention_id: int = Field(foreign_key="mentions.id", unique=True)
    state: ReplyState = Field(default=ReplyState.DRAFTED, sa_type=EnumText(ReplyState))
    text: str
    original_text: str
    language: str = Field(max_length=10)
    template: str | None = Field(default=None, max_length=200)
    lint: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    priority: float = 0.0
    lint_override: bool = False
    claimed_by: str | None = Field(default=None, max_length=100)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    approved_by: str | None = Field(default=None, max_length=100)
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    rejected_reason: str | None = None
    attempts: int = 0
    last_error: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class InboxCount(SQLModel, table=True):
    """One live count the inbox shows: drafts in a state (named after it) or all mentions ("mentions").

    Triggers from migration 0003 move it in the transaction of every insert, update and delete, so
    it is exact without counting a million rows; nothing in Python writes it.
    """

    __tablename__ = "inbox_counts"

    name: str = Field(primary_key=True, max_length=20)
    n: int


class ReplyEvent(SQLModel, table=True):
    """Every transition of a draft: who, when, from which state to which, and the text before and after."""

    __tablename__ = "reply_events"

    id: int | None = Field(default=None, primary_key=True)
    draft_id: int = Field(foreign_key="reply_drafts.id", index=True)
    actor: str = Field(max_length=100)  # a user name, or "system"
    action: str = Field(max_length=30)
    from_state: str | None = Field(default=None, max_length=20)
    to_state: str | None = Field(default=None, max_length=20)
    before_text: str | None = None
    after_text: str | None = None
    note: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PostedReply(SQLModel, table=True):
    __tablename__ = "posted_replies"

    id: int | None = Field(default=None, primary_key=True)
    draft_id: int = Field(foreign_key="reply_drafts.id", unique=True)
    mention_id: int = Field(foreign_key="mentions.id", index=True)
    platform: str = Field(max_length=20)
    external_id: str = Field(max_length=100)
    permalink: str | None = None
    text: str
    posted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    reconciled: bool = False  # found on the platform after a crash instead of posted by this call


class AuditEvent(SQLModel, table=True):
    """Actions outside the reply flow that must leave a trace (users added, data erased)."""

    __tablename__ = "audit_events"

    id: int | None = Field(default=None, primary_key=True)
    actor: str = Field(max_length=100)
    action: str = Field(max_length=50)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
