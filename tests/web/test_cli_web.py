"""`social-care web`: builds the app from the config and serves it with uvicorn on --host/--port."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from social_care.cli import main
from social_care.cli.common import state
from social_care.config import DEFAULT_CONFIG_PATH


def _config(tmp_path: Path) -> Path:
    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    data["accounts"] = []
    data["data_dir"] = str(tmp_path / "data")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_web_command_serves_the_inbox_on_the_given_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import uvicorn

    served: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: served.update(app=app, **kwargs))
    monkeypatch.delenv("SOCIAL_CARE_SESSION_SECRET", raising=False)
    monkeypatch.setattr(
        sys, "argv", ["social-care", "--config", str(_config(tmp_path)), "web", "--port", "8123"]
    )
    state.close()
    try:
        main()
    finally:
        state.close()
    assert (
        served["host"] == "127.0.0.1" and served["port"] == 8123
    )  # host from config.web, port from the flag
    assert {route.path for route in served["app"].router.routes if hasattr(route, "path")} >= {
        "/static"
    }
    assert "http://127.0.0.1:8123/" in capsys.readouterr().out
    assert (tmp_path / "data" / "social-care.db").exists()  # migrated before serving


def test_empty_session_secret_warns_that_logins_will_not_survive(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from social_care.web.security import session_secret

    from .conftest import web_config

    config = web_config(secret="")
    assert config.settings.web.session_secret == ""
    with caplog.at_level("WARNING"):
        first, second = session_secret(config), session_secret(config)
    assert first != second and len(first) >= 32
    assert "SOCIAL_CARE_SESSION_SECRET is not set" in caplog.text
