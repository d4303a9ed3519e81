"""Leader election on PostgreSQL: one leader at a time; a leader whose lock session dies steps down at once."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import sqlalchemy as sa
from daemon_fakes import FakeClassifier, FeedConnector, daemon_config

from social_care.app import SocialCare
from social_care.daemon import Daemon, DaemonOptions, current_leader, poll_job_id
from social_care.daemon.leadership import PostgresLeadership

pytestmark = pytest.mark.postgres

FAST: dict[str, Any] = {"pipeline_seconds": 0.2, "send_seconds": 0.5, "poll_jitter_seconds": 0,
                        "leader_retry_seconds": 0.2, "metrics_port": 0}


def _wait(predicate: Any, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_only_one_session_holds_the_lock_and_release_hands_it_over(pg_url: str) -> None:
    engine = sa.create_engine(pg_url)
    first, second = PostgresLeadership(engine), PostgresLeadership(engine)
    try:
        assert first.try_acquire() is True
        assert second.try_acquire() is False and first.try_acquire() is True  # confirming keeps it
        assert current_leader(engine).startswith("social-care-scheduler ")
        first.release()
        assert second.try_acquire() is True
    finally:
        first.release()
        second.release()
        engine.dispose()
    engine = sa.create_engine(pg_url)
    assert current_leader(engine) is None
    engine.dispose()


def test_a_leader_whose_lock_session_is_killed_steps_down_and_one_daemon_leads(pg_url: str) -> None:
    cores = [SocialCare(daemon_config(pg_url, interval=0.5), classifier=FakeClassifier()) for _ in range(2)]
    feed = FeedConnector(total=5)
    for core in cores:
        core.connector_for = lambda _id: feed  # type: ignore[method-assign]
    daemons = [Daemon(core, DaemonOptions(**FAST)) for core in cores]
    threads = [threading.Thread(target=d.run, kwargs={"install_signals": False}) for d in daemons]
    for thread in threads:
        thread.start()
    try:
        def settled() -> bool:  # one leader, and only the leader has the poll jobs (added just after it won)
            return sum(d.is_leader for d in daemons) == 1 and all(
                (d.scheduler.get_job(poll_job_id("feed-0")) is not None) == d.is_leader for d in daemons)

        assert _wait(settled)
        follower = next(d for d in daemons if not d.is_leader)
        assert {j.id for j in follower.scheduler.get_jobs()} == {"pipeline", "send"}  # followers still work

        with cores[0].engine.connect() as connection:  # an admin (or a network cut) ends the lock's session
            connection.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted"))
            connection.commit()
        # Within a retry the old leader notices, drops its poll jobs, and exactly one daemon leads again
        # (a new term: either the follower took over or the old leader re-took the free lock).
        def terms() -> float:
            return sum(d.metrics.registry.get_sample_value("social_care_scheduler_leader_acquired_total") or 0
                       for d in daemons)

        assert _wait(lambda: terms() == 2 and settled(), 5)
        assert current_leader(cores[0].engine) is not None
    finally:
        for d in daemons:
            d.request_stop("test over")
        for thread in threads:
            thread.join(20)
        for core in cores:
            core.engine.dispose()
    assert not any(t.is_alive() for t in threads)
