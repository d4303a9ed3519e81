"""The inbox's main flows on PostgreSQL (the other web tests run on SQLite only, to stay fast)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from social_care import models as m
from social_care.app import SocialCare
from social_care.db import create_db_engine
from social_care.web import create_app

from .conftest import Browser, add_team, draft_state, insert_draft, web_config

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    engine = create_db_engine(pg_url)
    add_team(engine)
    yield engine
    engine.dispose()


def test_filter_approve_and_send_on_postgres(pg_engine: Engine, scripted: Any) -> None:
    core = SocialCare(web_config(), engine=pg_engine)
    connector = scripted()
    core.__dict__["connector_for"] = lambda account_id: connector
    delivery = insert_draft(
        pg_engine,
        1,
        intent="complaint",
        severity=3,
        categories=["delivery"],
        priority=5.0,
        lint=[{"rule": "apology", "level": "error", "message": "needs an apology"}],
    )
    other = insert_draft(pg_engine, 2, platform="facebook", language="en")
    with TestClient(create_app(core)) as client:
        paula = Browser(client)
        assert paula.login("paula").status_code == 303
        ids = [
            int(n)
            for n in re.findall(
                r'id="draft-(\d+)"', client.get("/?category=delivery&severity=3").text
            )
        ]
        assert ids == [delivery]
        assert paula.post(f"/drafts/{delivery}/approve").status_code == 422
        assert paula.post(f"/drafts/{delivery}/approve", {"override": "1"}).status_code == 200
        assert paula.post(f"/drafts/{other}/reject", {"reason": "not for us"}).status_code == 200
        assert "Sent 1, failed 0" in paula.post("/send").text
        assert client.get("/healthz").json() == {"status": "ok"}
    assert draft_state(pg_engine, delivery).state == m.ReplyState.SENT
    assert draft_state(pg_engine, other).state == m.ReplyState.REJECTED
    assert len(connector.posted) == 1
