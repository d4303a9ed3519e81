"""`social-care review`: the keyboard loop approves, edits, rejects and bulk-approves praise."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
import yaml
from sqlmodel import select

from social_care import models as m
from social_care.cli import main
from social_care.config import DEFAULT_CONFIG_PATH
from social_care.db import create_db_engine, session_scope
from social_care.ingest import store_records
from social_care.users import add_user

PRAISE = "@ana Obrigado pelo carinho, Ana! Ficamos muito felizes. Equipe Loja Aurora"


@pytest.fixture
def review_env(tmp_path: Path, db_url: str, record):
    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    data["database"]["url"] = db_url
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    engine = create_db_engine(db_url)
    add_user(engine, "paula", "approver")
    with session_scope(engine) as session:
        account = m.Account(name="aurora-x", platform="x")
        session.add(account)
        session.flush()
        store_records(session, [record(n, author="ana") for n in range(1, 5)], account_id=account.id)
        for n, mention in enumerate(session.exec(select(m.Mention).order_by(m.Mention.id)).all()):
            intent = "praise" if n >= 2 else "complaint"
            session.add(m.Classification(mention_id=mention.id, model_name="t", model_version="1", language="pt",
                                         sentiment="positive", intent=intent, complaint=intent == "complaint",
                                         complaint_score=0.1, categories=[], severity=n, remedy_due=False))
            session.add(m.ReplyDraft(mention_id=mention.id, text=PRAISE, original_text=PRAISE, language="pt",
                                     priority=float(n)))
    yield path, engine
    engine.dispose()


def _review(path: Path, keys: str, monkeypatch, capsys) -> str:
    monkeypatch.setattr(sys, "argv", ["social-care", "--config", str(path), "review", "--user", "paula"])
    monkeypatch.setattr(sys, "stdin", io.StringIO(keys))
    monkeypatch.delenv("EDITOR", raising=False)
    try:
        main()
    except SystemExit as exc:
        assert not exc.code, capsys.readouterr()
    return capsys.readouterr().out


def _states(engine) -> list[str]:
    with session_scope(engine) as session:
        return [d.state.value for d in session.exec(select(m.ReplyDraft).order_by(m.ReplyDraft.id)).all()]


def test_review_keys_approve_edit_reject_skip(review_env, monkeypatch, capsys) -> None:
    path, engine = review_env
    # Priority order: severity 3, 2, 1, 0 -> drafts 4, 3, 2, 1.
    keys = "a\n" "e\n" + PRAISE + " Volte sempre!\n" "y\n" "r\n" "not our customer\n" "s\n"
    out = _review(path, keys, monkeypatch, capsys)
    assert "draft 4" in out and "mention" in out
    assert _states(engine) == ["drafted", "rejected", "approved", "approved"]
    with session_scope(engine) as session:
        edited = session.get(m.ReplyDraft, 3)
        assert edited.text.endswith("Volte sempre!")


def test_review_bulk_approves_only_lint_clean_praise(review_env, monkeypatch, capsys) -> None:
    path, engine = review_env
    _review(path, "b\n" "y\n" "q\n", monkeypatch, capsys)
    assert _states(engine) == ["drafted", "drafted", "approved", "approved"]
