"""Daemon processes: SIGTERM and SIGKILL mid-cycle lose nothing; three daemons on PostgreSQL survive losing the leader."""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from social_care.daemon import current_leader
from social_care.db import create_db_engine


def _scalar(engine: sa.engine.Engine, sql: str) -> Any:
    with engine.connect() as connection:
        return connection.execute(sa.text(sql)).scalar()


def _wait(predicate: Any, timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def _fetches(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _assert_each_mention_once(engine: sa.engine.Engine, total: int) -> None:
    """Stored, classified and drafted exactly once: counts match and no stage is ahead of its rows."""
    assert _scalar(engine, "SELECT count(DISTINCT external_id) FROM mentions") == total
    assert _scalar(engine, "SELECT count(*) FROM mentions") == total
    assert _scalar(engine, "SELECT count(*) FROM classifications") == total
    assert _scalar(engine, "SELECT count(*) FROM reply_drafts") == total
    assert _scalar(engine, "SELECT count(*) FROM reply_events WHERE action = 'drafted'") == total
    assert _scalar(engine, "SELECT count(*) FROM mentions WHERE stage <> 'drafted'") == 0


def _consistent(engine: sa.engine.Engine) -> None:
    """Whatever instant a process died at, a stage never runs ahead of the rows that justify it."""
    assert _scalar(engine, "SELECT count(*) FROM mentions WHERE stage <> 'new'") == \
        _scalar(engine, "SELECT count(*) FROM classifications")
    assert _scalar(engine, "SELECT count(*) FROM mentions WHERE stage = 'drafted'") == \
        _scalar(engine, "SELECT count(*) FROM reply_drafts")


def test_sigterm_and_sigkill_mid_cycle_lose_nothing_and_resume_from_the_cursor(sqlite_url, fake_daemons, tmp_path) -> None:
    total, fetch_log, busy = 90, tmp_path / "fetches.jsonl", tmp_path / "classifying"
    env = {"total": total, "start": time.time() + 3, "every": 0.04, "fetch_log": str(fetch_log),
           "classify_delay": 0.5, "batch": 8, "interval": 0.5, "busy_file": str(busy)}
    engine = create_db_engine(sqlite_url)
    stored = lambda: _scalar(engine, "SELECT count(*) FROM mentions")
    classified = lambda: _scalar(engine, "SELECT count(*) FROM classifications")

    # 1. SIGTERM while mentions are still arriving and the (slow) classifier is inside a batch.
    first = fake_daemons.start(sqlite_url, "first", **env)
    assert _wait(lambda: classified() >= 8 and busy.exists() and stored() < total, 40, step=0.01), \
        fake_daemons.log("first")
    sent_at, classified_at_signal = time.monotonic(), classified()
    first.send_signal(signal.SIGTERM)
    assert first.wait(15) == 0, fake_daemons.log("first")
    stop_seconds = time.monotonic() - sent_at
    print(f"\nSIGTERM mid-batch: exited cleanly in {stop_seconds:.2f} s; the running batch was committed "
          f"({classified_at_signal} -> {classified()} classified, {stored()}/{total} stored)")
    assert stop_seconds < 10
    assert classified() > classified_at_signal  # the step in progress was finished, not abandoned
    assert '"event": "daemon_stopped", "clean": true' in fake_daemons.log("first")
    _consistent(engine)
    cursor_after_term = _scalar(engine, "SELECT value FROM cursors")

    # 2. SIGKILL (a crash) in the middle of the next run.
    second = fake_daemons.start(sqlite_url, "second", **env)
    before = classified()
    assert _wait(lambda: classified() >= before + 8, 40), fake_daemons.log("second")
    second.kill()
    second.wait(10)
    _consistent(engine)

    # 3. A restart finishes the work; every fetch resumed from the stored cursor.
    third = fake_daemons.start(sqlite_url, "third", **env)
    assert _wait(lambda: _scalar(engine, "SELECT count(*) FROM reply_drafts") == total, 60), fake_daemons.log("third")
    third.send_signal(signal.SIGTERM)
    assert third.wait(15) == 0
    _assert_each_mention_once(engine, total)
    by_pid: dict[int, list[dict[str, Any]]] = {}
    for fetch in _fetches(fetch_log):
        by_pid.setdefault(fetch["pid"], []).append(fetch)
    assert by_pid[second.pid][0]["since"] == json.loads(cursor_after_term)["since"] > 0
    assert by_pid[third.pid][0]["since"] > 0  # resumed, not restarted from zero
    engine.dispose()


@pytest.mark.postgres
def test_three_daemons_survive_losing_the_leader(pg_url, fake_daemons, tmp_path) -> None:
    total, interval, fetch_log, start_file = 80, 1.0, tmp_path / "fetches.jsonl", tmp_path / "start"
    env = {"total": total, "every": 0.05, "start_file": str(start_file), "fetch_log": str(fetch_log),
           "interval": interval, "leader_retry": 0.3, "classify_delay": 0.02, "batch": 8}
    engine = create_db_engine(pg_url)
    procs = {p.pid: p for p in (fake_daemons.start(pg_url, f"d{i}", **env) for i in range(3))}

    def leader_pid() -> int | None:
        name = current_leader(engine)
        return int(name.rsplit(":", 1)[1]) if name else None

    assert _wait(lambda: leader_pid() in procs, 60), [fake_daemons.log(f"d{i}") for i in range(3)]
    assert _wait(lambda: all('"event": "daemon_started"' in fake_daemons.log(f"d{i}") for i in range(3)), 60)
    start_file.write_text(str(time.time()))  # the platform starts publishing: 80 mentions over 4 s
    stored = lambda: _scalar(engine, "SELECT count(*) FROM mentions")
    assert _wait(lambda: stored() >= 15, 20)

    old = leader_pid()
    assert old is not None
    procs[old].kill()  # SIGKILL: no cleanup; the lock goes with its database session
    killed_at, stored_at_kill = time.time(), stored()
    procs[old].wait(10)
    assert _wait(lambda: leader_pid() not in (None, old), 10)
    takeover = time.time() - killed_at
    new = leader_pid()
    assert _wait(lambda: any(f["pid"] == new and f["t"] > killed_at for f in _fetches(fetch_log)), 10)
    first_poll = min(f["t"] for f in _fetches(fetch_log) if f["pid"] == new and f["t"] > killed_at) - killed_at
    assert _wait(lambda: _scalar(engine, "SELECT count(*) FROM reply_drafts") == total, 40)

    fetches = _fetches(fetch_log)
    new_first = next(f for f in fetches if f["pid"] == new and f["t"] > killed_at)
    repeated = sum(f["upto"] - f["since"] for f in fetches) - total
    drafted_by = Counter(json.loads(line)["pid"] for i in range(3) for line in fake_daemons.log(f"d{i}").splitlines()
                         if line.startswith("{") and '"event": "pipeline"' in line)
    print(f"\n3 daemons on PostgreSQL: leader {old} SIGKILLed with {stored_at_kill}/{total} stored; "
          f"{new} took the lock after {takeover:.2f} s and polled {first_poll:.2f} s after the kill "
          f"(interval {interval:.0f} s), resuming at cursor {new_first['since']}; "
          f"mentions re-fetched: {repeated}; pipeline runs by pid: {dict(drafted_by)}")
    assert takeover < interval + 1.5 and first_poll < 2 * interval + 1.5
    assert stored_at_kill < total  # polling really continued under the new leader
    _assert_each_mention_once(engine, total)
    for pid, proc in procs.items():
        if pid != old:
            proc.send_signal(signal.SIGTERM)
    assert all(proc.wait(15) == 0 for pid, proc in procs.items() if pid != old)
    assert current_leader(engine) is None
    engine.dispose()
