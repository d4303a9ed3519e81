"""Exactly-once sending against the sandbox: the sender is killed at every step of the send sequence
(after recording the intent, after the platform accepted, while recording the platform's id) and the
platform fails now and then; every approved reply ends on the platform exactly once."""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import select

from social_care import models as m
from social_care import replies
from social_care.app import SocialCare
from social_care.db import session_scope
from social_care.users import add_user

CRASH_POINTS = ("after_intent", "after_platform_accepted", "while_recording")


class Killed(BaseException):
    """The sender process dying (not an Exception: nothing on the way may swallow it)."""


class DyingConnector:
    """The real connector, killed at random just before or just after the platform call."""

    def __init__(self, real: Any, rng: random.Random, kills: Counter[str]) -> None:
        self.real, self.rng, self.kills = real, rng, kills

    def post_reply(self, reply_ref: dict[str, Any], text: str) -> Any:
        if self.rng.random() < 0.3:
            self.kills["after_intent"] += 1
            raise Killed("killed after the intent was committed, before the request left")
        posted = self.real.post_reply(reply_ref, text)
        if self.rng.random() < 0.3:
            self.kills["after_platform_accepted"] += 1
            raise Killed("killed after the platform accepted the reply, before its id was recorded")
        return posted

    def find_reply(self, reply_ref: dict[str, Any], text: str) -> Any:
        return self.real.find_reply(reply_ref, text)


def _approve_all(core: SocialCare) -> list[int]:
    add_user(core.engine, "paula", "approver")
    approved = []
    for row in core.queue(state="drafted", limit=10_000):
        core.approve(row.id, "paula", override=True)
        approved.append(row.id)
    return approved


def test_sender_killed_at_every_step_posts_each_reply_exactly_once(sandbox_core: SocialCare, sandbox_server,
                                                                   monkeypatch) -> None:
    core = sandbox_core
    sandbox_server.add_generated_mentions(100)
    seeded = {r.external_id for r in sandbox_server.state.brand_replies}
    core.cycle(send=False)
    approved = _approve_all(core)
    assert len(approved) >= 40

    rng = random.Random(11)
    kills: Counter[str] = Counter()
    real_finish = replies._finish_sent

    def dying_finish(*args: Any, **kwargs: Any) -> None:
        if rng.random() < 0.3:
            kills["while_recording"] += 1
            raise Killed("killed while recording the platform's reply id")
        real_finish(*args, **kwargs)

    monkeypatch.setattr(replies, "_finish_sent", dying_finish)
    wrappers: dict[int | None, DyingConnector] = {}

    def connector_for(account_id: int | None) -> Any:
        if account_id not in wrappers:
            wrappers[account_id] = DyingConnector(core.connector_for(account_id), rng, kills)
        return wrappers[account_id]

    sandbox_server.faults.random_mix(seed=3, rate=0.1, kinds=("server_error",))
    now = m.utcnow()
    for _round in range(2000):
        with session_scope(core.engine) as session:
            open_states = [m.ReplyState.APPROVED, m.ReplyState.SENDING, m.ReplyState.FAILED]
            pending = session.exec(select(sa.func.count()).select_from(m.ReplyDraft).where(
                m.ReplyDraft.state.in_(open_states),  # type: ignore[attr-defined]
                sa.not_(sa.func.coalesce(m.ReplyDraft.last_error, "").like("PermanentError%")))).one()
        if not pending:
            break
        now += replies.SEND_LEASE + timedelta(seconds=1)  # a restarted sender finds expired leases
        try:
            replies.send_approved(core.engine, connector_for, retry_failed=True, now=now)
        except Killed:
            continue
    platform_faults = len(sandbox_server.faults.applied)
    sandbox_server.faults.clear()

    crashes = sum(kills.values())
    assert crashes >= 100 and all(kills[point] >= 10 for point in CRASH_POINTS), kills
    with session_scope(core.engine) as session:
        drafts = {d.id: d for d in session.exec(select(m.ReplyDraft).where(m.ReplyDraft.id.in_(approved))).all()}  # type: ignore[attr-defined]
        posted_rows = session.exec(select(m.PostedReply)).all()
    sent = [i for i, d in drafts.items() if d.state == m.ReplyState.SENT]
    refused = [i for i, d in drafts.items() if d.state == m.ReplyState.FAILED and d.last_error.startswith("PermanentError")]
    assert len(sent) + len(refused) == len(approved), Counter(d.state.value for d in drafts.values())
    # Exact accounting: every reply the brand posted during the run is recorded for exactly one sent
    # draft, with its text, and every sent draft has one (templates repeat texts, so count ids, not texts).
    new_on_platform = {r.external_id: r for r in sandbox_server.state.brand_replies if r.external_id not in seeded}
    recorded = {p.external_id: p for p in posted_rows}
    assert len(posted_rows) == len(recorded) == len({p.draft_id for p in posted_rows}) == len(sent)
    doubled = sorted(set(new_on_platform) - set(recorded))
    lost = sorted(set(recorded) - set(new_on_platform))
    assert doubled == [] and lost == []
    assert all(new_on_platform[x].text == drafts[p.draft_id].text for x, p in recorded.items())
    print(f"{len(approved)} approved replies, {crashes} sender kills {dict(kills)}, "
          f"{platform_faults} platform 5xx: {len(sent)} posted once, "
          f"{len(refused)} refused by the platform, 0 lost, 0 doubled")
