"""Deployment files: the systemd unit verifies, the compose file and Dockerfile have the expected shape."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from social_care.config import parse_config

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
ROOT = DEPLOY.parent


def _unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign] - systemd keys are case-sensitive
    parser.read(DEPLOY / "social-care.service", encoding="utf-8")
    return parser


def test_systemd_unit_has_what_a_graceful_daemon_needs() -> None:
    unit = _unit()
    service = unit["Service"]
    assert service["Type"] == "simple" and service["Restart"] == "on-failure"
    assert service["KillSignal"] == "SIGTERM"
    assert int(service["TimeoutStopSec"]) > 30  # longer than `run --stop-timeout 30`
    assert service["EnvironmentFile"].startswith("/etc/social-care/")
    assert re.search(r"social-care run\b.*--stop-timeout 30", service["ExecStart"])
    assert unit["Install"]["WantedBy"] == "multi-user.target"
    assert "network-online.target" in unit["Unit"]["After"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_analyze_verify_finds_only_the_missing_install(tmp_path: Path) -> None:
    result = subprocess.run(["systemd-analyze", "verify", str(DEPLOY / "social-care.service")],
                            capture_output=True, text=True, timeout=60, check=False)
    problems = [line for line in (result.stdout + result.stderr).splitlines()
                if line.strip() and "/opt/social-care/.venv/bin/social-care is not executable" not in line]
    assert problems == []  # on this machine the program is not installed at /opt; nothing else may complain


def test_compose_file_runs_migrations_then_the_daemon_next_to_postgres() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert set(services) >= {"postgres", "migrate", "app"}
    assert services["postgres"]["image"].startswith("postgres:") and "healthcheck" in services["postgres"]
    migrate, app = services["migrate"], services["app"]
    assert migrate["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    assert migrate["command"] == ["db", "upgrade"] and app["image"] == migrate["image"]
    assert app["command"][0] == "run" and "--metrics-port" in app["command"]
    assert app["depends_on"] == {"postgres": {"condition": "service_healthy"},
                                 "migrate": {"condition": "service_completed_successfully"}}
    assert app["stop_signal"] == "SIGTERM" and int(app["stop_grace_period"].rstrip("s")) > 30
    assert app["restart"] == "on-failure" and "/healthz" in " ".join(app["healthcheck"]["test"])
    for service in (migrate, app):
        assert service["env_file"] == ["social-care.env"]
        assert service["environment"]["DATABASE_URL"].startswith("postgresql+psycopg://")
        config_mount = next(v for v in service["volumes"] if v.endswith(":/etc/social-care/config.yaml:ro"))
        assert (DEPLOY / config_mount.split(":")[0]).exists()
    assert set(compose["volumes"]) == {"pgdata", "appdata"}


def test_dockerfile_installs_cpu_torch_before_the_package() -> None:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert text.splitlines()[2].startswith("FROM python:3.11-slim") or "\nFROM python:3.11-slim\n" in text
    torch = text.index("pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0")
    assert torch < text.index("pip install -e .")
    for source in re.findall(r"^COPY (\S+) ", text, flags=re.MULTILINE):
        assert (ROOT / source).exists(), source
    assert "STOPSIGNAL SIGTERM" in text and 'ENTRYPOINT ["social-care"]' in text and "/healthz" in text
    assert "USER social-care" in text


def test_example_config_is_valid_with_the_example_environment() -> None:
    example = (DEPLOY / "social-care.env.example").read_text(encoding="utf-8")
    names = re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", example, flags=re.MULTILINE)
    environ = {name: "x" for name in names} | {"DATABASE_URL": "postgresql+psycopg://u:p@postgres/social_care"}
    config = parse_config((DEPLOY / "config.example.yaml").read_text(encoding="utf-8"), environ=environ)
    assert config.database_url.startswith("postgresql+psycopg://")
    assert {a.platform for a in config.settings.accounts} == {"x", "facebook", "instagram"}
