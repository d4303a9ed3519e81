"""Prometheus metrics of one daemon process, in a registry of its own (tests run several daemons in one process)."""

from __future__ import annotations

import enum
import time
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine

from social_care import models as m

# Minutes to days: first responses are measured against an SLA of about an hour.
RESPONSE_BUCKETS = (60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 259200)
CLASSIFIER_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


def _label(value: object) -> str:
    # str() of a str-Enum is 'ReplyState.DRAFTED' on Python 3.11; the label is the stored value.
    return str(value.value) if isinstance(value, enum.Enum) else str(value)


class QueueCollector(Collector):
    """Queue sizes read from the database at scrape time, so every process reports the shared truth."""

    def __init__(self, engine: Engine, *, cache_seconds: float = 2.0) -> None:
        self._engine = engine
        self._cache_seconds = cache_seconds
        self._cached: tuple[float, list[tuple[str, str, int]]] | None = None

    def _rows(self) -> list[tuple[str, str, int]]:
        now = time.monotonic()
        if self._cached and now - self._cached[0] < self._cache_seconds:
            return self._cached[1]
        mentions, drafts = m.Mention.__table__, m.ReplyDraft.__table__  # type: ignore[attr-defined]
        rows: list[tuple[str, str, int]] = [("mentions", s.value, 0) for s in m.MentionStage]
        rows += [("replies", s.value, 0) for s in m.ReplyState]
        found: dict[tuple[str, str], int] = {}
        with self._engine.connect() as connection:
            for stage, n in connection.execute(sa.select(mentions.c.stage, sa.func.count()).group_by(mentions.c.stage)):
                found[("mentions", _label(stage))] = int(n)
            for state, n in connection.execute(sa.select(drafts.c.state, sa.func.count()).group_by(drafts.c.state)):
                found[("replies", _label(state))] = int(n)
        rows = [(queue, state, found.get((queue, state), 0)) for queue, state, _ in rows]
        self._cached = (now, rows)
        return rows

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("social_care_queue_size",
                                   "Mentions by pipeline stage and reply drafts by state, from the database.",
                                   labels=["queue", "state"])
        try:
            for queue, state, n in self._rows():
                family.add_metric([queue, state], n)
        except sa.exc.SQLAlchemyError:
            pass  # the database is down: /healthz says so; an empty family keeps /metrics answering
        yield family


class DaemonMetrics:
    """Every metric the daemon exports."""

    def __init__(self, engine: Engine | None = None) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.mentions_ingested = Counter("social_care_mentions_ingested", "New mentions stored by polling.",
                                         ["platform"], registry=r)
        self.polls = Counter("social_care_polls", "Account polls by outcome (ok, rate_limited, error...).",
                             ["platform", "status"], registry=r)
        self.poll_errors = Counter("social_care_poll_errors", "Poll failures by error class.",
                                   ["platform", "error_class"], registry=r)
        self.classified = Counter("social_care_mentions_classified", "Mentions classified by this process.", registry=r)
        self.drafted = Counter("social_care_mentions_drafted",
                               "Classified mentions handled by drafting (drafted or no reply needed).", registry=r)
        self.replies = Counter("social_care_replies", "Send outcomes (sent, reconciled, failed).", ["outcome"],
                               registry=r)
        self.first_response = Histogram(
            "social_care_time_to_first_response_seconds",
            "From a mention's creation on the platform to our reply being posted (observed by the leader).",
            buckets=RESPONSE_BUCKETS, registry=r)
        self.classifier_latency = Histogram("social_care_classifier_latency_seconds",
                                            "Seconds per classifier call (one batch of texts).",
                                            buckets=CLASSIFIER_BUCKETS, registry=r)
        self.classifier_texts = Counter("social_care_classifier_texts", "Texts given to the classifier.", registry=r)
        self.job_runs = Counter("social_care_job_runs", "Scheduled job runs by outcome.", ["job", "outcome"],
                                registry=r)
        self.job_seconds = Histogram("social_care_job_duration_seconds", "Seconds per scheduled job run.", ["job"],
                                     registry=r)
        self.raw_purged = Counter("social_care_raw_payloads_purged", "Raw payloads dropped by retention.", registry=r)
        self.leader = Gauge("social_care_scheduler_leader", "1 while this process schedules polling.", registry=r)
        self.leader_acquired = Counter("social_care_scheduler_leader_acquired",
                                       "Times this process became the polling leader (flapping shows here).",
                                       registry=r)
        self.up_since = Gauge("social_care_daemon_start_time_seconds", "Unix time the daemon started.", registry=r)
        self.up_since.set_to_current_time()
        if engine is not None:
            r.register(QueueCollector(engine))


class TimedClassifier:
    """Wraps a classifier so every call is timed into the latency histogram; otherwise transparent."""

    def __init__(self, inner: Any, metrics: DaemonMetrics) -> None:
        self._inner = inner
        self._metrics = metrics

    @property
    def name(self) -> str:
        return str(self._inner.name)

    @property
    def version(self) -> str:
        return str(self._inner.version)

    def classify(self, texts: Sequence[str], batch_size: int = 32) -> list[Any]:
        started = time.perf_counter()
        try:
            return list(self._inner.classify(list(texts), batch_size=batch_size))
        finally:
            self._metrics.classifier_latency.observe(time.perf_counter() - started)
            self._metrics.classifier_texts.inc(len(texts))

    def __getattr__(self, item: str) -> Any:
        return getattr(self._inner, item)
