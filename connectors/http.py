"""HTTP plumbing shared by the connectors: loopback host rewriting, timeouts, bounded retries.

Connectors never retry for long: a few quick attempts with exponential backoff and jitter for
:class:`~connectors.base.TransientError`, then the error goes to the scheduler, which reschedules.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from requests.adapters import HTTPAdapter

from connectors.base import TransientError

T = TypeVar("T")
Sleep = Callable[[float], None]


class RewriteAdapter(HTTPAdapter):
    """Sends requests for ``source`` (e.g. ``https://api.twitter.com``) to ``target`` instead,
    and applies a default timeout to clients that set none (tweepy never does)."""

    def __init__(
        self, source: str | None, target: str | None, timeout: float, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.source = source.rstrip("/") if source else None
        self.target = target.rstrip("/") if target else None
        self.default_timeout = timeout

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        url = request.url or ""
        if self.source and self.target and url.startswith(self.source):
            request.url = self.target + url[len(self.source) :]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        return super().send(request, **kwargs)


def mount_base_url(
    session: requests.Session, real_base: str, base_url: str | None, timeout: float
) -> None:
    """Route ``session``'s requests for ``real_base`` to ``base_url`` (when given), with a timeout."""
    adapter = RewriteAdapter(real_base, base_url, timeout)
    session.mount(real_base.rstrip("/") + "/", adapter)
    if base_url:
        session.mount(base_url.rstrip("/") + "/", adapter)


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts a call gets for transient failures, and how long to wait between them."""

    attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 8.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Full-jitter exponential backoff for the wait after failed attempt ``attempt`` (1-based)."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return rng.uniform(ceiling / 2, ceiling)


def call_with_retries(
    operation: Callable[[], T],
    *,
    policy: RetryPolicy,
    sleep: Sleep = time.sleep,
    rng: random.Random | None = None,
) -> T:
    """Run ``operation``; on :class:`TransientError` retry up to ``policy.attempts`` times in all."""
    jitter = rng or random.Random()
    attempt = 1
    while True:
        try:
            return operation()
        except TransientError:
            if attempt >= policy.attempts:
                raise
            sleep(policy.delay(attempt, jitter))
            attempt += 1


def is_transport_error(error: BaseException) -> bool:
    """Timeouts, refused or reset connections: worth retrying later."""
    return isinstance(error, requests.exceptions.Timeout | requests.exceptions.ConnectionError)
