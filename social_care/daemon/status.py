"""`social-care status`: each account's last successful poll, next poll, backlog and errors, read from the database."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from social_care import models as m
from social_care.config import Config
from social_care.daemon.leadership import current_leader, sqlite_daemon_pid
from social_care.db import is_postgres


def _label(value: object) -> str:
    return str(value.value) if isinstance(value, enum.Enum) else str(value)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def _read_budget(account: Any, cursors: list[dict[str, Any]]) -> dict[str, Any]:
    """X bills reads: today's spend (UTC day) against the account's daily budget, from its cursors."""
    if account.platform != "x":
        return {}
    today = datetime.now(UTC).date().isoformat()
    spent = max((int((c.get("budget") or {}).get("reads", 0)) for c in cursors
                 if (c.get("budget") or {}).get("day") == today), default=0)
    return {"reads_today": spent, "daily_read_budget": int(account.options.get("daily_read_budget", 0))}


def status_snapshot(engine: Engine, config: Config) -> dict[str, Any]:
    """Everything `status` prints, as plain JSON-ready data."""
    a, mt, d = (m.Account.__table__, m.Mention.__table__,  # type: ignore[attr-defined]
                m.ReplyDraft.__table__)  # type: ignore[attr-defined]
    with engine.connect() as connection:
        rows = {r.name: r for r in connection.execute(sa.select(a))}
        stages: dict[tuple[int | None, str], int] = {
            (account_id, _label(stage)): int(n) for account_id, stage, n in connection.execute(
                sa.select(mt.c.account_id, mt.c.stage, sa.func.count()).group_by(mt.c.account_id, mt.c.stage))
        }
        cursors: dict[int, list[dict[str, Any]]] = {}
        for account_id, value in connection.execute(sa.select(m.Cursor.__table__.c.account_id,  # type: ignore[attr-defined]
                                                              m.Cursor.__table__.c.value)):  # type: ignore[attr-defined]
            cursors.setdefault(account_id, []).append(value or {})
        states: dict[tuple[int | None, str], int] = {
            (account_id, _label(state)): int(n) for account_id, state, n in connection.execute(
                sa.select(mt.c.account_id, d.c.state, sa.func.count()).join(mt, mt.c.id == d.c.mention_id)
                .group_by(mt.c.account_id, d.c.state))
        }
    accounts = []
    for account in config.settings.accounts:
        row = rows.get(account.name)
        account_id = row.id if row is not None else None
        status = row.status if row is not None else None
        accounts.append({
            "account": account.name,
            "platform": account.platform,
            "enabled": account.enabled,
            "status": status.value if isinstance(status, m.AccountStatus) else (status or "never polled"),
            "last_poll_at": _iso(row.last_poll_at) if row is not None else None,
            "last_success_at": _iso(row.last_success_at) if row is not None else None,
            "next_poll_at": _iso(row.next_poll_at) if row is not None else None,
            "consecutive_failures": row.consecutive_failures if row is not None else 0,
            "error": row.status_detail if row is not None else None,
            **_read_budget(account, cursors.get(account_id or -1, [])),
            "backlog": {
                "unclassified": stages.get((account_id, m.MentionStage.NEW.value), 0),
                "undrafted": stages.get((account_id, m.MentionStage.CLASSIFIED.value), 0),
                "drafts_waiting": states.get((account_id, m.ReplyState.DRAFTED.value), 0),
                "approved_unsent": states.get((account_id, m.ReplyState.APPROVED.value), 0),
                "failed": states.get((account_id, m.ReplyState.FAILED.value), 0),
            },
        })
    totals = {
        "unclassified": sum(n for (_, s), n in stages.items() if s == m.MentionStage.NEW.value),
        "undrafted": sum(n for (_, s), n in stages.items() if s == m.MentionStage.CLASSIFIED.value),
        "drafts_waiting": sum(n for (_, s), n in states.items() if s == m.ReplyState.DRAFTED.value),
        "approved_unsent": sum(n for (_, s), n in states.items() if s == m.ReplyState.APPROVED.value),
        "failed": sum(n for (_, s), n in states.items() if s == m.ReplyState.FAILED.value),
        "mentions": sum(stages.values()),
    }
    if is_postgres(engine):
        leader = current_leader(engine)
        daemon = {"database": "postgresql", "scheduler_leader": leader, "running": leader is not None}
    else:
        pid = sqlite_daemon_pid(engine)
        daemon = {"database": "sqlite", "scheduler_leader": f"pid {pid}" if pid else None, "running": pid is not None}
    return {"daemon": daemon, "accounts": accounts, "backlog": totals}
