"""Slows password guessing: too many failed log-ins from one address, or for one name from it, wait.

Kept in process memory: the inbox runs as one uvicorn process, and a restart forgetting the
count only gives an attacker a few more argon2-priced guesses.
"""

from __future__ import annotations

import threading
import time
from collections import deque


class LoginThrottle:
    """At most ``per_name`` failures per (address, name) and ``per_address`` per address."""

    MAX_KEYS = 10_000  # bounds memory under a flood of distinct names

    def __init__(
        self, *, per_name: int = 5, per_address: int = 20, window_s: float = 300.0
    ) -> None:
        self.per_name, self.per_address, self.window_s = per_name, per_address, window_s
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _keys(self, address: str, name: str) -> list[tuple[str, int]]:
        # Keyed by address too, so a stranger cannot lock a colleague out by guessing their name.
        return [(f"a:{address}", self.per_address), (f"n:{address}:{name.lower()}", self.per_name)]

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key, deque())
        while times and now - times[0] > self.window_s:
            times.popleft()
        return times

    def blocked(self, address: str, name: str) -> bool:
        now = time.monotonic()
        with self._lock:
            return any(
                len(self._recent(key, now)) >= limit for key, limit in self._keys(address, name)
            )

    def failed(self, address: str, name: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._failures) >= self.MAX_KEYS:
                self._failures.clear()
            for key, _ in self._keys(address, name):
                times = self._recent(key, now)
                times.append(now)
                self._failures[key] = times

    def succeeded(self, address: str, name: str) -> None:
        with self._lock:
            self._failures.pop(f"n:{address}:{name.lower()}", None)
