"""Daemon settings: intervals, ports and limits, from config.yaml's `daemon:` section and CLI overrides."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from social_care.config import DaemonSettings


@dataclass(frozen=True)
class DaemonOptions:
    """How often each job runs and how the process behaves; every interval is short-able for tests."""

    pipeline_seconds: float = 10.0  # classify + draft new mentions
    send_seconds: float = 15.0  # post approved replies
    poll_jitter_seconds: float = 5.0  # spread account polls so they do not hit the platforms in step
    leader_retry_seconds: float = 5.0  # followers try to take the scheduler lock this often
    retention_days: int = 90  # raw payloads older than this are dropped (texts and aggregates stay)
    retention_first_delay_seconds: float = 60.0  # first clean-up after becoming leader, then daily
    metrics_host: str = "127.0.0.1"  # loopback unless a scraper elsewhere needs it
    metrics_port: int = 9464  # 0 = no /metrics or /healthz server
    shutdown_timeout_seconds: float = 30.0  # after SIGTERM, wait this long for the running step
    batch_limit: int = 64  # mentions claimed per classify/draft step (bounds the time a stop waits)
    send_limit: int = 50  # approved replies posted per send run
    workers: int = 4  # scheduler threads: polls, pipeline and sender run side by side

    def __post_init__(self) -> None:
        for name in ("pipeline_seconds", "send_seconds", "leader_retry_seconds", "shutdown_timeout_seconds"):
            if getattr(self, name) <= 0:
                raise ValueError(f"daemon option {name} must be positive, got {getattr(self, name)}")
        if self.retention_days < 1:
            raise ValueError("--retention-days must be at least 1")
        if not 0 <= self.metrics_port <= 65535:
            raise ValueError("--metrics-port must be between 0 and 65535")
        if self.poll_jitter_seconds < 0:
            raise ValueError("--poll-jitter must not be negative")


def options_from_config(settings: DaemonSettings, **overrides: Any) -> DaemonOptions:
    """The daemon's options from ``daemon:`` in config.yaml; a CLI flag given (not None) wins."""
    values: dict[str, Any] = {
        "pipeline_seconds": settings.pipeline_interval_seconds,
        "send_seconds": settings.send_interval_seconds,
        "poll_jitter_seconds": settings.poll_jitter_seconds,
        "leader_retry_seconds": settings.leader_retry_seconds,
        "shutdown_timeout_seconds": settings.stop_timeout_seconds,
        "retention_days": settings.retention_days,
        "metrics_host": settings.metrics_host,
        "metrics_port": settings.metrics_port,
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    return DaemonOptions(**values)
