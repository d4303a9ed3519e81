"""Classify and draft: the steps between a stored mention and a reply waiting for approval.

Work is claimed in batches with ``SELECT ... FOR UPDATE SKIP LOCKED`` (PostgreSQL; SQLite
serialises writers itself), so several processes can share the queue and no mention is
classified or drafted twice.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from social_care import models as m
from social_care.classifier import Classification
from social_care.config import Config
from social_care.db import session_scope
from social_care.drafting import DraftRequest, draft_reply, lint_draft, needs_reply
from social_care.models import utcnow

log = logging.getLogger(__name__)


class MentionClassifier(Protocol):
    """What the pipeline needs of a classifier: the shipped one, or a wrapper (timing, tests)."""

    name: str
    version: str

    def classify(self, texts: Sequence[str], batch_size: int = 32) -> list[Classification]: ...


@dataclass
class StepReport:
    processed: int = 0
    seconds: float = 0.0


def priority_of(classification: m.Classification, followers: int | None) -> float:
    """Queue order: severity first, then complaint probability, then the author's reach."""
    reach = math.log10((followers or 0) + 1)  # 0..~8
    return classification.severity * 1000 + classification.complaint_score * 100 + reach * 10


def _claim(session: Session, stage: m.MentionStage, limit: int) -> list[m.Mention]:
    query = (
        select(m.Mention)
        .where(m.Mention.stage == stage)
        .order_by(m.Mention.id)  # type: ignore[arg-type]
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.exec(query).all())


def classify_pending(engine: Engine, classifier: MentionClassifier, *, limit: int = 256, batch_size: int = 32) -> StepReport:
    """Classify up to ``limit`` new mentions; each batch commits with its classifications."""
    report = StepReport()
    started = time.perf_counter()
    while report.processed < limit:
        with session_scope(engine) as session:
            mentions = _claim(session, m.MentionStage.NEW, min(batch_size, limit - report.processed))
            if not mentions:
                break
            results = classifier.classify([mention.text for mention in mentions], batch_size=batch_size)
            now = utcnow()
            # Plain rows in one executemany, not ORM objects: building and validating a SQLModel
            # instance per row cost more than the INSERT itself.
            session.execute(sa.insert(m.Classification), [
                _classification_row(mention, result, classifier, now)
                for mention, result in zip(mentions, results, strict=True)
            ])
            _set_stage(session, [mention.id for mention in mentions], m.MentionStage.CLASSIFIED)
            report.processed += len(mentions)
    report.seconds = time.perf_counter() - started
    return report


def _set_stage(session: Session, ids: Sequence[int | None], stage: m.MentionStage) -> None:
    """One UPDATE for a batch's mentions (the claimed rows are locked by this transaction)."""
    if ids:
        session.execute(
            sa.update(m.Mention).where(m.Mention.id.in_(ids)).values(stage=stage)  # type: ignore[union-attr]
            .execution_options(synchronize_session=False)
        )


def _classification_row(mention: m.Mention, result: Classification, classifier: MentionClassifier,
                        now: datetime) -> dict[str, Any]:
    assert mention.id is not None
    return {
        "mention_id": mention.id,
        "model_name": classifier.name,
        "model_version": classifier.version,
        "language": result.language,
        "sentiment": result.sentiment,
        "intent": result.intent,
        "complaint": result.complaint,
        "complaint_score": result.complaint_score,
        "categories": list(result.categories),
        "severity": result.severity,
        "remedy_due": result.remedy_due,
        "scores": {
            "sentiment": result.sentiment_scores,
            "intent": result.intent_scores,
            "categories": result.category_scores,
            "severity": list(result.severity_scores),
            "remedy_due": result.remedy_score,
        },
        "created_at": now,
    }


def _histories(session: Session, mentions: Sequence[m.Mention]) -> dict[int, tuple[int, int]]:
    """mention id -> (earlier mentions, earlier complaints) by the same author, in one query per batch."""
    author_ids = {mm.author_id for mm in mentions if mm.author_id is not None}
    if not author_ids:
        return {}
    newest = max(mm.id for mm in mentions if mm.id is not None)
    rows = session.exec(
        select(m.Mention.author_id, m.Mention.id, m.Classification.complaint)
        .outerjoin(m.Classification, m.Classification.mention_id == m.Mention.id)  # type: ignore[arg-type]
        .where(m.Mention.author_id.in_(author_ids), m.Mention.id < newest)  # type: ignore[union-attr,operator]
    ).all()
    by_author: dict[int, list[tuple[int, bool]]] = {}
    for author_id, mention_id, complaint in rows:
        by_author.setdefault(author_id, []).append((mention_id, bool(complaint)))
    found = {}
    for mm in mentions:
        earlier = [c for i, c in by_author.get(mm.author_id or -1, []) if i < (mm.id or 0)]
        found[mm.id or 0] = (len(earlier), sum(earlier))
    return found


def _request(mention: m.Mention, classification: m.Classification, author: m.Author | None,
             history: tuple[int, int]) -> DraftRequest:
    return DraftRequest(
        platform=mention.platform,
        text=mention.text,
        language=classification.language,
        author_handle=author.handle if author else None,
        author_name=author.name if author else None,
        intent=classification.intent,
        sentiment=classification.sentiment,
        complaint=classification.complaint,
        categories=tuple(classification.categories),
        severity=classification.severity,
        remedy_due=classification.remedy_due,
        is_own=mention.is_own,
        prior_mentions=history[0],
        prior_complaints=history[1],
    )


def draft_request_for(session: Session, mention: m.Mention, classification: m.Classification) -> DraftRequest:
    author = session.get(m.Author, mention.author_id) if mention.author_id else None
    return _request(mention, classification, author, _histories(session, [mention]).get(mention.id or 0, (0, 0)))


def templates_dir(config: Config) -> str:
    folder = config.settings.reply_policy.templates_dir
    if not folder:
        return ""
    path = Path(folder).expanduser()
    return str(path if path.is_absolute() else config.base_dir / path)


def draft_pending(engine: Engine, config: Config, *, limit: int = 256) -> StepReport:
    """Draft a reply for each classified mention that needs one; the others are marked no_reply."""
    report = StepReport()
    started = time.perf_counter()
    policy = config.settings.reply_policy.model_copy(update={"templates_dir": templates_dir(config)})
    brand = config.brand
    while report.processed < limit:
        with session_scope(engine) as session:
            mentions = _claim(session, m.MentionStage.CLASSIFIED, min(64, limit - report.processed))
            if not mentions:
                break
            ids = [mm.id for mm in mentions]
            classifications = {c.mention_id: c for c in session.exec(
                select(m.Classification).where(m.Classification.mention_id.in_(ids))).all()}  # type: ignore[attr-defined]
            author_ids = {mm.author_id for mm in mentions if mm.author_id is not None}
            authors = {a.id: a for a in session.exec(
                select(m.Author).where(m.Author.id.in_(author_ids))).all()} if author_ids else {}  # type: ignore[union-attr]
            histories = _histories(session, mentions)
            now = utcnow()
            silent: list[int | None] = []
            rows: list[dict[str, Any]] = []
            notes: list[str | None] = []
            for mention in mentions:
                classification = classifications[mention.id]
                author = authors.get(mention.author_id) if mention.author_id else None
                request = _request(mention, classification, author, histories.get(mention.id or 0, (0, 0)))
                wanted, _reason = needs_reply(request, policy)
                if not wanted:
                    silent.append(mention.id)
                    continue
                draft = draft_reply(request, brand=brand, policy=policy)
                findings = lint_draft(draft.text, request, brand=brand, policy=policy)
                rows.append({
                    "mention_id": mention.id, "state": m.ReplyState.DRAFTED, "text": draft.text,
                    "original_text": draft.text, "language": draft.language, "template": draft.template,
                    "lint": [_finding_dict(f) for f in findings],
                    "priority": priority_of(classification, author.followers if author else None),
                    "lint_override": False, "attempts": 0, "created_at": now, "updated_at": now,
                })
                notes.append(draft.error)
            _set_stage(session, silent, m.MentionStage.NO_REPLY)
            if rows:
                # Plain rows, one statement each way: the drafts' ids come back in row order
                # (RETURNING), and every draft gets its "drafted" event in the same transaction.
                ids = session.execute(
                    sa.insert(m.ReplyDraft).returning(m.ReplyDraft.id, sort_by_parameter_order=True), rows
                ).scalars().all()
                session.execute(sa.insert(m.ReplyEvent), [
                    {"draft_id": draft_id, "actor": "system", "action": "drafted", "from_state": None,
                     "to_state": m.ReplyState.DRAFTED.value, "after_text": row["text"], "note": note,
                     "created_at": now}
                    for draft_id, row, note in zip(ids, rows, notes, strict=True)
                ])
                _set_stage(session, [row["mention_id"] for row in rows], m.MentionStage.DRAFTED)
            report.processed += len(mentions)
    report.seconds = time.perf_counter() - started
    return report


def _finding_dict(finding: Any) -> dict[str, str]:
    return {"rule": finding.rule, "level": finding.level, "message": finding.message}
