"""The CLI contract: commands, JSON shapes, exit codes, one-line user errors."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from social_care.cli import main
from social_care.config import DEFAULT_CONFIG_PATH

ISSUE_2_COMMANDS = {"init", "demo", "poll", "classify", "queue", "review", "approve", "reject", "send", "users",
                    "db", "sandbox"}
QUEUE_FIELDS = {"id", "platform", "mention_text", "author", "language", "sentiment", "complaint", "categories",
                "severity", "state", "draft_text", "created_at"}


def run(args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["social-care", *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def demo_config(tmp_path: Path, db_url: str) -> Path:
    """The shipped config with its own sandbox port and the test database."""
    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    data["data_dir"] = str(tmp_path / "data")
    data["database"]["url"] = db_url
    data["sandbox"]["port"] = _free_port()
    data["classifier"]["model"] = str(Path(__file__).resolve().parents[1] / data["classifier"]["model"])
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_help_lists_the_contract(capsys, monkeypatch) -> None:
    code, out, _ = run(["--help"], capsys, monkeypatch)
    assert code == 0
    listed = {line.split()[1] for line in out.splitlines() if line.startswith("│ ") and len(line.split()) > 1}
    assert ISSUE_2_COMMANDS <= listed, ISSUE_2_COMMANDS - listed


@pytest.mark.shipped_model
def test_demo_once_leaves_drafts_that_queue_lists_as_json(demo_config, capsys, monkeypatch) -> None:
    code, out, err = run(["--config", str(demo_config), "demo", "--once"], capsys, monkeypatch)
    assert code == 0, err
    assert "drafted" in out
    code, out, err = run(["--config", str(demo_config), "queue", "--format", "json"], capsys, monkeypatch)
    assert code == 0, err
    rows: list[dict[str, Any]] = json.loads(out)
    assert rows and QUEUE_FIELDS <= set(rows[0])
    severities = [r["severity"] for r in rows]
    assert severities == sorted(severities, reverse=True)  # priority order starts with severity

    draft_id = rows[0]["id"]
    code, _, err = run(["--config", str(demo_config), "approve", str(draft_id), "--user", "demo"], capsys, monkeypatch)
    assert code == 0, err
    code, out, err = run(["--config", str(demo_config), "queue", "--state", "approved", "--format", "json"],
                         capsys, monkeypatch)
    assert [r["id"] for r in json.loads(out)] == [draft_id]


@pytest.mark.shipped_model
def test_classify_prints_jsonl_with_the_contract_fields(capsys, monkeypatch) -> None:
    text = "Meu pedido não chegou e ninguém responde, quero reembolso!"
    code, out, err = run(["classify", text, "I love my new shoes, thank you!", "--format", "jsonl"], capsys, monkeypatch)
    assert code == 0, err
    first, second = (json.loads(line) for line in out.strip().splitlines())
    for row in (first, second):
        assert {"language", "sentiment", "complaint", "complaint_score", "categories", "severity"} <= set(row)
    assert first["language"] == "pt" and first["complaint"] is True
    assert second["language"] == "en" and second["complaint"] is False


def test_classify_input_file_errors_are_one_line(tmp_path, capsys, monkeypatch) -> None:
    bad = tmp_path / "in.jsonl"
    bad.write_text('{"text": "ok"}\nnot json\n', encoding="utf-8")
    code, out, err = run(["classify", "--input", str(bad)], capsys, monkeypatch)
    assert code == 1 and "in.jsonl:2: not JSON" in err and "Traceback" not in err + out


def test_user_errors_exit_1_with_one_line_and_no_traceback(demo_config, tmp_path, capsys, monkeypatch) -> None:
    cases = [
        ["--config", str(demo_config), "approve", "999999", "--user", "nobody"],
        ["--config", str(demo_config), "reject", "1", "--reason", "x", "--user", "nobody"],
        ["--config", str(tmp_path / "missing.yaml"), "queue"],
        ["--config", str(demo_config), "queue", "--state", "bogus"],
        ["--config", str(demo_config), "users", "add", "x", "--role", "emperor"],
        ["--config", str(demo_config), "queue", "--format", "xml"],
    ]
    for args in cases:
        code, out, err = run(args, capsys, monkeypatch)
        assert code == 1, (args, out, err)
        assert "Traceback" not in out + err
        assert len([line for line in err.strip().splitlines() if line.strip()]) <= 3, err


def test_mistyped_config_key_is_named_with_suggestion(tmp_path, capsys, monkeypatch) -> None:
    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    data["brand"]["keywrds"] = data["brand"].pop("keywords")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    code, _, err = run(["--config", str(path), "queue"], capsys, monkeypatch)
    assert code == 1
    assert "brand.keywrds" in err and "keywords" in err


def test_dead_database_is_a_clear_error(tmp_path, capsys, monkeypatch) -> None:
    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    data["database"]["url"] = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    code, out, err = run(["--config", str(path), "queue"], capsys, monkeypatch)
    assert code == 1 and "cannot reach the database" in err and "Traceback" not in out + err


def test_users_add_and_list(demo_config, capsys, monkeypatch) -> None:
    code, _, err = run(["--config", str(demo_config), "users", "add", "paula", "--role", "approver"], capsys, monkeypatch)
    assert code == 0, err
    code, out, _ = run(["--config", str(demo_config), "users", "list", "--format", "json"], capsys, monkeypatch)
    assert {"name": "paula", "role": "approver", "active": True} in json.loads(out)
    code, _, err = run(["--config", str(demo_config), "users", "deactivate", "paula"], capsys, monkeypatch)
    assert code == 0, err
    code, out, _ = run(["--config", str(demo_config), "users", "list", "--format", "json"], capsys, monkeypatch)
    assert {"name": "paula", "role": "approver", "active": False} in json.loads(out)
    code, _, err = run(["--config", str(demo_config), "approve", "1", "--user", "paula"], capsys, monkeypatch)
    assert code == 1 and "paula is deactivated" in err


def test_db_upgrade_is_idempotent(demo_config, capsys, monkeypatch) -> None:
    for _ in range(2):
        code, _, err = run(["--config", str(demo_config), "db", "upgrade"], capsys, monkeypatch)
        assert code == 0, err


def test_init_writes_a_config_that_loads(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run(["init", "--path", "mine.yaml"], capsys, monkeypatch)
    assert code == 0, err
    assert (tmp_path / "mine.yaml").exists() and (tmp_path / "data" / "social-care.db").exists()
    code, _, err = run(["init", "--path", "mine.yaml"], capsys, monkeypatch)
    assert code == 1 and "--force" in err


@pytest.mark.shipped_model
def test_eval_scores_a_labelled_file(tmp_path, capsys, monkeypatch) -> None:
    data = tmp_path / "labelled.jsonl"
    rows = [{"text": "Meu pedido não chegou, quero meu dinheiro de volta", "complaint": 1},
            {"text": "Adorei a blusa, chegou rapidinho!", "complaint": 0},
            {"text": "My package never arrived and nobody answers", "complaint": 1},
            {"text": "Thanks, the shoes are perfect", "complaint": 0}]
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    code, out, err = run(["eval", "--dataset", str(data), "--format", "json"], capsys, monkeypatch)
    assert code == 0, err
    result = json.loads(out)
    assert result["n"] == 4 and result["throughput"]["texts"] == 4
    assert "complaint" in json.dumps(result["metrics"])
    code, _, err = run(["eval", "--dataset", str(tmp_path / "none.jsonl")], capsys, monkeypatch)
    assert code == 1 and "is not a file" in err
