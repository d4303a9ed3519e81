"""Polling: fetch new mentions through a connector and store them with the cursor that covered them.

A stream's records, its quarantined items and its new cursor are written in one transaction, so a
crash anywhere leaves either all of them or none: the next poll starts from the old cursor and
the unique (platform, external_id) key absorbs any repeat.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from connectors import (
    AuthError,
    BudgetExhausted,
    Connector,
    ConnectorError,
    FetchResult,
    MentionRecord,
    PermanentError,
    QuarantinedItem,
    RateLimited,
    TransientError,
)
from social_care import models as m
from social_care.db import MAX_BIND_PARAMS, insert_ignore, session_scope

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(minutes=30)


@dataclass
class StreamReport:
    stream: str
    fetched: int = 0
    stored: int = 0
    quarantined: int = 0
    error: str | None = None


@dataclass
class PollReport:
    account: str
    status: m.AccountStatus = m.AccountStatus.OK
    streams: list[StreamReport] = field(default_factory=list)
    next_poll_at: datetime | None = None

    @property
    def stored(self) -> int:
        return sum(s.stored for s in self.streams)


def _ids_by_key(session: Session, model: type[Any], platform: str, external_ids: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    ordered = sorted(external_ids)
    for start in range(0, len(ordered), MAX_BIND_PARAMS):  # one IN list per statement stays under the limit
        chunk = ordered[start : start + MAX_BIND_PARAMS]
        rows = session.exec(
            select(model.external_id, model.id).where(model.platform == platform, model.external_id.in_(chunk))
        ).all()
        found.update({external_id: id_ for external_id, id_ in rows})
    return found


def _strip_nul(value: Any) -> Any:
    """PostgreSQL text and JSON cannot hold NUL; keep everything else as received."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_strip_nul(k): _strip_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_nul(v) for v in value]
    return value


def _refresh_authors(session: Session, authors: Any, author_ids: dict[str, int]) -> None:
    """Keep reach and names current: one executemany per set of fields the platform sent."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for author in authors:
        if author.followers is None and not author.name:
            continue  # nothing the platform reports here changes over time
        values: dict[str, Any] = {}
        if author.followers is not None:
            values["followers"] = author.followers
        if author.name:
            values["name"] = _strip_nul(author.name)
        if author.handle:
            values["handle"] = _strip_nul(author.handle)
        groups.setdefault(tuple(sorted(values)), []).append(
            {"author_pk": author_ids[author.external_id], **{f"new_{k}": v for k, v in values.items()}}
        )
    table = m.Author.__table__  # type: ignore[attr-defined]
    for fields, rows in groups.items():
        statement = (
            sa.update(table)
            .where(table.c.id == sa.bindparam("author_pk"))
            .values({name: sa.bindparam(f"new_{name}") for name in fields})
        )
        session.connection().execute(statement, rows)


def store_records(
    session: Session,
    records: Sequence[MentionRecord],
    *,
    account_id: int | None,
    source: str = "poll",
) -> int:
    """Store mentions (and their authors and threads) once; returns how many were new."""
    if not records:
        return 0
    by_platform: dict[str, list[MentionRecord]] = {}
    for record in records:
        by_platform.setdefault(record.platform, []).append(record)
    new = 0
    for platform, items in by_platform.items():
        authors = {r.author.external_id: r.author for r in items}
        insert_ignore(
            session,
            m.Author.__table__,  # type: ignore[arg-type]
            [
                {"platform": platform, "external_id": a.external_id, "handle": _strip_nul(a.handle),
                 "name": _strip_nul(a.name), "followers": a.followers, "first_seen_at": m.utcnow()}
                for a in authors.values()
            ],
            ("platform", "external_id"),
        )
        author_ids = _ids_by_key(session, m.Author, platform, set(authors))
        _refresh_authors(session, authors.values(), author_ids)
        threads = {r.thread_external_id for r in items if r.thread_external_id}
        insert_ignore(
            session,
            m.Conversation.__table__,  # type: ignore[arg-type]
            [{"platform": platform, "external_id": t, "created_at": m.utcnow()} for t in threads],
            ("platform", "external_id"),
        )
        thread_ids = _ids_by_key(session, m.Conversation, platform, threads)
        existing = set(_ids_by_key(session, m.Mention, platform, {r.external_id for r in items}))
        rows = []
        seen: set[str] = set()
        for r in items:
            if r.external_id in existing or r.external_id in seen:
                continue
            seen.add(r.external_id)
            rows.append(
                {
                    "platform": platform,
                    "external_id": r.external_id,
                    "account_id": account_id,
                    "stream": r.stream,
                    "author_id": author_ids.get(r.author.external_id),
                    "conversation_id": thread_ids.get(r.thread_external_id or ""),
                    "parent_external_id": r.parent_external_id,
                    "text": _strip_nul(r.text),
                    "created_at": r.created_at if r.created_at.tzinfo else r.created_at.replace(tzinfo=UTC),
                    "received_at": m.utcnow(),
                    "permalink": _strip_nul(r.permalink),
                    "lang_hint": r.lang_hint,
                    "is_own": r.is_own,
                    "stage": (m.MentionStage.NO_REPLY if r.is_own else m.MentionStage.NEW).value,
                    "reply_ref": _strip_nul(r.reply_ref),
                    "raw": _strip_nul(r.raw),
                    "source": source,
                }
            )
        if rows:
            insert_ignore(session, m.Mention.__table__, rows, ("platform", "external_id"))  # type: ignore[arg-type]
            new += len(rows)
    return new


def store_quarantined(session: Session, items: Sequence[QuarantinedItem], *, account_id: int | None) -> None:
    for item in items:
        raw = item.raw if isinstance(item.raw, str) else json.dumps(item.raw, ensure_ascii=False, default=str)
        session.add(
            m.QuarantinedItem(
                account_id=account_id, platform=item.platform, stream=item.stream,
                external_id=item.external_id, reason=_strip_nul(item.reason)[:2000], raw=_strip_nul(raw),
            )
        )


def load_cursor(session: Session, account_id: int, stream: str) -> dict[str, Any] | None:
    row = session.exec(select(m.Cursor).where(m.Cursor.account_id == account_id, m.Cursor.stream == stream)).first()
    return dict(row.value) if row else None


def save_cursor(session: Session, account_id: int, stream: str, value: dict[str, Any]) -> None:
    row = session.exec(select(m.Cursor).where(m.Cursor.account_id == account_id, m.Cursor.stream == stream)).first()
    if row is None:
        session.add(m.Cursor(account_id=account_id, stream=stream, value=value))
    else:
        row.value = value
        row.updated_at = m.utcnow()
        session.add(row)


def commit_fetch(engine: Engine, account_id: int, stream: str, result: FetchResult) -> int:
    """Records, quarantined items and the new cursor: one transaction. Returns new mentions stored."""
    with session_scope(engine) as session:
        stored = store_records(session, result.records, account_id=account_id)
        store_quarantined(session, result.quarantined, account_id=account_id)
        save_cursor(session, account_id, stream, result.cursor)
    return stored


def _backoff(failures: int, base_seconds: int) -> timedelta:
    delay = min(MAX_BACKOFF.total_seconds(), base_seconds * (2 ** min(failures, 8)))
    return timedelta(seconds=delay * random.uniform(0.8, 1.2))


def poll_account(
    engine: Engine,
    account_id: int,
    connector: Connector,
    *,
    interval_seconds: int,
    streams: Sequence[str] | None = None,
    now: datetime | None = None,
) -> PollReport:
    """Poll every stream of one account once and record the outcome on the account row.

    Rate limits and budgets reschedule the account for the reset time; transient failures back off
    exponentially; auth failures mark the account as needing re-authentication (not retried until
    a person fixes the credentials and the account is polled explicitly).
    """
    now = now or m.utcnow()
    with session_scope(engine) as session:
        account = session.get(m.Account, account_id)
        if account is None:
            raise ValueError(f"no account with id {account_id}")
        report = PollReport(account=account.name)
    next_at = now + timedelta(seconds=interval_seconds)
    for stream in streams or connector.streams():
        sr = StreamReport(stream=stream)
        report.streams.append(sr)
        with session_scope(engine) as session:
            cursor = load_cursor(session, account_id, stream)
        try:
            result = connector.fetch(stream, cursor)
        except (RateLimited, BudgetExhausted) as exc:
            sr.error = f"{type(exc).__name__}: {exc}"
            report.status = (
                m.AccountStatus.RATE_LIMITED if isinstance(exc, RateLimited) else m.AccountStatus.BUDGET_EXHAUSTED
            )
            next_at = max(next_at, exc.reset_at)
            break
        except AuthError as exc:
            sr.error = f"AuthError: {exc}"
            report.status = m.AccountStatus.NEEDS_REAUTH
            break
        except (TransientError, PermanentError, ConnectorError) as exc:
            sr.error = f"{type(exc).__name__}: {exc}"
            report.status = m.AccountStatus.ERROR
            continue
        except Exception as exc:
            log.exception("poll %s/%s: unexpected error in the connector", report.account, stream)
            sr.error = f"unexpected {type(exc).__name__}: {exc}"
            report.status = m.AccountStatus.ERROR
            continue
        sr.fetched = len(result.records)
        sr.quarantined = len(result.quarantined)
        sr.stored = commit_fetch(engine, account_id, stream, result)
    with session_scope(engine) as session:
        account = session.get(m.Account, account_id)
        assert account is not None
        account.last_poll_at = now
        account.status = report.status
        errors = [f"{s.stream}: {s.error}" for s in report.streams if s.error]
        account.status_detail = "; ".join(errors)[:2000] or None
        if report.status == m.AccountStatus.OK:
            account.last_success_at = now
            account.consecutive_failures = 0
        else:
            account.consecutive_failures += 1
            if report.status == m.AccountStatus.ERROR:
                next_at = now + _backoff(account.consecutive_failures, min(interval_seconds, 60))
        account.next_poll_at = next_at
        session.add(account)
    report.next_poll_at = next_at
    for s in report.streams:
        if s.error:
            log.warning("poll %s/%s failed: %s", report.account, s.stream, s.error)
    return report
