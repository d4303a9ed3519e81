"""Fixtures for the web inbox: a core on a test database, a team, drafts, logged-in clients."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from alembic import command
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from social_care import models as m
from social_care import users
from social_care.app import SocialCare
from social_care.config import DEFAULT_CONFIG_PATH, Config, parse_config
from social_care.db import _alembic_config, create_db_engine, session_scope, upgrade
from social_care.users import add_user
from social_care.web import create_app

SECRET = "test-session-secret-0123456789abcdefghijklmnop"
PASSWORD = "correct horse battery"
TEAM = {"vera": "viewer", "alex": "agent", "paula": "approver", "rui": "approver", "ada": "admin"}
GOOD_TEXT = "@ana Obrigado pelo carinho, Ana! Ficamos muito felizes. Equipe Loja Aurora"
T0 = m.utcnow() - timedelta(hours=2)


def web_config(secret: str = SECRET) -> Config:
    """The shipped defaults without accounts: the sender here talks to a scripted connector."""
    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    data["accounts"] = []
    return parse_config(
        yaml.safe_dump(data, allow_unicode=True), environ={"SOCIAL_CARE_SESSION_SECRET": secret}
    )


def add_team(engine: Engine) -> None:
    for name, role in TEAM.items():
        add_user(engine, name, role, password=PASSWORD)


def insert_draft(
    engine: Engine,
    n: int,
    *,
    text: str = GOOD_TEXT,
    mention: str | None = None,
    platform: str = "x",
    handle: str = "ana",
    author_name: str = "Ana",
    language: str = "pt",
    intent: str = "praise",
    severity: int = 0,
    categories: list[str] | None = None,
    lint: list[dict[str, str]] | None = None,
    priority: float = 0.0,
    permalink: str | None = None,
    minutes_ago: int = 30,
) -> int:
    """A mention, its classification and a drafted reply, straight into the database."""
    with session_scope(engine) as session:
        author = m.Author(
            platform=platform,
            external_id=f"u-{handle}-{n}",
            handle=handle,
            name=author_name,
            followers=10 * n,
        )
        session.add(author)
        session.flush()
        mention_row = m.Mention(
            platform=platform,
            external_id=str(5000 + n),
            stream="mentions",
            author_id=author.id,
            text=mention if mention is not None else f"mention {n}",
            created_at=m.utcnow() - timedelta(minutes=minutes_ago),
            permalink=permalink
            if permalink is not None
            else f"https://x.example/status/{5000 + n}",
            reply_ref={"tweet_id": str(5000 + n)},
            stage=m.MentionStage.DRAFTED,
        )
        session.add(mention_row)
        session.flush()
        complaint = intent == "complaint"
        session.add(
            m.Classification(
                mention_id=mention_row.id,
                model_name="test",
                model_version="1",
                language=language,
                sentiment="negative" if complaint else "positive",
                intent=intent,
                complaint=complaint,
                complaint_score=0.91 if complaint else 0.03,
                categories=categories or [],
                severity=severity,
                remedy_due=False,
            )
        )
        draft = m.ReplyDraft(
            mention_id=mention_row.id,
            text=text,
            original_text=text,
            language=language,
            lint=lint or [],
            priority=priority,
        )
        session.add(draft)
        session.flush()
        return int(draft.id)  # type: ignore[arg-type]


@contextmanager
def database_at(url: str, revision: str) -> Iterator[Engine]:
    """An engine on the migrated database at ``url``, first downgraded to ``revision``."""
    engine = create_db_engine(url)
    cfg = _alembic_config(engine)
    try:
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.downgrade(cfg, revision)
        yield engine
    finally:
        engine.dispose()


def draft_state(engine: Engine, draft_id: int) -> m.ReplyDraft:
    with session_scope(engine) as session:
        draft = session.get(m.ReplyDraft, draft_id)
        assert draft is not None
        session.expunge(draft)
        return draft


def page_csrf(html: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert found, "no CSRF token in the page"
    return found.group(1)


class Browser:
    """A TestClient that logs in like a person: fetch the form, post it with its token."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.csrf = ""

    def login(self, name: str, password: str = PASSWORD) -> Any:
        form = self.client.get("/login")
        response = self.client.post(
            "/login",
            data={
                "name": name,
                "password": password,
                "csrf_token": page_csrf(form.text),
                "next": "/",
            },
            follow_redirects=False,
        )
        if response.status_code == 303:
            self.csrf = page_csrf(self.client.get("/").text)
        return response

    def post(
        self, url: str, data: dict[str, str] | None = None, *, htmx: bool = True, **kwargs: Any
    ) -> Any:
        headers = {"HX-Request": "true", "X-CSRF-Token": self.csrf} if htmx else {}
        payload = dict(data or {})
        if not htmx:
            payload.setdefault("csrf_token", self.csrf)
        return self.client.post(
            url, data=payload, headers=headers, follow_redirects=False, **kwargs
        )


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at its production cost takes ~0.5 s per hash on a shared CI core; these tests are
    about the web layer, so they hash with minimal parameters (still argon2, still verified)."""
    monkeypatch.setattr(
        users, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """SQLite only: these tests are about the web layer; test_postgres.py covers PostgreSQL."""
    engine = create_db_engine(f"sqlite:///{tmp_path / 'web.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def core(engine: Engine, scripted: Any) -> SocialCare:
    add_team(engine)
    core = SocialCare(web_config(), engine=engine)
    connector = scripted()
    # The sender asks connector_for for each draft's account; every account answers with the script.
    core.__dict__["connector_for"] = lambda account_id: connector
    core.__dict__["scripted_connector"] = connector
    return core


@pytest.fixture
def app(core: SocialCare) -> Any:
    return create_app(core)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@pytest.fixture
def as_user(app: Any) -> Iterator[Callable[[str], Browser]]:
    """A logged-in client per user name: ``as_user("paula")``."""
    clients: list[TestClient] = []

    def login(name: str) -> Browser:
        client = TestClient(app)
        clients.append(client)
        browser = Browser(client)
        assert browser.login(name).status_code == 303
        return browser

    yield login
    for client in clients:
        client.close()
