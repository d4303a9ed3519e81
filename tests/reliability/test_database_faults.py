"""Database faults: PostgreSQL connections killed mid-run (a server restart, as the daemon sees it) and a
SQLite file locked by another process; the work continues or fails cleanly, and nothing is lost.

The PostgreSQL server is shared, so it is never restarted: every backend of the test's own database
is terminated instead (``pg_terminate_backend``), which is what a restart does to the daemon's pool.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from daemon_fakes import FakeClassifier

from social_care.app import SocialCare

from .conftest import (
    LONG,
    SMALL_PAGES,
    SandboxDaemon,
    Tally,
    fast_accounts,
    poll_until_quiet,
    scalar,
    stored_mentions,
    wait_for,
)


def _reference(tmp_path: Path, server: Any, config_fn: Any) -> set[tuple[str, str]]:
    core = SocialCare(config_fn(tmp_path / "ref", db_url=f"sqlite:///{tmp_path / 'ref.db'}", sandbox_url=server.base_url))
    core.upgrade_db()
    poll_until_quiet(core)
    core.engine.dispose()
    return set(stored_mentions(core))


def _drafted_all(core: SocialCare, expected: set[tuple[str, str]]) -> bool:
    return (set(stored_mentions(core)) >= expected
            and scalar(core.engine, "SELECT count(*) FROM mentions WHERE stage <> 'drafted' AND is_own = :f", f=False) == 0)


@pytest.mark.postgres
def test_postgres_backends_terminated_mid_run(tmp_path, pg_url, sandbox_server, sandbox_config_fn, daemons) -> None:
    """A daemon on PostgreSQL loses every connection several times while polling and drafting; it carries on."""
    tally = Tally("database faults: PostgreSQL backends terminated")
    sandbox_server.add_generated_mentions(120 if LONG else 40)
    expected = _reference(tmp_path, sandbox_server, sandbox_config_fn)
    config = fast_accounts(sandbox_config_fn(tmp_path, db_url=pg_url, sandbox_url=sandbox_server.base_url,
                                             options=SMALL_PAGES), interval=0.3)
    core = SocialCare(config)
    log = tmp_path / "daemon.log"
    database = sa.engine.make_url(pg_url).database
    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    daemons.append(daemon := SandboxDaemon(config, log, classify_delay=0.05))
    assert wait_for(lambda: scalar(core.engine, "SELECT count(*) FROM mentions") > 5, 30), log.read_text()[-2000:]
    for _ in range(12 if LONG else 4):
        with admin.connect() as connection:
            killed = connection.execute(sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = :db AND pid <> pg_backend_pid()"), {"db": database}).scalar_one()
        tally.faults += int(killed)
        tally.cases += 1
        time.sleep(0.8)
        assert daemon.alive(), log.read_text()[-3000:]
    core.engine.dispose()  # this test's own pooled connections were terminated too
    assert wait_for(lambda: _drafted_all(core, expected), 90, step=0.3), log.read_text()[-3000:]
    assert daemon.alive(), "the daemon died when its connections were terminated"
    assert daemon.stop() == 0, log.read_text()[-3000:]
    stored = stored_mentions(core)
    tally.lost = len(expected - set(stored))
    tally.doubled = len(stored) - len(set(stored))
    tally.crashes = 0 if '"event": "daemon_stopped", "clean": true' in log.read_text() else 1
    tally.emit()
    assert tally.faults >= tally.cases, "no backend was terminated: the test did not test anything"
    assert tally.lost == 0 and tally.doubled == 0 and tally.crashes == 0, tally.line()
    assert scalar(core.engine, "SELECT count(*) FROM reply_drafts") == \
        scalar(core.engine, "SELECT count(DISTINCT mention_id) FROM reply_drafts")
    core.engine.dispose()
    admin.dispose()


LOCKER = textwrap.dedent("""
    import sqlite3, sys, time
    db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
    db.execute("BEGIN EXCLUSIVE")
    print("LOCKED", flush=True)
    time.sleep(float(sys.argv[2]))
    db.execute("COMMIT")
    print("RELEASED", flush=True)
""")


def _lock(path: Path, seconds: float) -> subprocess.Popen[str]:
    locker = subprocess.Popen([sys.executable, "-c", LOCKER, str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert locker.stdout is not None and locker.stdout.readline().strip() == "LOCKED"
    return locker


def test_sqlite_locked_by_another_process(tmp_path, sandbox_server, sandbox_config_fn) -> None:
    """Poll, classify and draft while another process holds BEGIN EXCLUSIVE: each waits or fails cleanly."""
    tally = Tally("database faults: SQLite locked")
    sandbox_server.add_generated_mentions(20)
    expected = _reference(tmp_path, sandbox_server, sandbox_config_fn)
    path = tmp_path / "locked.db"
    config = sandbox_config_fn(tmp_path, db_url=f"sqlite:///{path}", sandbox_url=sandbox_server.base_url,
                               options=SMALL_PAGES)
    core = SocialCare(config, classifier=FakeClassifier())
    core.upgrade_db()
    core.poll()  # some mentions stored and waiting to be classified when the lock comes
    outcomes: list[str] = []
    for round_ in range(3 if LONG else 1):
        for step in ("poll", "classify", "draft"):
            locker = _lock(path, 2.0)
            started = time.monotonic()
            try:
                if step == "poll":
                    reports = core.poll()
                    outcome = ",".join(sorted({r.status.value for r in reports}))
                elif step == "classify":
                    outcome = f"ok {core.classify_pending()}"
                else:
                    outcome = f"ok {core.draft_pending()}"
            except sa.exc.OperationalError as exc:
                outcome = "OperationalError: " + str(exc.orig)[:40]  # a clean failure: rolled back, retried next run
            except Exception as exc:  # noqa: BLE001 - anything else is the finding
                tally.crashes += 1
                outcome = f"UNEXPECTED {type(exc).__name__}: {exc}"
            waited = time.monotonic() - started
            locker.wait(10)
            outcomes.append(f"{step}: {outcome} after {waited:.1f} s")
            tally.cases += 1
            tally.faults += 1
        core.poll()
    # The lock is gone: the next runs complete.
    poll_until_quiet(core)
    for _ in range(10):
        core.classify_pending()
        core.draft_pending()
    stored = stored_mentions(core)
    tally.lost = len(expected - set(stored))
    tally.doubled = len(stored) - len(set(stored))
    tally.emit()
    print("  " + "; ".join(outcomes))
    assert tally.crashes == 0, outcomes
    assert tally.lost == 0 and tally.doubled == 0, tally.line()
    assert scalar(core.engine, "SELECT count(*) FROM mentions WHERE stage <> 'drafted' AND is_own = :f", f=False) == 0
    assert scalar(core.engine, "SELECT count(*) FROM mentions WHERE stage = 'new'") == 0
    assert scalar(core.engine, "SELECT count(*) FROM classifications") == \
        scalar(core.engine, "SELECT count(DISTINCT mention_id) FROM classifications")
    core.engine.dispose()
