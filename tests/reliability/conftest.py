"""Reliability fixtures: the long/short switch, a one-line tally, forked daemons on the sandbox, DB helpers.

The short version of every suite runs by default (CI); ``SOCIAL_CARE_LONG=1`` or the tests marked
``slow`` (``make test-long``) scale the iterations up.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import select

from social_care import models as m
from social_care.app import SocialCare
from social_care.config import Config
from social_care.db import session_scope

DAEMON_TESTS = Path(__file__).resolve().parents[1] / "daemon"
if str(DAEMON_TESTS) not in sys.path:
    sys.path.insert(0, str(DAEMON_TESTS))  # daemon_fakes.FakeClassifier, shared with the daemon tests

LONG = os.environ.get("SOCIAL_CARE_LONG") == "1"

# Small pages and no in-call retries: many fetch/commit steps to break, and the poll loop does the retrying.
SMALL_PAGES: dict[str, dict[str, Any]] = {
    "x": {"page_size": 10, "max_pages_per_poll": 1, "max_retries": 0},
    "facebook": {"page_size": 5, "max_pages_per_poll": 1, "max_retries": 0},
    "instagram": {"page_size": 5, "max_pages_per_poll": 1, "max_retries": 0},
}


@dataclass
class Tally:
    """What a reliability test tried and what went wrong; printed as one line (pytest -s)."""

    suite: str
    cases: int = 0
    faults: int = 0
    lost: int = 0
    doubled: int = 0
    crashes: int = 0

    def line(self) -> str:
        return (f"[{self.suite}] cases tried {self.cases}, faults injected {self.faults}, items lost {self.lost}, "
                f"items doubled {self.doubled}, crashes {self.crashes}")

    def emit(self) -> None:
        print("\n" + self.line())


def scalar(engine: sa.engine.Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as connection:
        return connection.execute(sa.text(sql), params).scalar()


def wait_for(predicate: Callable[[], bool], timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def stored_mentions(core: SocialCare) -> list[tuple[str, str]]:
    with session_scope(core.engine) as session:
        return sorted(session.exec(select(m.Mention.platform, m.Mention.external_id)).all())  # type: ignore[arg-type]


def release_next_polls(core: SocialCare) -> None:
    """Faults push the next poll into the future; the tests do not wait for it."""
    with session_scope(core.engine) as session:
        session.execute(sa.update(m.Account).values(next_poll_at=None))


def poll_until_quiet(core: SocialCare, rounds: int = 80, *, catch: tuple[type[BaseException], ...] = ()) -> int:
    """Poll every account until two clean polls store nothing; returns how many polls raised ``catch``."""
    crashes = quiet = 0
    for _ in range(rounds):
        try:
            reports = core.poll()
        except catch:
            crashes += 1
            quiet = 0
            continue
        clean = all(p.status == m.AccountStatus.OK for p in reports)
        quiet = quiet + 1 if clean and sum(p.stored for p in reports) == 0 else 0
        if quiet >= 2:
            break
        release_next_polls(core)
    return crashes


def fast_accounts(config: Config, interval: float) -> Config:
    """The schema's minimum poll interval is 5 s; the daemons under test poll faster."""
    accounts = [a.model_copy(update={"poll_interval_seconds": interval}) for a in config.settings.accounts]
    return Config(settings=config.settings.model_copy(update={"accounts": accounts}), path=config.path,
                  base_dir=config.base_dir)


def _daemon_child(config: Config, log_path: str, classify_delay: float) -> None:
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115 - the process's own stdout
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
    code = 1
    try:
        from daemon_fakes import FakeClassifier

        from social_care.daemon import Daemon, DaemonOptions, check_startup, setup_logging

        core = SocialCare(config, classifier=FakeClassifier(delay=classify_delay))
        setup_logging("INFO", json_lines=True)
        options = DaemonOptions(pipeline_seconds=0.2, send_seconds=0.25, poll_jitter_seconds=0,
                                leader_retry_seconds=0.3, metrics_port=0, batch_limit=6, send_limit=5,
                                shutdown_timeout_seconds=5)
        # What `social-care run` does before running: the instance lock, then the start-up checks,
        # whose passing accounts are polled even if a previous run flagged them for re-authentication.
        daemon = Daemon(core, options)
        daemon.claim_instance()
        daemon.reauth_retry = check_startup(core, print, load_model=False)
        code = 0 if daemon.run() else 1
    finally:
        sys.stdout.flush()
        os._exit(code)  # skip the test process's atexit handlers, inherited by the fork


class SandboxDaemon:
    """A real Daemon (scheduler, leader lock, poller, pipeline, sender) on the sandbox, in a forked process.

    Fork, not spawn: the test process already imported everything, so a restart costs milliseconds,
    which is what makes hundreds of kill -9 affordable. The classifier is the daemon tests' fast fake.
    """

    def __init__(self, config: Config, log_path: Path, *, classify_delay: float = 0.02) -> None:
        context = multiprocessing.get_context("fork")
        self._process = context.Process(target=_daemon_child, args=(config, str(log_path), classify_delay))
        self._process.start()
        self.pid: int = self._process.pid  # type: ignore[assignment]

    def alive(self) -> bool:
        return self._process.exitcode is None

    def kill(self) -> None:
        """kill -9: no handler runs, no transaction commits."""
        if self.alive():
            os.kill(self.pid, signal.SIGKILL)
        self._process.join(10)

    def stop(self, timeout: float = 15) -> int | None:
        if self.alive():
            os.kill(self.pid, signal.SIGTERM)
        self._process.join(timeout)
        if self._process.exitcode is None:
            self.kill()
        return self._process.exitcode


@pytest.fixture
def daemons() -> Iterator[list[SandboxDaemon]]:
    """Started daemons register here; none outlives the test."""
    started: list[SandboxDaemon] = []
    yield started
    for daemon in started:
        daemon.kill()


# --- the web inbox: the helpers of tests/web/conftest.py, loaded by path (its module is also named conftest) ---

import importlib.util

from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from social_care import users as _users

_spec = importlib.util.spec_from_file_location("web_test_helpers", Path(__file__).resolve().parents[1] / "web" / "conftest.py")
assert _spec and _spec.loader
web = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(web)


@pytest.fixture
def web_core(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scripted: Any) -> Iterator[SocialCare]:
    """A team (viewer vera, agent alex, approvers paula and rui, admin ada) on SQLite, a scripted sender."""
    # Argon2 at production cost is ~0.5 s per hash on a shared core; these tests are about the web layer.
    monkeypatch.setattr(_users, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    from social_care.db import create_db_engine, upgrade

    engine = create_db_engine(f"sqlite:///{tmp_path / 'web.db'}")
    upgrade(engine)
    web.add_team(engine)
    core = SocialCare(web.web_config(), engine=engine)
    connector = scripted()
    core.__dict__["connector_for"] = lambda account_id: connector
    core.__dict__["scripted_connector"] = connector
    yield core
    engine.dispose()


@pytest.fixture
def web_app(web_core: SocialCare) -> Any:
    from social_care.web import create_app

    return create_app(web_core)


@pytest.fixture
def as_user(web_app: Any) -> Iterator[Callable[[str], Any]]:
    """A logged-in client per user name: ``as_user("paula")`` (a tests/web Browser)."""
    clients: list[TestClient] = []

    def login(name: str) -> Any:
        client = TestClient(web_app, raise_server_exceptions=False)
        clients.append(client)
        browser = web.Browser(client)
        assert browser.login(name).status_code == 303
        return browser

    yield login
    for client in clients:
        client.close()
