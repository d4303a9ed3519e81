"""The real `social-care run` binary on the sandbox with the shipped model: serves health and metrics, stops on SIGTERM."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from social_care.db import create_db_engine

pytestmark = [pytest.mark.slow, pytest.mark.shipped_model]

BIN = Path(sys.executable).with_name("social-care")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except OSError:
        return 0, ""


def test_social_care_run_end_to_end(tmp_path: Path, sqlite_url: str, sandbox_server: Any, sandbox_config_fn: Any) -> None:
    config = sandbox_config_fn(tmp_path, db_url=sqlite_url, sandbox_url=sandbox_server.base_url)
    port = _free_port()
    log = (tmp_path / "run.log").open("w")
    proc = subprocess.Popen([str(BIN), "--config", str(config.path), "run", "--metrics-port", str(port),
                             "--pipeline-interval", "1"], stdout=log, stderr=subprocess.STDOUT)
    engine = create_db_engine(sqlite_url)
    try:
        deadline = time.monotonic() + 180
        drafted = 0
        while time.monotonic() < deadline and proc.poll() is None:
            with engine.connect() as connection:
                drafted = connection.execute(sa.text("SELECT count(*) FROM reply_drafts")).scalar() or 0
            if drafted and _get(f"http://127.0.0.1:{port}/healthz")[0] == 200:
                break
            time.sleep(0.5)
        assert drafted, (tmp_path / "run.log").read_text()
        status, body = _get(f"http://127.0.0.1:{port}/healthz")
        assert status == 200 and json.loads(body)["leader"] is True
        metrics = _get(f"http://127.0.0.1:{port}/metrics")[1]
        assert 'social_care_mentions_ingested_total{platform="x"}' in metrics
        assert "social_care_classifier_latency_seconds_count" in metrics
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(35) == 0
        print(f"\n`social-care run` drafted {drafted} and stopped {time.monotonic() - started:.1f} s after SIGTERM")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        engine.dispose()
        log.close()
    output = (tmp_path / "run.log").read_text()
    assert "database: ok" in output and "model: ok" in output and "account aurora-x: ok" in output
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert any(entry.get("event") == "daemon_stopped" and entry.get("clean") for entry in lines)
