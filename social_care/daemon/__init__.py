"""The long-running side of social-care: scheduling, leader election, health and metrics, retention and erasure.

Public API:

* :class:`Daemon` and :class:`DaemonOptions` - what `social-care run` runs;
* :func:`check_startup` - its start-up checks;
* :func:`status_snapshot` - what `social-care status` prints;
* :func:`purge_raw_payloads` and :func:`forget_author` - data lifecycle;
* :func:`setup_logging`, :class:`RedactingFilter`, :func:`redact` - structured, redacted logs;
* :class:`AlreadyRunning` - a second daemon on one SQLite database.
"""

from __future__ import annotations

from social_care.daemon.erasure import ErasureBlocked, ErasureReport, forget_author
from social_care.daemon.leadership import AlreadyRunning, current_leader
from social_care.daemon.logs import JsonLineFormatter, RedactingFilter, redact, setup_logging
from social_care.daemon.metrics import DaemonMetrics
from social_care.daemon.options import DaemonOptions
from social_care.daemon.retention import RetentionReport, purge_raw_payloads
from social_care.daemon.runner import Daemon, poll_job_id
from social_care.daemon.startup import check_startup
from social_care.daemon.status import status_snapshot

__all__ = [
    "AlreadyRunning",
    "Daemon",
    "DaemonMetrics",
    "DaemonOptions",
    "ErasureBlocked",
    "ErasureReport",
    "JsonLineFormatter",
    "RedactingFilter",
    "RetentionReport",
    "check_startup",
    "current_leader",
    "forget_author",
    "poll_job_id",
    "purge_raw_payloads",
    "redact",
    "setup_logging",
    "status_snapshot",
]
