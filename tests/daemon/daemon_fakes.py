"""Fakes for daemon tests: a clock-driven mention feed (a connector), a fixed classifier, and a daemon config."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from connectors import AccountInfo, Author, FetchResult, MentionRecord, PostedReply
from social_care.classifier import Classification
from social_care.config import Config, parse_config

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


class FeedConnector:
    """Mention k (1..total) is published at ``start + k * every`` seconds; the cursor is the last k stored.

    It behaves like a platform timeline read incrementally: a fetch returns what was published after
    the cursor, so a restarted or new leader that resumes from the stored cursor neither misses nor
    repeats mentions. Every fetch is appended to ``log_path`` (JSON lines) so tests can check that.
    """

    platform = "x"

    def __init__(self, *, total: int, start: float | None = None, every: float = 0.0, page: int = 50,
                 prefix: str = "feed", log_path: str | None = None, fetch_delay: float = 0.0,
                 start_file: str | None = None) -> None:
        self.total, self.every, self.page, self.prefix = total, every, page, prefix
        self.start = time.time() if start is None else start
        self.start_file = start_file  # publishing starts when the test writes a time into this file
        self.log_path = log_path
        self.fetch_delay = fetch_delay
        self.posted: list[tuple[dict[str, Any], str]] = []

    def check_credentials(self) -> AccountInfo:
        return AccountInfo(external_id="1", handle="lojaaurora")

    def streams(self) -> list[str]:
        return ["mentions"]

    def published(self) -> int:
        if self.start_file:
            try:
                self.start = float(Path(self.start_file).read_text())
            except (FileNotFoundError, ValueError):
                return 0
        if self.every <= 0:
            return self.total
        return max(0, min(self.total, int((time.time() - self.start) / self.every)))

    def record(self, k: int) -> MentionRecord:
        return MentionRecord(
            platform="x", external_id=f"{self.prefix}-{k}", stream="mentions",
            text=f"@lojaaurora meu pedido {k} chegou quebrado, quero a troca",
            created_at=T0 + timedelta(seconds=k), author=Author(external_id=f"u{k % 7}", handle=f"cliente{k % 7}",
                                                                name=f"Cliente {k % 7}", followers=k),
            reply_ref={"tweet_id": f"{self.prefix}-{k}"}, thread_external_id=f"{self.prefix}-{k}",
            raw={"id": f"{self.prefix}-{k}"},
        )

    def fetch(self, stream: str, cursor: dict[str, Any] | None) -> FetchResult:
        since = int((cursor or {}).get("since", 0))
        upto = min(self.published(), since + self.page)
        if self.fetch_delay:
            time.sleep(self.fetch_delay)
        records = [self.record(k) for k in range(since + 1, upto + 1)]
        if self.log_path:
            with open(self.log_path, "a", encoding="utf-8") as log:
                log.write(json.dumps({"pid": os.getpid(), "since": since, "upto": upto, "t": time.time()}) + "\n")
        return FetchResult(records, [], {"since": upto})

    def post_reply(self, reply_ref: dict[str, Any], text: str) -> PostedReply:
        self.posted.append((reply_ref, text))
        return PostedReply(external_id=f"r-{reply_ref['tweet_id']}")

    def find_reply(self, reply_ref: dict[str, Any], text: str) -> PostedReply | None:
        return next((PostedReply(external_id=f"r-{ref['tweet_id']}") for ref, t in self.posted
                     if ref == reply_ref and t == text), None)


@dataclass
class FakeClassifier:
    """Every text is a Portuguese delivery complaint; ``delay`` seconds per call simulates model time."""

    delay: float = 0.0
    name: str = "fake-classifier"
    version: str = "test"
    calls: int = 0
    busy_file: str | None = None  # exists while a call is running, so a test can signal mid-step

    def classify(self, texts: list[str], batch_size: int = 32) -> list[Classification]:
        self.calls += 1
        if self.busy_file:
            Path(self.busy_file).write_text(str(len(texts)))
        try:
            if self.delay:
                time.sleep(self.delay)
        finally:
            if self.busy_file:
                Path(self.busy_file).unlink(missing_ok=True)
        return [
            Classification(
                language="pt", sentiment="negative", sentiment_scores={"negative": 0.9, "neutral": 0.05, "positive": 0.05},
                intent="complaint", intent_scores={"complaint": 0.9, "question": 0.05, "praise": 0.0, "other": 0.05},
                complaint=True, complaint_score=0.9, categories=["damaged_defective"],
                category_scores={"damaged_defective": 0.8}, severity=2, severity_scores=[0.0, 0.1, 0.6, 0.2, 0.1],
                remedy_due=True, remedy_score=0.7,
            )
            for _ in texts
        ]


def daemon_config(db_url: str, *, accounts: int = 1, interval: float = 1.0, base_dir: Path | None = None) -> Config:
    """A config on ``db_url`` with ``accounts`` X accounts polled every ``interval`` seconds.

    The config schema's minimum interval is 5 s; tests shorten it on the validated object.
    """
    names = [f"feed-{i}" for i in range(accounts)]
    text = json.dumps({
        "brand": {"name": "Loja Aurora", "handles": {"x": "lojaaurora"}, "languages": ["pt", "en", "es"]},
        "data_dir": str(base_dir or Path.cwd()),
        "database": {"url": db_url},
        "accounts": [{"name": n, "platform": "x", "options": {"user_id": str(1500 + i)}, "poll_interval_seconds": 5}
                     for i, n in enumerate(names)],
    })
    config = parse_config(text, environ={})
    fast = [a.model_copy(update={"poll_interval_seconds": interval}) for a in config.settings.accounts]
    return Config(settings=config.settings.model_copy(update={"accounts": fast}), path=None,
                  base_dir=config.base_dir)
