"""Daemon logging: JSON lines off a terminal, and a filter that masks tokens and personal data in every record."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import IO

# Order matters: credentials first (they may contain digits or @), then CPF before phone numbers
# (a formatted CPF would otherwise be half-eaten by the phone pattern).
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9\-._~+/%]+=*"), r"\1 [REDACTED]"),
    (re.compile(r"(?i)([?&](?:access_token|input_token|fb_exchange_token|client_secret|appsecret_proof|"
                r"oauth_token|oauth_signature|token)=)[^&\s\"'<>]+"), r"\1[REDACTED]"),
    (re.compile(r"(?i)([\"']?\b(?:access_token|bearer_token|page_access_token|consumer_secret|consumer_key|"
                r"access_token_secret|app_secret|client_secret|password|session_secret)[\"']?\s*[:=]\s*[\"']?)"
                r"[^\"'\s&,;}]+"), r"\1[REDACTED]"),
    (re.compile(r"(?i)(oauth_(?:signature|token|consumer_key)=\")[^\"]*"), r"\1[REDACTED]"),
    (re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"), "[email]"),
    (re.compile(r"(?<![\w.])\d{3}\.\d{3}\.\d{3}-\d{2}(?![\w])"), "[cpf]"),
    (re.compile(r"(?i)(\bcpf\W{0,3})\d{11}\b"), r"\1[cpf]"),
    (re.compile(r"(?<![\w+])(?:\+\d{1,3}[\s.\-]?)?(?:\(\d{2,3}\)|\d{2,3})[\s.\-]?\d{3,5}[\s.\-]?\d{4}(?![\w])"),
     "[phone]"),
)


def redact(text: str) -> str:
    """Mask bearer tokens, token query parameters and credential fields, e-mails, CPFs and phone numbers."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (and its traceback) with :func:`redact` before any handler formats it.

    Attach it to handlers, not loggers: a logger's filters do not see records propagated from
    child loggers (connectors, sqlalchemy, apscheduler), a handler's do.
    """

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not lose the record
            message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class DropBusyRunWarnings(logging.Filter):
    """Drops APScheduler's "skipped: maximum number of running instances" warning.

    The pipeline job drains the queue and often outlasts its interval on purpose; the daemon
    counts those skips in ``social_care_job_runs{outcome="skipped_busy"}`` instead.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in str(record.msg)


def quiet_busy_run_warnings() -> None:
    logger = logging.getLogger("apscheduler.scheduler")
    if not any(isinstance(f, DropBusyRunWarnings) for f in logger.filters):
        logger.addFilter(DropBusyRunWarnings())


# LogRecord attributes that are not "extra" fields given by the caller.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


class JsonLineFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, process, thread, extras, exc."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "pid": record.process,
            "thread": record.threadName,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


def setup_logging(level: str = "INFO", *, stream: IO[str] | None = None, json_lines: bool | None = None) -> logging.Handler:
    """Route every logger to one redacting handler on ``stream`` (stderr): JSON lines unless it is a TTY.

    Replaces handlers the CLI installed earlier so a line is never written twice.
    """
    stream = stream or sys.stderr
    if json_lines is None:
        json_lines = not (hasattr(stream, "isatty") and stream.isatty())
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonLineFormatter() if json_lines
                         else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    # APScheduler logs every run at INFO; our jobs log what they did themselves.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    return handler
