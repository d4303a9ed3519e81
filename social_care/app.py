"""The core object the CLI, the daemon and the web inbox all drive: one config, one database, one model."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import select

from social_care import models as m
from social_care import replies
from social_care.accounts import build_account_connector, connector_resolver, sync_accounts
from social_care.classifier import Thresholds, load_classifier
from social_care.config import Config
from social_care.db import check_ready, create_db_engine, session_scope, upgrade
from social_care.ingest import PollReport, poll_account
from social_care.pipeline import MentionClassifier, StepReport, classify_pending, draft_pending

log = logging.getLogger(__name__)


@dataclass
class CycleReport:
    polls: list[PollReport] = field(default_factory=list)
    classified: StepReport = field(default_factory=StepReport)
    drafted: StepReport = field(default_factory=StepReport)
    sent: replies.SendReport | None = None


@dataclass(frozen=True)
class QueueRow:
    id: int
    mention_id: int
    platform: str
    account: str | None
    mention_text: str
    author: str | None
    author_name: str | None
    followers: int | None
    language: str
    sentiment: str
    intent: str
    complaint: bool
    complaint_score: float
    categories: list[str]
    severity: int
    remedy_due: bool
    state: str
    draft_text: str
    lint: list[dict[str, str]]
    priority: float
    claimed_by: str | None
    created_at: datetime
    drafted_at: datetime
    permalink: str | None
    claimed_until: datetime | None = None
    approved_by: str | None = None
    rejected_reason: str | None = None
    last_error: str | None = None
    lint_override: bool = False

    def as_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        for key in ("created_at", "drafted_at", "claimed_until"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


def _queue_query() -> Any:
    d, mt, c, au = m.ReplyDraft, m.Mention, m.Classification, m.Author
    return (
        select(d, mt, c, au, m.Account.name)
        .join(mt, mt.id == d.mention_id)  # type: ignore[arg-type]
        .join(c, c.mention_id == mt.id)  # type: ignore[arg-type]
        .outerjoin(au, au.id == mt.author_id)  # type: ignore[arg-type]
        .outerjoin(m.Account, m.Account.id == mt.account_id)  # type: ignore[arg-type]
    )


def _queue_row(draft: m.ReplyDraft, mention: m.Mention, cls: m.Classification, author: m.Author | None,
               account_name: str | None) -> QueueRow:
    return QueueRow(
        id=draft.id, mention_id=mention.id, platform=mention.platform, account=account_name,  # type: ignore[arg-type]
        mention_text=mention.text, author=author.handle if author else None,
        author_name=author.name if author else None, followers=author.followers if author else None,
        language=cls.language, sentiment=cls.sentiment, intent=cls.intent, complaint=cls.complaint,
        complaint_score=round(cls.complaint_score, 4), categories=list(cls.categories),
        severity=cls.severity, remedy_due=cls.remedy_due, state=draft.state.value,
        draft_text=draft.text, lint=list(draft.lint), priority=round(draft.priority, 2),
        claimed_by=draft.claimed_by, created_at=mention.created_at, drafted_at=draft.created_at,
        permalink=mention.permalink, claimed_until=draft.claimed_until, approved_by=draft.approved_by,
        rejected_reason=draft.rejected_reason, last_error=draft.last_error, lint_override=draft.lint_override,
    )


class SocialCare:
    """Everything a front end needs, built lazily from one :class:`Config`."""

    def __init__(self, config: Config, *, engine: Engine | None = None, classifier: MentionClassifier | None = None) -> None:
        self.config = config
        self._engine = engine
        self._classifier = classifier

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = create_db_engine(self.config.database_url, echo=self.config.settings.database.echo)
        return self._engine

    @property
    def classifier(self) -> MentionClassifier:
        if self._classifier is None:
            self._classifier = self.load_classifier()
        return self._classifier

    def load_classifier(self, runtime: str | None = None) -> MentionClassifier:
        """A fresh classifier as configured; `runtime` overrides classifier.runtime."""
        settings = self.config.settings.classifier
        t = settings.thresholds
        return load_classifier(
            self.config.model_path,
            thresholds=Thresholds(complaint=t.complaint, category=t.category, remedy_due=t.remedy_due),
            threads=settings.threads,
            runtime=runtime or settings.runtime,
        )

    def upgrade_db(self) -> None:
        upgrade(self.engine)

    def check_db(self) -> None:
        check_ready(self.engine)

    @cached_property
    def account_ids(self) -> dict[str, int]:
        return sync_accounts(self.engine, self.config)

    @cached_property
    def connector_for(self):  # type: ignore[no-untyped-def]
        return connector_resolver(self.engine, self.config)

    def poll(self, account: str | None = None, *, only_due: bool = False) -> list[PollReport]:
        """Poll one account, or every enabled account (only those due, when ``only_due``)."""
        accounts = [self.config.account(account)] if account else [a for a in self.config.settings.accounts if a.enabled]
        reports = []
        now = m.utcnow()
        for acct in accounts:
            account_id = self.account_ids[acct.name]
            if only_due:
                with session_scope(self.engine) as session:
                    row = session.get(m.Account, account_id)
                    if row and row.next_poll_at and row.next_poll_at > now:
                        continue
                    if row and row.status == m.AccountStatus.NEEDS_REAUTH:
                        continue
            connector = self.connector_for(account_id)
            reports.append(poll_account(self.engine, account_id, connector, interval_seconds=acct.poll_interval_seconds))
        return reports

    def classify_pending(self, limit: int = 512) -> StepReport:
        return classify_pending(self.engine, self.classifier, limit=limit,
                                batch_size=self.config.settings.classifier.batch_size)

    def draft_pending(self, limit: int = 512) -> StepReport:
        return draft_pending(self.engine, self.config, limit=limit)

    def cycle(self, *, send: bool = True, only_due: bool = False) -> CycleReport:
        """One round of the pipeline: poll, classify, draft, and send what was approved."""
        report = CycleReport()
        report.polls = self.poll(only_due=only_due)
        report.classified = self.classify_pending()
        report.drafted = self.draft_pending()
        if send:
            report.sent = self.send()
        return report

    def send(self, *, retry_failed: bool = False, limit: int = 50) -> replies.SendReport:
        return replies.send_approved(self.engine, self.connector_for, retry_failed=retry_failed, limit=limit)

    def approve(self, draft_id: int, user: str, *, text: str | None = None, override: bool = False) -> m.ReplyDraft:
        return replies.approve(self.engine, self.config, draft_id, user, text=text, override=override)

    def edit(self, draft_id: int, user: str, text: str) -> m.ReplyDraft:
        return replies.edit(self.engine, self.config, draft_id, user, text)

    def reject(self, draft_id: int, user: str, reason: str) -> m.ReplyDraft:
        return replies.reject(self.engine, draft_id, user, reason)

    def check_accounts(self) -> list[tuple[str, str]]:
        """Ask each enabled account's platform who we are: (account, status line)."""
        lines = []
        for acct in self.config.settings.accounts:
            if not acct.enabled:
                continue
            try:
                info = build_account_connector(self.config, acct).check_credentials()
                lines.append((acct.name, f"ok: @{info.handle or info.name or info.external_id}"))
            except Exception as exc:  # noqa: BLE001  (each account's failure is reported; none stops the others)
                lines.append((acct.name, f"{type(exc).__name__}: {exc}"))
        return lines

    def queue(self, *, state: str | None = "drafted", limit: int = 100, offset: int = 0,
              filters: dict[str, Any] | None = None) -> list[QueueRow]:
        """Drafts in priority order (severity, complaint probability, reach), oldest first within a tie."""
        filters = filters or {}
        d, mt, c = m.ReplyDraft, m.Mention, m.Classification
        query = _queue_query()
        if state:
            query = query.where(d.state == m.ReplyState(state))
        if filters.get("platform"):
            query = query.where(mt.platform == filters["platform"])
        if filters.get("language"):
            query = query.where(c.language == filters["language"])
        if filters.get("severity") not in (None, ""):
            query = query.where(c.severity >= int(filters["severity"]))
        if filters.get("category"):
            # Through the table the triggers of migration 0004 keep: the planner has statistics for
            # it (none for a LIKE over the JSON list), so it walks the queue in order and stops early.
            mc = m.MentionCategory
            query = query.where(sa.exists().where(mc.mention_id == mt.id, mc.category == filters["category"]))
        query = query.order_by(d.priority.desc(), mt.created_at, d.id).offset(offset).limit(limit)  # type: ignore[attr-defined]
        with session_scope(self.engine) as session:
            return [_queue_row(*found) for found in session.exec(query).all()]

    def queue_row(self, draft_id: int) -> QueueRow | None:
        """One draft as the queue shows it, whatever its state."""
        with session_scope(self.engine) as session:
            found = session.exec(_queue_query().where(m.ReplyDraft.id == draft_id)).first()
            return _queue_row(*found) if found else None

    def counts(self) -> dict[str, int]:
        """Drafts per state and all mentions, read from the rows the database's triggers keep exact."""
        with session_scope(self.engine) as session:
            rows = session.exec(select(m.InboxCount.name, m.InboxCount.n)).all()
        counts = {s.value: 0 for s in m.ReplyState} | {"mentions": 0}
        counts.update({name: int(n) for name, n in rows})
        return counts
