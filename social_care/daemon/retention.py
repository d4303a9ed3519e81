"""Data lifecycle: drop raw platform payloads after N days; texts, classifications and aggregates stay."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from social_care import models as m
from social_care.db import session_scope

log = logging.getLogger(__name__)

PURGED_QUARANTINE = "[purged by retention]"


@dataclass(frozen=True)
class RetentionReport:
    cutoff: datetime
    mentions: int  # mentions whose raw payload was dropped
    quarantined: int  # quarantined items whose raw body was dropped


def purge_raw_payloads(engine: Engine, *, days: int, now: datetime | None = None,
                       actor: str = "daemon") -> RetentionReport:
    """Set ``mentions.raw`` to SQL NULL (and blank quarantined bodies) for items received over ``days`` ago.

    One transaction; an ``audit_events`` row records the run when anything was dropped. Safe to
    run from several processes: the second finds nothing left to drop.
    """
    if days < 1:
        raise ValueError("retention days must be at least 1")
    cutoff = (now or m.utcnow()) - timedelta(days=days)
    mentions = m.Mention.__table__  # type: ignore[attr-defined]
    quarantined = m.QuarantinedItem.__table__  # type: ignore[attr-defined]
    with session_scope(engine) as session:
        # sa.null(): a plain None would be stored as the JSON document 'null', not SQL NULL.
        connection = session.connection()  # its execute() returns a CursorResult, which has rowcount
        dropped = connection.execute(
            sa.update(mentions).where(mentions.c.received_at < cutoff, mentions.c.raw.is_not(None))
            .values(raw=sa.null())
        ).rowcount
        blanked = connection.execute(
            sa.update(quarantined).where(quarantined.c.received_at < cutoff, quarantined.c.raw != PURGED_QUARANTINE)
            .values(raw=PURGED_QUARANTINE)
        ).rowcount
        if dropped or blanked:
            session.add(m.AuditEvent(actor=actor, action="retention_purge",
                                     detail={"days": days, "cutoff": cutoff.isoformat(), "mentions": dropped,
                                             "quarantined": blanked}))
    report = RetentionReport(cutoff=cutoff, mentions=int(dropped or 0), quarantined=int(blanked or 0))
    log.info("retention: dropped %d raw payloads and %d quarantined bodies received before %s",
             report.mentions, report.quarantined, cutoff.isoformat(timespec="seconds"))
    return report
