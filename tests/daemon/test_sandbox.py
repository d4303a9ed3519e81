"""The daemon against the sandbox platform through the real connectors: ingest, draft, rate limits, send once."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from daemon_fakes import FakeClassifier
from sqlmodel import select

from social_care import models as m
from social_care.app import SocialCare
from social_care.config import Config
from social_care.daemon import Daemon, DaemonOptions, poll_job_id
from social_care.db import session_scope
from social_care.users import add_user


def _wait(predicate: Any, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def _fast(config: Config, seconds: float) -> Config:
    accounts = [a.model_copy(update={"poll_interval_seconds": seconds}) for a in config.settings.accounts]
    return Config(settings=config.settings.model_copy(update={"accounts": accounts}), path=config.path,
                  base_dir=config.base_dir)


def test_daemon_on_the_sandbox_ingests_drafts_honours_rate_limits_and_sends_once(
        tmp_path: Path, sqlite_url: str, sandbox_server: Any, sandbox_config_fn: Any) -> None:
    config = _fast(sandbox_config_fn(tmp_path, db_url=sqlite_url, sandbox_url=sandbox_server.base_url), 1.0)
    core = SocialCare(config, classifier=FakeClassifier())
    # X's mention timeline answers 429 once, resetting in 10 minutes: that account waits, the others go on.
    sandbox_server.faults.inject("rate_limit", count=1, platform="x", route="mentions", reset_in=600)
    daemon = Daemon(core, DaemonOptions(pipeline_seconds=0.3, send_seconds=0.5, poll_jitter_seconds=0,
                                        leader_retry_seconds=0.3, metrics_port=0))
    runner = threading.Thread(target=daemon.run, kwargs={"install_signals": False})
    runner.start()
    try:
        def drafted() -> int:
            return core.counts()["drafted"]

        def load_accounts() -> dict[str, m.Account]:
            with session_scope(core.engine) as session:
                return {a.name: a for a in session.exec(select(m.Account)).all()}

        # Every account polled at least once (on a busy machine X may come after the others' drafts).
        assert _wait(lambda: drafted() >= 10 and all(a.last_poll_at for a in load_accounts().values())), core.counts()
        accounts = load_accounts()
        x = accounts["aurora-x"]
        assert x.status == m.AccountStatus.RATE_LIMITED and x.next_poll_at > m.utcnow() + timedelta(minutes=9)
        job = daemon.scheduler.get_job(poll_job_id("aurora-x"))
        assert job.next_run_time >= x.next_poll_at - timedelta(seconds=1)  # not polled before the reset
        assert {accounts["aurora-facebook"].status, accounts["aurora-instagram"].status} == {m.AccountStatus.OK}

        # New mentions arrive on the platform between cycles and flow through without help.
        before = core.counts()["mentions"]
        sandbox_server.add_generated_mentions(4)
        assert _wait(lambda: core.counts()["mentions"] > before and
                     core.counts()["mentions"] - core.counts()["drafted"] <= _no_reply(core))

        # An approved draft is posted by the send job exactly once.
        add_user(core.engine, "paula", "approver")
        target = core.queue(state="drafted", limit=1)[0]
        core.approve(target.id, "paula")
        assert _wait(lambda: core.counts()["sent"] == 1)
        time.sleep(1.2)  # two more send runs: nothing is posted twice
        posted = [r for r in sandbox_server.state.brand_replies if r.text == target.draft_text]
        assert len(posted) == 1
        # The leader observes the reply's time to first response once.
        first_response = "social_care_time_to_first_response_seconds_count"
        assert _wait(lambda: daemon.metrics.registry.get_sample_value(first_response) == 1, 5)
        assert daemon.metrics.registry.get_sample_value("social_care_replies_total", {"outcome": "sent"}) == 1
    finally:
        daemon.request_stop("test over")
        runner.join(30)
        core.engine.dispose()
    assert not runner.is_alive()


def _no_reply(core: SocialCare) -> int:
    with session_scope(core.engine) as session:
        return len(session.exec(select(m.Mention).where(m.Mention.stage == m.MentionStage.NO_REPLY)).all())


def test_cli_run_checks_each_account_then_stops_cleanly_on_sigterm(
        tmp_path: Path, sqlite_url: str, sandbox_server: Any, sandbox_config_fn: Any, monkeypatch: Any) -> None:
    import logging
    import os
    import signal

    from typer.testing import CliRunner

    from social_care.cli import app
    from social_care.cli.common import state

    config = sandbox_config_fn(tmp_path, db_url=sqlite_url, sandbox_url=sandbox_server.base_url)
    monkeypatch.setattr("social_care.app.load_classifier", lambda *_a, **_k: FakeClassifier())
    ig_user = next(a for a in config.settings.accounts if a.platform == "instagram").options["ig_user_id"]
    # Instagram's token is refused once, at the start-up check: reported on its line, not fatal.
    sandbox_server.faults.inject("expired_token", count=1, platform="graph", route=rf"/{ig_user}$")
    root = logging.getLogger()
    saved = (list(root.handlers), root.level, signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT))
    engine_url = sqlite_url

    def stop_when_drafted() -> None:
        from social_care.db import create_db_engine

        engine = create_db_engine(engine_url)
        try:
            _wait(lambda: _count(engine) > 0, 60)
        finally:
            engine.dispose()
        os.kill(os.getpid(), signal.SIGTERM)

    killer = threading.Thread(target=stop_when_drafted, daemon=True)
    killer.start()
    try:
        result = CliRunner().invoke(app, ["--config", str(config.path), "run", "--metrics-port", "0",
                                          "--pipeline-interval", "0.5", "--leader-retry", "0.5"])
    finally:
        state.close()
        state.config_path = None
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        signal.signal(signal.SIGTERM, saved[2])
        signal.signal(signal.SIGINT, saved[3])
    killer.join(5)
    assert result.exit_code == 0, (result.output, result.exception)
    output = result.output
    assert "database: ok" in output and "model: ok (fake-classifier test)" in output
    assert "account aurora-x: ok: @" in output and "account aurora-facebook: ok: @" in output
    assert "account aurora-instagram: AuthError" in output  # reported, not fatal
    assert '"event": "daemon_stopped", "clean": true' in output


def _count(engine: Any) -> int:
    import sqlalchemy as sa

    with engine.connect() as connection:
        return int(connection.execute(sa.text("SELECT count(*) FROM reply_drafts")).scalar() or 0)
