"""Database faults: PostgreSQL restarted mid-run, its connections killed mid-run, and a SQLite file
locked by another process; the work continues or fails cleanly, and nothing is lost.

The shared PostgreSQL server (the other tests' databases live there) is never restarted: the restart
test runs its own throw-away cluster (initdb from the same installation, on a free port) and stops
and starts that one, so the daemon also meets refused connections, not only dropped ones. The
termination test kills every backend of its own database on the shared server
(``pg_terminate_backend``).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from daemon_fakes import FakeClassifier

from social_care.app import SocialCare
from social_care.db import create_db_engine, upgrade

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


class PrivateCluster:
    """A PostgreSQL cluster of the test's own: initdb, start, stop and start again, remove."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.dir = Path(tempfile.mkdtemp(prefix="sc-pg-"))  # not under tmp_path: the server user must reach it
        self.data, self.log = self.dir / "data", self.dir / "server.log"
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/faults"
        self._as_user: list[str] = []
        if os.geteuid() == 0:  # initdb refuses to run as root
            shutil.chown(self.dir, "postgres")
            self._as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self._as_user, str(self.bindir / tool), *args], check=True, capture_output=True, timeout=60)

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.start()
        admin = sa.create_engine(self.url.replace("/faults", "/postgres"), isolation_level="AUTOCOMMIT",
                                 poolclass=sa.pool.NullPool)
        with admin.connect() as connection:
            connection.execute(sa.text("CREATE DATABASE faults"))
        admin.dispose()
        engine = create_db_engine(self.url)
        upgrade(engine)
        engine.dispose()

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def private_cluster() -> Iterator[PrivateCluster]:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    pg_config = shutil.which("pg_config")
    if not found and pg_config:
        found = [str(Path(subprocess.run([pg_config, "--bindir"], check=False, capture_output=True, text=True).stdout.strip()) / "initdb")]
    why = None
    if not found or not Path(found[-1]).exists():
        why = "PostgreSQL's server programs (initdb, pg_ctl) are not installed"
    elif os.geteuid() == 0 and not (shutil.which("runuser") and _has_user("postgres")):
        why = "running as root without a postgres user to run the server as"
    if why:
        if os.environ.get("SOCIAL_CARE_REQUIRE_PG") == "1":
            pytest.fail(f"PostgreSQL is required (SOCIAL_CARE_REQUIRE_PG=1) but {why}")
        pytest.skip(why)
    cluster = PrivateCluster(Path(found[-1]).parent)
    try:
        cluster.init()
        yield cluster
    finally:
        cluster.remove()


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@pytest.mark.postgres
def test_postgres_restarted_mid_run(tmp_path, private_cluster, sandbox_server, sandbox_config_fn, daemons) -> None:
    """The daemon's PostgreSQL server stops (refusing connections for a while) and starts again, several
    times while the daemon polls and drafts; the daemon carries on and nothing is lost or doubled."""
    tally = Tally("database faults: PostgreSQL restarted")
    sandbox_server.add_generated_mentions(120 if LONG else 40)
    expected = _reference(tmp_path, sandbox_server, sandbox_config_fn)
    config = fast_accounts(sandbox_config_fn(tmp_path, db_url=private_cluster.url, sandbox_url=sandbox_server.base_url,
                                             options=SMALL_PAGES), interval=0.3)
    core = SocialCare(config)
    log = tmp_path / "daemon.log"
    daemons.append(daemon := SandboxDaemon(config, log, classify_delay=0.05))
    assert wait_for(lambda: scalar(core.engine, "SELECT count(*) FROM mentions") > 5, 30), log.read_text()[-2000:]
    core.engine.dispose()
    for _ in range(6 if LONG else 2):
        private_cluster.stop()
        tally.faults += 1
        time.sleep(1.5)  # down: every poll, claim and commit of the daemon is refused meanwhile
        assert daemon.alive(), log.read_text()[-3000:]
        private_cluster.start()
        tally.cases += 1
        time.sleep(1.0)
    assert wait_for(lambda: _drafted_all(core, expected), 90, step=0.3), log.read_text()[-3000:]
    assert daemon.alive(), "the daemon died when its database restarted"
    assert "Connection refused" in log.read_text(), "the daemon never met the stopped server: nothing was tested"
    assert daemon.stop() == 0, log.read_text()[-3000:]
    stored = stored_mentions(core)
    tally.lost = len(expected - set(stored))
    tally.doubled = len(stored) - len(set(stored))
    tally.crashes = 0 if '"event": "daemon_stopped", "clean": true' in log.read_text() else 1
    tally.emit()
    assert tally.lost == 0 and tally.doubled == 0 and tally.crashes == 0, tally.line()
    assert scalar(core.engine, "SELECT count(*) FROM reply_drafts") == \
        scalar(core.engine, "SELECT count(DISTINCT mention_id) FROM reply_drafts")
    core.engine.dispose()


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
