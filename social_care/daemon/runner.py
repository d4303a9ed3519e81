"""The daemon: an APScheduler that polls (leader only), classifies, drafts and sends, until told to stop.

Jobs (in-memory job store; their state lives in our tables, so nothing is shared between processes):

* ``poll:<account>`` - leader only, one per enabled account, every ``poll_interval_seconds`` plus
  jitter; one poll covers all of the account's streams. An account that is rate-limited, out of
  budget or backing off is deferred to ``accounts.next_poll_at``; one needing re-authentication is
  skipped.
* ``pipeline`` - every process: classify then draft new mentions, in bounded steps, until none left.
* ``send`` - every process: post approved replies (exactly once, see :mod:`social_care.replies`).
* ``retention`` - leader only, daily: drop raw payloads older than ``retention_days``.
* ``weekly-report`` - leader only, Mondays 06:00 brand time, when :mod:`social_care.reports` is installed.

The main thread owns leadership: every ``leader_retry_seconds`` it takes or confirms the scheduler
lock and adds or removes the leader-only jobs accordingly.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Self

import sqlalchemy as sa
from apscheduler.events import EVENT_JOB_MAX_INSTANCES, JobSubmissionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlmodel import select

from social_care import models as m
from social_care.app import SocialCare
from social_care.daemon.http import OpsServer
from social_care.daemon.leadership import Leadership, PostgresLeadership, SqliteSingleInstance
from social_care.daemon.logs import quiet_busy_run_warnings
from social_care.daemon.metrics import DaemonMetrics, TimedClassifier
from social_care.daemon.options import DaemonOptions, options_from_config
from social_care.daemon.retention import purge_raw_payloads
from social_care.db import is_postgres, session_scope
from social_care.ingest import poll_account
from social_care.pipeline import classify_pending, draft_pending
from social_care.replies import send_approved

log = logging.getLogger(__name__)

PIPELINE, SEND, RETENTION, WEEKLY_REPORT = "pipeline", "send", "retention", "weekly-report"
_BACKOFF_STATES = (m.AccountStatus.RATE_LIMITED, m.AccountStatus.BUDGET_EXHAUSTED, m.AccountStatus.ERROR)


FAILED_RETRY_AFTER = timedelta(minutes=5)


def poll_job_id(account: str) -> str:
    return f"poll:{account}"


def _error_class(error: str) -> str:
    return error.split(":", 1)[0].strip() or "Error"


class Daemon:
    """One daemon process. ``run()`` blocks until SIGTERM/SIGINT or :meth:`request_stop`."""

    def __init__(self, core: SocialCare, options: DaemonOptions | None = None) -> None:
        self.core = core
        self.options = options or options_from_config(core.config.settings.daemon)
        self.engine = core.engine
        self.metrics = DaemonMetrics(self.engine)
        self.stop_event = threading.Event()
        self.leadership: Leadership = (PostgresLeadership(self.engine) if is_postgres(self.engine)
                                       else SqliteSingleInstance(self.engine))
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(self.options.workers)},
            job_defaults={"coalesce": True, "max_instances": 1},
        )
        self.scheduler.add_listener(self._on_busy, EVENT_JOB_MAX_INSTANCES)
        quiet_busy_run_warnings()
        self.is_leader = False
        self.leader_since: datetime | None = None
        self.reauth_retry: set[str] = set()  # accounts whose credentials passed the start-up check
        self._reauth_reported: set[str] = set()
        self._classifier: TimedClassifier | None = None
        self._ops: OpsServer | None = None
        self._last_posted_id: int | None = None
        self._db_ok_at: float | None = None
        self._db_error: str | None = None
        self._started = False

    # --- lifecycle -------------------------------------------------------------------------------

    @property
    def classifier(self) -> TimedClassifier:
        if self._classifier is None:
            self._classifier = TimedClassifier(self.core.classifier, self.metrics)
        return self._classifier

    @property
    def ops_port(self) -> int | None:
        return self._ops.port if self._ops else None

    def start(self) -> None:
        """Take the instance lock (SQLite), serve /healthz and /metrics, start the shared jobs, try to lead."""
        self.claim_instance()
        try:
            self._sync_accounts()
            if self.options.metrics_port:
                self._ops = OpsServer(self.options.metrics_host, self.options.metrics_port,
                                      self.metrics.registry, self.health).start()
            self.scheduler.start()
            self._add(PIPELINE, self._pipeline_job, self.options.pipeline_seconds)
            self._add(SEND, self._send_job, self.options.send_seconds)
            self._started = True
            self.tick()
        except BaseException:
            self.leadership.release()
            raise
        log.info("daemon started (pid %d, %s)", os.getpid(), "leader" if self.is_leader else "follower",
                 extra={"event": "daemon_started", "leader": self.is_leader, "ops_port": self.ops_port})

    def claim_instance(self) -> None:
        """On SQLite, take the one-daemon lock now (raises AlreadyRunning); a no-op on PostgreSQL or when held.

        `run` calls it before the slow start-up checks, so a second daemon is refused at once.
        """
        if isinstance(self.leadership, SqliteSingleInstance) and not self.leadership.is_leader:
            self.leadership.acquire()

    def _sync_accounts(self) -> None:
        """Make sure every configured account has its row; retried because daemons started together race.

        ``sync_accounts`` selects then inserts, so two processes starting at once on a fresh database
        can both insert the same account; the loser's retry finds the winner's row.
        """
        for attempt in range(5):
            try:
                self.core.account_ids  # noqa: B018 - a cached property: computed once, here
                return
            except sa.exc.IntegrityError:
                if attempt == 4:
                    raise
                time.sleep(0.1 * (attempt + 1))

    def run(self, *, install_signals: bool = True) -> bool:
        """Start, then keep leadership current until asked to stop. Returns whether the stop was clean."""
        if install_signals:
            self.install_signal_handlers()
        self.start()
        while not self.stop_event.wait(self.options.leader_retry_seconds):
            self.tick()
        return self.shutdown()

    def install_signal_handlers(self) -> None:
        def handler(signum: int, _frame: Any) -> None:
            self.request_stop(signal.Signals(signum).name)

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def request_stop(self, reason: str = "requested") -> None:
        if not self.stop_event.is_set():
            log.info("stopping (%s): finishing the running step", reason, extra={"event": "daemon_stopping"})
        self.stop_event.set()

    def shutdown(self) -> bool:
        """Stop scheduling, let running jobs finish their step (bounded), release the lock. True if clean."""
        self.stop_event.set()
        clean = True
        if self._started:
            stopper = threading.Thread(target=self.scheduler.shutdown, kwargs={"wait": True}, name="scheduler-stop")
            stopper.start()
            stopper.join(self.options.shutdown_timeout_seconds)
            clean = not stopper.is_alive()
            if not clean:
                log.error("a job did not finish within %.0f s; exiting anyway (its transaction rolls back)",
                          self.options.shutdown_timeout_seconds)
            self._started = False
        self._set_leader(False)
        self.leadership.release()
        if self._ops is not None:
            self._ops.stop()
            self._ops = None
        log.info("daemon stopped", extra={"event": "daemon_stopped", "clean": clean})
        return clean

    # --- leadership ------------------------------------------------------------------------------

    def tick(self) -> None:
        """Confirm the database answers, take or confirm leadership, keep leader-only jobs in step."""
        try:
            with self.engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
            self._db_ok_at, self._db_error = time.monotonic(), None
        except sa.exc.SQLAlchemyError as exc:
            self._db_error = f"{type(exc).__name__}: {str(getattr(exc, 'orig', exc)).strip().splitlines()[0]}"
            log.warning("database check failed: %s", self._db_error)
        if self.stop_event.is_set():
            return
        self._set_leader(self.leadership.try_acquire())
        if self.is_leader:
            self._observe_first_responses()

    def _set_leader(self, leader: bool) -> None:
        if leader == self.is_leader:
            return
        self.is_leader = leader
        self.metrics.leader.set(1 if leader else 0)
        if leader:
            self.metrics.leader_acquired.inc()
            self.leader_since = m.utcnow()
            log.info("became the scheduler leader", extra={"event": "leader_acquired"})
            self._add_leader_jobs()
        else:
            self.leader_since = None
            if self.stop_event.is_set():
                log.info("handing over the scheduler lock", extra={"event": "leader_released"})
            else:
                log.warning("no longer the scheduler leader", extra={"event": "leader_lost"})
            for job in self.scheduler.get_jobs():
                if job.id not in (PIPELINE, SEND):
                    job.remove()

    def _add(self, job_id: str, func: Callable[..., None], seconds: float, *, args: tuple[Any, ...] = (),
             jitter: float | None = None, first: datetime | None = None) -> None:
        self.scheduler.add_job(
            func, IntervalTrigger(seconds=seconds, jitter=jitter), args=args, id=job_id, name=job_id,
            replace_existing=True, coalesce=True, max_instances=1,
            misfire_grace_time=max(1, int(seconds)), next_run_time=first or datetime.now(UTC),
        )

    def _add_leader_jobs(self) -> None:
        now = m.utcnow()
        ids = self.core.account_ids
        with session_scope(self.engine) as session:
            due = {row.id: row.next_poll_at for row in session.exec(select(m.Account)).all()}
        for account in self.core.config.settings.accounts:
            if not account.enabled:
                continue
            # A restart or a new leader keeps the schedule the accounts table already holds.
            next_at = due.get(ids[account.name])
            first = max(now, next_at) if next_at else now
            jitter = min(self.options.poll_jitter_seconds, account.poll_interval_seconds / 4)
            self._add(poll_job_id(account.name), self._poll_job, account.poll_interval_seconds,
                      args=(account.name,), jitter=jitter or None, first=first)
        self._add(RETENTION, self._retention_job, 24 * 3600,
                  first=now + timedelta(seconds=self.options.retention_first_delay_seconds))
        produce = _weekly_report_entry_point()
        reports = self.core.config.settings.reports
        if produce is not None and reports.weekly:
            hour, minute = (int(part) for part in reports.weekly_at.split(":"))
            self.scheduler.add_job(
                self._report_job, CronTrigger(day_of_week="mon", hour=hour, minute=minute,
                                              timezone=self.core.config.brand.timezone),
                args=(produce,), id=WEEKLY_REPORT, name=WEEKLY_REPORT, replace_existing=True, coalesce=True,
                max_instances=1, misfire_grace_time=6 * 3600,
                # Once soon after taking over too: the job is idempotent and catches a week missed while down.
                next_run_time=now + timedelta(seconds=self.options.retention_first_delay_seconds * 2),
            )
        with session_scope(self.engine) as session:
            self._last_posted_id = session.execute(sa.select(sa.func.max(m.PostedReply.id))).scalar()

    def _on_busy(self, event: JobSubmissionEvent) -> None:
        # A run still going when the next is due is normal for the pipeline (it drains the queue);
        # counted rather than logged (see DropBusyRunWarnings).
        self.metrics.job_runs.labels(event.job_id.split(":", 1)[0], "skipped_busy").inc()

    # --- health ------------------------------------------------------------------------------------

    def health(self) -> tuple[bool, dict[str, Any]]:
        fresh = self._db_ok_at is not None and time.monotonic() - self._db_ok_at < 3 * self.options.leader_retry_seconds + 5
        healthy = bool(self.scheduler.running and fresh and not self.stop_event.is_set())
        return healthy, {
            "leader": self.is_leader,
            "leader_since": self.leader_since.isoformat() if self.leader_since else None,
            "scheduler_running": self.scheduler.running,
            "database": "ok" if fresh else (self._db_error or "not checked yet"),
            "stopping": self.stop_event.is_set(),
            "jobs": sorted(job.id for job in self.scheduler.get_jobs()) if self.scheduler.running else [],
        }

    # --- jobs --------------------------------------------------------------------------------------

    def _poll_job(self, account_name: str) -> None:
        with self._job("poll"):
            if self.stop_event.is_set() or not self.is_leader:
                return
            config = self.core.config.account(account_name)
            account_id = self.core.account_ids[account_name]
            now = m.utcnow()
            with session_scope(self.engine) as session:
                row = session.get(m.Account, account_id)
                status, next_at = (row.status, row.next_poll_at) if row else (m.AccountStatus.OK, None)
            if status == m.AccountStatus.NEEDS_REAUTH and account_name not in self.reauth_retry:
                if account_name not in self._reauth_reported:  # once, not every interval
                    self._reauth_reported.add(account_name)
                    log.warning("not polling %s: it needs re-authentication (fix its credentials, then "
                                "`social-care poll --account %s --once` or restart the daemon)",
                                account_name, account_name, extra={"event": "needs_reauth", "account": account_name})
                return
            self.reauth_retry.discard(account_name)
            self._reauth_reported.discard(account_name)
            if status in _BACKOFF_STATES and next_at and next_at > now + timedelta(seconds=1):
                self._defer(account_name, next_at)
                return
            try:
                report = poll_account(self.engine, account_id, self.core.connector_for(account_id),
                                      interval_seconds=config.poll_interval_seconds)
            except Exception as exc:  # the database or a connector bug: counted here, logged by _JobRun
                self.metrics.poll_errors.labels(config.platform, type(exc).__name__).inc()
                raise
            self.metrics.polls.labels(config.platform, report.status.value).inc()
            if report.stored:
                self.metrics.mentions_ingested.labels(config.platform).inc(report.stored)
            for stream in report.streams:
                if stream.error:
                    self.metrics.poll_errors.labels(config.platform, _error_class(stream.error)).inc()
            log.info("polled %s: %s, %d new", account_name, report.status.value, report.stored,
                     extra={"event": "poll", "account": account_name, "status": report.status.value,
                            "stored": report.stored})
            if report.status in _BACKOFF_STATES and report.next_poll_at:
                self._defer(account_name, report.next_poll_at)

    def _defer(self, account_name: str, when: datetime) -> None:
        """Move the account's next poll to ``when`` (reset time or backoff); the interval resumes from there."""
        job = self.scheduler.get_job(poll_job_id(account_name))
        if job is not None and not self.stop_event.is_set():
            job.modify(next_run_time=when)
            log.info("next poll of %s at %s", account_name, when.isoformat(timespec="seconds"),
                     extra={"event": "poll_deferred", "account": account_name})

    def _pipeline_job(self) -> None:
        """Classify and draft in steps of ``batch_limit`` until nothing is left or a stop is requested."""
        with self._job(PIPELINE):
            batch_size = self.core.config.settings.classifier.batch_size
            while not self.stop_event.is_set():
                classified = classify_pending(self.engine, self.classifier, limit=self.options.batch_limit,
                                              batch_size=batch_size)
                self.metrics.classified.inc(classified.processed)
                if self.stop_event.is_set():
                    break
                drafted = draft_pending(self.engine, self.core.config, limit=self.options.batch_limit)
                self.metrics.drafted.inc(drafted.processed)
                if classified.processed or drafted.processed:
                    log.info("classified %d, drafted %d", classified.processed, drafted.processed,
                             extra={"event": "pipeline", "classified": classified.processed,
                                    "drafted": drafted.processed})
                else:
                    break

    def _send_job(self) -> None:
        with self._job(SEND):
            if self.stop_event.is_set():
                return
            # Replies that failed for a passing reason (429, 5xx) are retried after a back-off; the sender
            # looks on the platform before posting again, so a retry never doubles a reply.
            report = send_approved(self.engine, self.core.connector_for, limit=self.options.send_limit,
                                   retry_failed=True, retry_after=FAILED_RETRY_AFTER)
            for outcome in ("sent", "reconciled", "failed"):
                if getattr(report, outcome):
                    self.metrics.replies.labels(outcome).inc(getattr(report, outcome))
            if report.sent or report.reconciled or report.failed:
                log.info("sent %d, reconciled %d, failed %d", report.sent, report.reconciled, report.failed,
                         extra={"event": "send", **report.__dict__})

    def _retention_job(self) -> None:
        with self._job(RETENTION):
            report = purge_raw_payloads(self.engine, days=self.options.retention_days)
            self.metrics.raw_purged.inc(report.mentions)

    def _report_job(self, produce: Callable[..., Any]) -> None:
        with self._job(WEEKLY_REPORT):
            smtp = self.core.config.settings.reports.smtp.as_mapping()
            paths = produce(self.engine, self.core.config, smtp=smtp)
            log.info("weekly report ready: %s", ", ".join(str(p) for p in paths or []))

    def _observe_first_responses(self) -> None:
        """Replies posted since the last look (by any process), observed once, by the leader."""
        p, mt = m.PostedReply.__table__, m.Mention.__table__  # type: ignore[attr-defined]
        query = (sa.select(p.c.id, p.c.posted_at, mt.c.created_at).join(mt, mt.c.id == p.c.mention_id)
                 .order_by(p.c.id).limit(1000))
        if self._last_posted_id is not None:
            query = query.where(p.c.id > self._last_posted_id)
        try:
            with session_scope(self.engine) as session:
                rows = session.execute(query).all()
        except sa.exc.SQLAlchemyError:
            return
        for id_, posted_at, created_at in rows:
            seconds = (_aware(posted_at) - _aware(created_at)).total_seconds()
            self.metrics.first_response.observe(max(0.0, seconds))
            self._last_posted_id = id_

    def _job(self, name: str) -> _JobRun:
        return _JobRun(self.metrics, name)


class _JobRun:
    """Times a job run, counts its outcome, and logs a failure once (the next run retries)."""

    def __init__(self, metrics: DaemonMetrics, name: str) -> None:
        self.metrics, self.name = metrics, name

    def __enter__(self) -> Self:
        self.started = time.perf_counter()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, _tb: object) -> bool:
        self.metrics.job_seconds.labels(self.name).observe(time.perf_counter() - self.started)
        self.metrics.job_runs.labels(self.name, "error" if exc else "ok").inc()
        if exc is not None and isinstance(exc, Exception):
            log.error("job %s failed: %s: %s", self.name, type(exc).__name__, exc, exc_info=exc,
                      extra={"event": "job_failed", "job": self.name})
            return True  # swallowed: the scheduler runs the job again at its next time
        return False


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _weekly_report_entry_point() -> Callable[..., Any] | None:
    """social_care.reports.produce_weekly_report(engine, config) when that module is installed."""
    if importlib.util.find_spec("social_care.reports") is None:
        return None
    try:
        module = importlib.import_module("social_care.reports")
    except Exception as exc:  # noqa: BLE001 - a broken optional module must not stop polling
        log.warning("weekly reports disabled: social_care.reports does not import (%s)", exc)
        return None
    produce = getattr(module, "produce_weekly_report", None)
    return produce if callable(produce) else None


__all__ = ["Daemon", "poll_job_id"]
