"""Fixtures for connector tests: a sandbox server per test and connectors pointed at it."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from connectors import (
    FacebookConnector,
    FacebookOptions,
    InstagramConnector,
    InstagramOptions,
    XConnector,
    XOptions,
    build_connector,
)
from social_care.sandbox import FB_PAGE_ID, IG_USER_ID, X_USER_ID, SandboxServer, sandbox_secrets


class SleepRecorder:
    """Stands in for ``time.sleep``: records the back-off delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


class MutableClock:
    """A clock the test can move; starts at the real now so sandbox timestamps line up."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    server = SandboxServer(port=0, seed="demo").start()
    yield server
    server.stop()


@pytest.fixture
def empty_sandbox() -> Iterator[SandboxServer]:
    server = SandboxServer(port=0, seed=None).start()
    yield server
    server.stop()


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def clock() -> MutableClock:
    return MutableClock()


ConnectorFactory = Callable[..., Any]


@pytest.fixture
def make_x(sleeps: SleepRecorder, clock: MutableClock) -> ConnectorFactory:
    def factory(
        server: SandboxServer, secrets: dict[str, str] | None = None, **overrides: Any
    ) -> XConnector:
        settings: dict[str, Any] = {
            "user_id": X_USER_ID,
            "handle": "lojaaurora",
            "keywords": ["Loja Aurora"],
            "hashtags": ["lojaaurora"],
            "streams": ["mentions", "search"],
            "lookback_days": 7,
            "timeout": 2.0,
        }
        settings.update(overrides)
        connector = build_connector(
            "x",
            options=XOptions(**settings),
            secrets=secrets if secrets is not None else sandbox_secrets()["x"],
            base_url=server.base_url,
            sleep=sleeps,
            clock=clock,
            rng=random.Random(7),
        )
        assert isinstance(connector, XConnector)
        return connector

    return factory


@pytest.fixture
def make_facebook(sleeps: SleepRecorder, clock: MutableClock) -> ConnectorFactory:
    def factory(
        server: SandboxServer, secrets: dict[str, str] | None = None, **overrides: Any
    ) -> FacebookConnector:
        settings: dict[str, Any] = {"page_id": FB_PAGE_ID, "handle": "lojaaurora", "timeout": 2.0}
        settings.update(overrides)
        connector = build_connector(
            "facebook",
            options=FacebookOptions(**settings),
            secrets=secrets if secrets is not None else sandbox_secrets()["facebook"],
            base_url=server.base_url,
            sleep=sleeps,
            clock=clock,
            rng=random.Random(7),
        )
        assert isinstance(connector, FacebookConnector)
        return connector

    return factory


@pytest.fixture
def make_instagram(sleeps: SleepRecorder, clock: MutableClock) -> ConnectorFactory:
    def factory(
        server: SandboxServer, secrets: dict[str, str] | None = None, **overrides: Any
    ) -> InstagramConnector:
        settings: dict[str, Any] = {
            "ig_user_id": IG_USER_ID,
            "handle": "lojaaurora",
            "timeout": 2.0,
        }
        settings.update(overrides)
        connector = build_connector(
            "instagram",
            options=InstagramOptions(**settings),
            secrets=secrets if secrets is not None else sandbox_secrets()["instagram"],
            base_url=server.base_url,
            sleep=sleeps,
            clock=clock,
            rng=random.Random(7),
        )
        assert isinstance(connector, InstagramConnector)
        return connector

    return factory
