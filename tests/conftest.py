"""Shared fixtures: databases (SQLite and PostgreSQL), configs pointing at a sandbox, the shipped model.

PostgreSQL tests use the server at $SOCIAL_CARE_TEST_PG (default postgresql+psycopg://postgres@127.0.0.1:5432/test).
Each test gets a fresh database cloned from a migrated template. When no server answers, those
tests are skipped with that reason, except under .ci/run (SOCIAL_CARE_REQUIRE_PG=1), where a
missing server is a failure.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from social_care.db import create_db_engine, upgrade

PG_URL = os.environ.get("SOCIAL_CARE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("SOCIAL_CARE_REQUIRE_PG") == "1"
REPO_ROOT = Path(__file__).resolve().parents[1]
_counter = itertools.count()


def _pg_admin_engine() -> Engine | None:
    engine = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("select 1"))
    except sa.exc.OperationalError:
        engine.dispose()
        return None
    return engine


@pytest.fixture(scope="session")
def pg_template() -> Iterator[tuple[Engine, str] | None]:
    """A migrated template database to clone for each test (None when no server answers)."""
    admin = _pg_admin_engine()
    if admin is None:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required (SOCIAL_CARE_REQUIRE_PG=1) but {PG_URL} does not answer")
        yield None
        return
    name = f"sc_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name)
    engine = create_db_engine(url.render_as_string(hide_password=False))
    upgrade(engine)
    engine.dispose()
    yield admin, name
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _fresh_pg_url(pg_template: tuple[Engine, str] | None) -> Iterator[str]:
    if pg_template is None:
        pytest.skip(f"no PostgreSQL server answers at {PG_URL}")
    admin, template = pg_template
    name = f"sc_t_{os.getpid()}_{next(_counter)}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
        engine = create_db_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
    else:
        yield from _fresh_pg_url(request.getfixturevalue("pg_template"))


@pytest.fixture
def pg_url(pg_template: tuple[Engine, str] | None) -> Iterator[str]:
    """A migrated, empty PostgreSQL database (for tests that need PostgreSQL itself)."""
    yield from _fresh_pg_url(pg_template)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = create_db_engine(db_url)
    yield engine
    engine.dispose()


# --- records and a scripted connector, for tests of the core that need no platform -----------------

from datetime import UTC, datetime, timedelta
from typing import Any

from connectors import (
    AccountInfo,
    Author,
    FetchResult,
    MentionRecord,
    PostedReply,
    QuarantinedItem,
)

T0 = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)


def make_record(n: int, *, platform: str = "x", stream: str = "mentions", text: str | None = None,
                author: str = "ana", is_own: bool = False, thread: str | None = None) -> MentionRecord:
    return MentionRecord(
        platform=platform, external_id=str(1000 + n), stream=stream,
        text=text if text is not None else f"mention {n}", created_at=T0 + timedelta(minutes=n),
        author=Author(external_id=f"u-{author}", handle=author, name=author.title(), followers=10 * n),
        reply_ref={"tweet_id": str(1000 + n)}, thread_external_id=thread or str(1000 + n),
        raw={"id": str(1000 + n)}, is_own=is_own,
    )


class ScriptedConnector:
    """A connector whose pages are given by the test: each fetch returns the next scripted step."""

    platform = "x"

    def __init__(self, steps: list[Any] | None = None) -> None:
        self.steps = list(steps or [])
        self.posted: list[tuple[dict[str, Any], str]] = []
        self.fail_post: Exception | None = None
        self.crash_after_post = False

    def check_credentials(self) -> AccountInfo:
        return AccountInfo(external_id="1", handle="lojaaurora")

    def streams(self) -> list[str]:
        return ["mentions"]

    def fetch(self, stream: str, cursor: dict[str, Any] | None) -> FetchResult:
        step = self.steps.pop(0) if self.steps else FetchResult([], [], dict(cursor or {}))
        if isinstance(step, Exception):
            raise step
        return step

    def post_reply(self, reply_ref: dict[str, Any], text: str) -> PostedReply:
        if self.fail_post is not None:
            raise self.fail_post
        self.posted.append((reply_ref, text))
        if self.crash_after_post:
            raise KeyboardInterrupt("crash after the platform accepted the post")
        return PostedReply(external_id=f"r{len(self.posted)}")

    def find_reply(self, reply_ref: dict[str, Any], text: str) -> PostedReply | None:
        for i, (ref, posted_text) in enumerate(self.posted, 1):
            if ref == reply_ref and posted_text == text:
                return PostedReply(external_id=f"r{i}")
        return None


@pytest.fixture
def scripted() -> type[ScriptedConnector]:
    return ScriptedConnector


@pytest.fixture
def record() -> Any:
    return make_record


__all__ = ["FetchResult", "QuarantinedItem"]


# --- the sandbox platform and a core wired to it -----------------------------------------------

import yaml

from social_care.config import DEFAULT_CONFIG_PATH, Config, parse_config


def sandbox_config(tmp_path: Path, *, db_url: str, sandbox_url: str, options: dict[str, dict[str, Any]] | None = None,
                   **overrides: Any) -> Config:
    """The shipped default config, with every account pointed at the given sandbox and database;
    ``options`` updates each platform's account options (e.g. small pages)."""
    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    data["data_dir"] = str(tmp_path / "data")
    data["database"]["url"] = db_url
    data["classifier"]["model"] = str(REPO_ROOT / data["classifier"]["model"])
    for account in data["accounts"]:
        account["base_url"] = sandbox_url
        account["poll_interval_seconds"] = 5
        account["options"].update((options or {}).get(account["platform"], {}))
    data.update(overrides)
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return parse_config(path.read_text(encoding="utf-8"), path=path, environ={})


@pytest.fixture
def sandbox_server() -> Iterator[Any]:
    from social_care.sandbox import SandboxServer

    server = SandboxServer(host="127.0.0.1", port=0, seed="demo")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session", autouse=True)
def _onnx_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """ONNX exports go to a per-session directory, never into the user's ~/.cache.

    Daemon subprocesses inherit it, so the shipped model is exported once per session.
    """
    previous = os.environ.get("SOCIAL_CARE_CACHE")
    os.environ["SOCIAL_CARE_CACHE"] = str(tmp_path_factory.mktemp("social-care-cache"))
    yield
    if previous is None:
        os.environ.pop("SOCIAL_CARE_CACHE", None)
    else:
        os.environ["SOCIAL_CARE_CACHE"] = previous


@pytest.fixture(scope="session")
def shipped_classifier() -> Any:
    """The model shipped in models/ (loaded once per test session)."""
    from social_care.classifier import load_classifier

    config = parse_config(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"), environ={})
    return load_classifier(config.model_path, threads=2)


@pytest.fixture
def sandbox_core(tmp_path: Path, db_url: str, sandbox_server: Any, shipped_classifier: Any) -> Iterator[Any]:
    from social_care.app import SocialCare

    config = sandbox_config(tmp_path, db_url=db_url, sandbox_url=sandbox_server.base_url)
    core = SocialCare(config, classifier=shipped_classifier)
    core.upgrade_db()
    yield core
    core.engine.dispose()


@pytest.fixture
def sandbox_config_fn() -> Any:
    """The function that builds a sandbox-pointed config (for tests that tweak it further)."""
    return sandbox_config


# --- Headless Chromium (web inbox and HTML report tests) -------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _require_browser(chromium: Path) -> Any:
    """Playwright's `sync_playwright`; skips without a browser, fails under SOCIAL_CARE_REQUIRE_BROWSER=1."""
    why = None
    if not chromium.exists():
        why = f"{chromium} is missing (apt-get install -y chromium)"
    else:
        try:
            from playwright.sync_api import sync_playwright
        except ImportError as exc:
            why = f"the playwright package is not installed ({exc})"
    if why:
        if os.environ.get("SOCIAL_CARE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests are required (SOCIAL_CARE_REQUIRE_BROWSER=1) but {why}")
        pytest.skip(why)
    return sync_playwright


@pytest.fixture
def require_browser() -> Any:
    """The browser check itself, so that its skip/fail rule can be tested."""
    return _require_browser


@pytest.fixture
def chromium() -> Iterator[Any]:
    """A launched headless Debian Chromium (Playwright, no `playwright install`)."""
    sync_playwright = _require_browser(CHROMIUM)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
