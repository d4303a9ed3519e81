"""Fault injection for the sandbox: scripted or seeded-random failures of the next responses.

Kinds:

* ``rate_limit`` - X: 429 with a future ``x-rate-limit-reset``; Graph: an error with a rate-limit
  code (default 4 for the app, 80001 for Pages, 80002 for Instagram) and a usage header.
* ``usage_limit`` - Graph only: a normal 200 answer whose usage header says 100% used.
* ``server_error`` - a 5xx (``status``, default 503).
* ``delay`` - the normal answer, ``delay`` seconds late (to trigger client timeouts).
* ``expired_token`` - X: 401; Graph: code 190 subcode 463.
* ``malformed_item`` - the first item of the page loses its ``id`` and its text.
* ``truncated_json`` - the normal body cut in half.
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass, replace

FAULT_KINDS = (
    "rate_limit",
    "usage_limit",
    "server_error",
    "delay",
    "expired_token",
    "malformed_item",
    "truncated_json",
)
RANDOM_MIX_KINDS = ("rate_limit", "server_error", "malformed_item", "truncated_json")


@dataclass(frozen=True)
class Fault:
    """One scripted failure, applied to the next ``count`` matching requests."""

    kind: str
    count: int = 1
    route: str | None = None  # regular expression searched in the request path
    platform: str | None = None  # "x" or "graph"; None: both
    status: int = 503  # for server_error
    reset_in: float = 60.0  # seconds until a rate limit resets
    delay: float = 0.0  # seconds, for delay
    code: int | None = None  # Graph error code for rate_limit

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {FAULT_KINDS}")
        if self.platform not in (None, "x", "graph"):
            raise ValueError("platform must be 'x', 'graph' or None")

    def matches(self, platform: str, path: str) -> bool:
        if self.platform is not None and self.platform != platform:
            return False
        return self.route is None or re.search(self.route, path) is not None


@dataclass(frozen=True)
class AppliedFault:
    platform: str
    path: str
    kind: str


class FaultPlan:
    """The queue of scripted faults plus an optional seeded random mix. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[Fault] = []
        self._random: random.Random | None = None
        self._random_rate = 0.0
        self._random_kinds: tuple[str, ...] = RANDOM_MIX_KINDS
        self.applied: list[AppliedFault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._queue.append(fault)

    def inject(self, kind: str, count: int = 1, **options: object) -> None:
        """Shorthand: ``plan.inject("rate_limit", count=2, route="mentions", reset_in=30)``."""
        self.add(Fault(kind=kind, count=count, **options))  # type: ignore[arg-type]

    def random_mix(self, seed: int, rate: float, kinds: tuple[str, ...] = RANDOM_MIX_KINDS) -> None:
        """Fail a ``rate`` share of all requests with kinds drawn from ``kinds``, reproducibly."""
        for kind in kinds:
            Fault(kind=kind)  # validates the kind
        with self._lock:
            self._random = random.Random(seed)
            self._random_rate = rate
            self._random_kinds = tuple(kinds)

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
            self._random = None
            self.applied.clear()

    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._queue)

    def take(self, platform: str, path: str) -> Fault | None:
        """The fault to apply to this request, if any (consumes one use of it)."""
        with self._lock:
            for index, fault in enumerate(self._queue):
                if fault.matches(platform, path):
                    if fault.count <= 1:
                        del self._queue[index]
                    else:
                        self._queue[index] = replace(fault, count=fault.count - 1)
                    self.applied.append(AppliedFault(platform, path, fault.kind))
                    return fault
            if self._random is not None and self._random.random() < self._random_rate:
                kind = self._random.choice(self._random_kinds)
                self.applied.append(AppliedFault(platform, path, kind))
                return Fault(kind=kind, reset_in=5.0)
        return None
