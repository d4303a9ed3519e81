"""Polling survives being killed between fetch and commit, and platform faults, without losing or
doubling a mention: the stored set ends equal to what a clean run stores from the same sandbox."""

from __future__ import annotations

import random

import sqlalchemy as sa
from sqlmodel import select

from social_care import ingest
from social_care import models as m
from social_care.app import SocialCare
from social_care.db import session_scope


class Killed(BaseException):
    """Stands for the process dying (not an Exception, so nothing on the way catches it)."""


def _stored(core: SocialCare) -> list[tuple[str, str]]:
    with session_scope(core.engine) as session:
        return sorted(session.exec(select(m.Mention.platform, m.Mention.external_id)).all())


def _poll_until_quiet(core: SocialCare, rounds: int = 60) -> int:
    crashes = 0
    quiet = 0
    for _ in range(rounds):
        try:
            reports = core.poll()
        except Killed:
            crashes += 1
            quiet = 0
            continue
        clean = all(p.status == m.AccountStatus.OK for p in reports)
        quiet = quiet + 1 if clean and sum(p.stored for p in reports) == 0 else 0
        if quiet >= 2:
            break
        with session_scope(core.engine) as session:  # faults delay the next poll; the test does not wait
            session.execute(sa.update(m.Account).values(next_poll_at=None))
    return crashes


def test_kills_between_fetch_and_commit_lose_and_double_nothing(tmp_path, db_url, sandbox_server, sandbox_config_fn,
                                                                monkeypatch) -> None:
    seed = 7
    sandbox_server.add_generated_mentions(120)
    # Small pages make many fetch/commit steps to kill; no in-call retries: the poll loop retries.
    small_pages = {"x": {"page_size": 10, "max_pages_per_poll": 1, "max_retries": 0},
                   "facebook": {"page_size": 5, "max_pages_per_poll": 1, "max_retries": 0},
                   "instagram": {"page_size": 5, "max_pages_per_poll": 1, "max_retries": 0}}
    config = sandbox_config_fn(tmp_path, db_url=db_url, sandbox_url=sandbox_server.base_url, options=small_pages)
    reference_url = f"sqlite:///{tmp_path / 'reference.db'}"
    reference = SocialCare(sandbox_config_fn(tmp_path / "ref", db_url=reference_url,
                                             sandbox_url=sandbox_server.base_url))
    reference.upgrade_db()
    _poll_until_quiet(reference)
    expected = _stored(reference)
    assert len(expected) > 150

    core = SocialCare(config)
    core.upgrade_db()
    rng = random.Random(seed)
    real_commit = ingest.commit_fetch
    kills = {"before": 0, "after": 0}

    def dying_commit(engine, account_id, stream, result):  # type: ignore[no-untyped-def]
        roll = rng.random()
        if roll < 0.4 and result.records:
            kills["before"] += 1
            raise Killed("killed after fetch, before commit")
        stored = real_commit(engine, account_id, stream, result)
        if roll > 0.9:
            kills["after"] += 1
            raise Killed("killed after commit, before the account row was updated")
        return stored

    monkeypatch.setattr(ingest, "commit_fetch", dying_commit)
    # Malformed items are quarantined by design (tests/connectors cover that); here every item must land.
    sandbox_server.faults.random_mix(seed=seed, rate=0.2, kinds=("server_error", "truncated_json"))
    for platform in ("x", "graph"):  # short windows, so the test need not wait 15 minutes
        sandbox_server.faults.inject("rate_limit", count=2, platform=platform, reset_in=0.2)
    crashes = _poll_until_quiet(core, rounds=300)
    faults_applied = len(sandbox_server.faults.applied)
    sandbox_server.faults.clear()
    monkeypatch.setattr(ingest, "commit_fetch", real_commit)
    core = SocialCare(config)  # a restarted process: fresh connectors, cursors from the database
    _poll_until_quiet(core)

    assert crashes >= 5 and kills["before"] >= 3, kills
    stored = _stored(core)
    assert len(stored) == len(set(stored)), "a mention was stored twice"
    missing = set(expected) - set(stored)
    assert not missing, f"{len(missing)} mentions lost after {crashes} kills: {sorted(missing)[:5]}"
    assert set(stored) == set(expected)
    assert faults_applied >= 5
    per_platform = {p: sum(1 for platform, _ in stored if platform == p) for p in ("x", "facebook", "instagram")}
    print(f"{len(stored)} mentions {per_platform}, {crashes} kills ({kills}), {faults_applied} platform faults: "
          f"0 lost, 0 doubled")
