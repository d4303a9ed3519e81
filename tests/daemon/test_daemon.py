"""The daemon in this process: cycles ingest -> classify -> draft, honours rate limits, serves health and metrics."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from daemon_fakes import FakeClassifier, FeedConnector, daemon_config
from sqlmodel import select
from typer.testing import CliRunner

from connectors import FetchResult, RateLimited
from social_care import models as m
from social_care.app import SocialCare
from social_care.daemon import AlreadyRunning, Daemon, DaemonOptions, poll_job_id
from social_care.db import DatabaseError, session_scope
from social_care.ingest import load_cursor

FAST: dict[str, Any] = {"pipeline_seconds": 0.2, "send_seconds": 0.5, "poll_jitter_seconds": 0,
                        "leader_retry_seconds": 0.2, "metrics_port": 0}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(predicate: Any, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


class Running:
    """A daemon on its own thread; stopped (and checked to stop cleanly) when the test ends."""

    def __init__(self, core: SocialCare, **options: Any) -> None:
        self.daemon = Daemon(core, DaemonOptions(**{**FAST, **options}))
        self.result: list[bool] = []
        self.thread = threading.Thread(target=lambda: self.result.append(self.daemon.run(install_signals=False)))

    def __enter__(self) -> Daemon:
        self.thread.start()
        assert _wait(lambda: self.daemon.scheduler.running and self.daemon.is_leader, 20)
        return self.daemon

    def __exit__(self, *exc: object) -> None:
        self.daemon.request_stop("test over")
        self.thread.join(20)
        assert not self.thread.is_alive() and self.result == [True]


@pytest.fixture
def core(sqlite_url: str, tmp_path: Path) -> Iterator[SocialCare]:
    core = SocialCare(daemon_config(sqlite_url, accounts=2, interval=0.5, base_dir=tmp_path),
                      classifier=FakeClassifier())
    yield core
    core.engine.dispose()


def test_daemon_cycles_ingest_classify_and_draft_and_reports_metrics(core: SocialCare) -> None:
    feeds = {i: FeedConnector(total=25, every=0.04, prefix=f"a{i}") for i in core.account_ids.values()}
    core.connector_for = feeds.__getitem__  # type: ignore[method-assign]
    port = _free_port()
    with Running(core, metrics_port=port, metrics_host="127.0.0.1") as daemon:
        assert _wait(lambda: core.counts()["drafted"] == 50, 30), core.counts()
        health = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).read())
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        assert health["status"] == "ok" and health["leader"] is True
        assert set(health["jobs"]) == {"pipeline", "send", "retention", "weekly-report", "poll:feed-0", "poll:feed-1"}
        weekly = daemon.scheduler.get_job("weekly-report").trigger
        assert "day_of_week='mon'" in str(weekly) and str(weekly.timezone) == "America/Sao_Paulo"
        assert daemon.metrics.registry.get_sample_value("social_care_mentions_ingested_total", {"platform": "x"}) == 50
    for name in ("social_care_mentions_ingested_total", "social_care_queue_size", "social_care_poll_errors",
                 "social_care_time_to_first_response_seconds", "social_care_classifier_latency_seconds_count",
                 "social_care_scheduler_leader 1.0"):
        assert name in metrics
    assert 'social_care_queue_size{queue="replies",state="drafted"} 50.0' in metrics
    with session_scope(core.engine) as session:
        for account_id in feeds:
            assert load_cursor(session, account_id, "mentions") == {"since": 25}
        polls = session.exec(select(m.Account)).all()
        assert all(a.status == m.AccountStatus.OK and a.last_success_at for a in polls)


class _LimitedOnce(FeedConnector):
    def __init__(self, reset_in: timedelta) -> None:
        super().__init__(total=3)
        self.reset_in, self.fetches = reset_in, 0

    def fetch(self, stream: str, cursor: dict[str, Any] | None) -> FetchResult:
        self.fetches += 1
        if self.fetches == 1:
            raise RateLimited("429 Too Many Requests", reset_at=m.utcnow() + self.reset_in)
        return super().fetch(stream, cursor)


def test_rate_limited_account_is_rescheduled_for_its_reset_time(core: SocialCare) -> None:
    limited, healthy = _LimitedOnce(timedelta(minutes=15)), FeedConnector(total=3, prefix="ok")
    ids = core.account_ids
    core.connector_for = {ids["feed-0"]: limited, ids["feed-1"]: healthy}.__getitem__  # type: ignore[method-assign]
    with Running(core) as daemon:
        assert _wait(lambda: limited.fetches == 1 and healthy.published() and core.counts()["mentions"] == 3)
        time.sleep(1.5)  # three intervals: the limited account must not be polled again
        job = daemon.scheduler.get_job(poll_job_id("feed-0"))
        assert limited.fetches == 1
        assert job.next_run_time > m.utcnow() + timedelta(minutes=14)
        with session_scope(core.engine) as session:
            row = session.get(m.Account, ids["feed-0"])
            assert row.status == m.AccountStatus.RATE_LIMITED
            assert abs((job.next_run_time - row.next_poll_at).total_seconds()) < 1


def test_restart_keeps_a_stored_reset_time(core: SocialCare) -> None:
    feed = FeedConnector(total=3)
    feed_fetch = feed.fetch
    calls: list[str] = []
    feed.fetch = lambda stream, cursor: calls.append(stream) or feed_fetch(stream, cursor)  # type: ignore[method-assign]
    ids = core.account_ids
    reset = m.utcnow() + timedelta(minutes=10)
    with session_scope(core.engine) as session:
        for account_id in ids.values():
            row = session.get(m.Account, account_id)
            row.status, row.next_poll_at = m.AccountStatus.RATE_LIMITED, reset
            session.add(row)
    core.connector_for = lambda _id: feed  # type: ignore[method-assign]
    with Running(core) as daemon:
        time.sleep(1.0)
        assert calls == []
        assert daemon.scheduler.get_job(poll_job_id("feed-0")).next_run_time >= reset - timedelta(seconds=1)


def test_second_daemon_on_the_same_sqlite_file_is_refused(core: SocialCare, sqlite_url: str, tmp_path: Path) -> None:
    core.connector_for = lambda _id: FeedConnector(total=0)  # type: ignore[method-assign]
    other = SocialCare(daemon_config(sqlite_url, base_dir=tmp_path), classifier=FakeClassifier())
    refused = r"another `social-care run` \(pid \d+\) is already using"
    with Running(core), pytest.raises(AlreadyRunning, match=refused):
        Daemon(other, DaemonOptions(**FAST)).start()
    second = Daemon(other, DaemonOptions(**FAST))
    second.start()  # the first one stopped: the lock is free again
    assert second.shutdown()
    other.engine.dispose()


def _cli_config(tmp_path: Path, db_url: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({
        "brand": {"name": "Loja Aurora", "handles": {"x": "lojaaurora"}},
        "database": {"url": db_url},
        "accounts": [{"name": "feed-0", "platform": "x", "options": {"user_id": "1500"}}],
    }), encoding="utf-8")
    return path


def _cli(*args: str) -> Any:
    from social_care.cli import app
    from social_care.cli.common import state

    root = logging.getLogger()
    saved = (list(root.handlers), root.level)  # `run` installs its own log handler
    try:
        return CliRunner().invoke(app, list(args))
    finally:
        state.close()
        state.config_path = None
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


def test_status_json_shows_accounts_and_backlog(core: SocialCare, sqlite_url: str, tmp_path: Path) -> None:
    feeds = {i: FeedConnector(total=4, prefix=f"s{i}") for i in core.account_ids.values()}
    core.connector_for = feeds.__getitem__  # type: ignore[method-assign]
    core.poll()  # stored, not yet classified: the backlog
    result = _cli("--config", str(_cli_config(tmp_path, sqlite_url)), "status", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    (account,) = data["accounts"]
    assert account["account"] == "feed-0" and account["status"] == "ok" and account["last_success_at"]
    assert account["next_poll_at"] and account["error"] is None
    assert account["backlog"]["unclassified"] == 4 and data["backlog"]["unclassified"] == 8
    assert data["daemon"] == {"database": "sqlite", "scheduler_leader": None, "running": False}
    table = _cli("--config", str(_cli_config(tmp_path, sqlite_url)), "status")
    assert table.exit_code == 0 and "feed-0" in table.output and "not running" in table.output


def test_run_refuses_an_unmigrated_database_with_the_fix(tmp_path: Path) -> None:
    result = _cli("--config", str(_cli_config(tmp_path, f"sqlite:///{tmp_path / 'empty.db'}")), "run",
                  "--metrics-port", "0")
    assert isinstance(result.exception, DatabaseError)
    assert "social-care db upgrade" in str(result.exception)


def test_health_is_503_once_stopping(core: SocialCare) -> None:
    core.connector_for = lambda _id: FeedConnector(total=0)  # type: ignore[method-assign]
    port = _free_port()
    daemon = Daemon(core, DaemonOptions(**{**FAST, "metrics_port": port, "metrics_host": "127.0.0.1"}))
    daemon.start()  # no run loop: nothing but this test reacts to the stop flag
    try:
        url = f"http://127.0.0.1:{port}/healthz"
        assert json.loads(urllib.request.urlopen(url, timeout=5).read())["status"] == "ok"
        daemon.stop_event.set()  # what SIGTERM does first: a load balancer stops sending work at once
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(url, timeout=5)
        assert info.value.code == 503 and json.loads(info.value.read())["stopping"] is True
    finally:
        assert daemon.shutdown()


def test_forget_command_erases_and_records_the_request(core: SocialCare, sqlite_url: str, tmp_path: Path) -> None:
    core.connector_for = lambda _id: FeedConnector(total=3, prefix="f")  # type: ignore[method-assign]
    core.poll("feed-0")
    config = str(_cli_config(tmp_path, sqlite_url))
    result = _cli("--config", config, "forget", "--author", "@cliente1", "--yes", "--actor", "dpo")
    assert result.exit_code == 0, result.output
    assert "erased @cliente1: 1 mentions" in result.output
    with session_scope(core.engine) as session:
        audit = session.exec(select(m.AuditEvent)).one()
        texts = {x.text for x in session.exec(select(m.Mention)).all()}
    assert audit.action == "forget_author" and audit.actor == "dpo" and audit.detail["mentions"] == 1
    assert "[erased on request]" in texts and len(texts) == 3
    bad = _cli("--config", config, "forget", "--author", "x", "--platform", "myspace", "--yes")
    assert isinstance(bad.exception, ValueError) and "--platform must be one of" in str(bad.exception)


def test_run_command_refuses_a_second_daemon_on_sqlite_before_loading_the_model(
        core: SocialCare, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    core.connector_for = lambda _id: FeedConnector(total=0)  # type: ignore[method-assign]

    def no_model(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the model must not load when the daemon is refused")

    monkeypatch.setattr("social_care.app.load_classifier", no_model)
    with Running(core):
        result = _cli("--config", str(_cli_config(tmp_path, sqlite_url)), "run", "--metrics-port", "0")
    assert isinstance(result.exception, AlreadyRunning), result.output
    assert "SQLite allows one daemon" in str(result.exception)
