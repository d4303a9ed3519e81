"""The four formats of a report and the `social-care report` command."""

from __future__ import annotations

import base64
import csv
import io
import json
import sys
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy.engine import Engine

from social_care.cli import main
from social_care.config import Config
from social_care.reports import build_report, render_csv, render_html, render_json, render_terminal
from social_care.reports.tabular import CSV_HEADER
from social_care.reports.terminal import sparkline

from .conftest import NOW, make_config


@pytest.fixture(scope="module")
def w46(seeded: Engine, config: Config):  # type: ignore[no-untyped-def]
    return build_report(seeded, config, "2026-W46", now=NOW)


def test_json_holds_every_figure(w46) -> None:  # type: ignore[no-untyped-def]
    assert json.loads(render_json(w46)) == w46.to_dict()


def test_csv_is_tidy_and_parses(w46) -> None:  # type: ignore[no-untyped-def]
    rows = list(csv.reader(io.StringIO(render_csv(w46))))
    assert tuple(rows[0]) == CSV_HEADER
    assert all(len(r) == 5 for r in rows)
    index = {tuple(r[:4]): r[4] for r in rows[1:]}
    assert len(index) == len(rows) - 1  # (section, dimension, key, metric) identifies a value
    assert index[("report", "meta", "", "week")] == "2026-W46"
    assert index[("volume", "total", "all", "mentions_this_week")] == "32"
    assert index[("volume", "total", "all", "complaints_change_pct")] == "150.0"
    assert index[("series", "platform", "facebook", "mentions_2026-W45")] == "1"
    assert index[("volume", "language", "en", "mentions_change_pct")] == ""  # undefined: no mentions last week
    assert index[("spikes", "category", "delivery", "z")] == "5.2"
    assert index[("spikes", "category", "delivery", "spike")] == "True"
    assert index[("spikes", "category", "damaged_defective", "spike")] == "False"
    assert index[("sentiment", "sentiment", "negative", "share")] == "0.6774"
    assert index[("severity", "severity", "4", "complaints")] == "4"
    assert index[("remedies", "total", "all", "resolved")] == "4"
    assert index[("response", "total", "all", "first_response_p90_min")] == "144.0"
    assert index[("response", "rejected_reason", "duplicate", "drafts")] == "2"
    assert index[("new_terms", "term", "entrega parada", "complaints")] == "6"


def test_html_is_one_self_contained_escaped_file(w46) -> None:  # type: ignore[no-untyped-def]
    html = render_html(w46)
    images = html.split('src="data:image/png;base64,')[1:]
    assert len(images) == 4
    for chunk in images:
        assert base64.b64decode(chunk.split('"', 1)[0]).startswith(b"\x89PNG\r\n\x1a\n")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html  # no script at all: the user's text is shown, never run
    assert "http://" not in html and "https://" not in html  # nothing to fetch: it works offline, attached to a mail
    assert 'name="viewport"' in html and "max-width" in html
    assert "entrega parada" in html and "delivery" in html


def test_terminal_shows_tables_and_sparklines(w46) -> None:  # type: ignore[no-untyped-def]
    console = Console(record=True, width=140, force_terminal=False)
    render_terminal(w46, console)
    text = console.export_text()
    assert "week 2026-W46" in text
    assert "delivery: 12 complaints (usually 3, z 5.2)" in text
    assert "<script>alert(1)</script>" in text  # printed as text, never read as markup
    assert sparkline(w46.complaints.series) in text
    assert "answered within 60 min" in text and "3 of 6 (50%)" in text


def test_sparkline_scales_to_the_largest_week() -> None:
    assert sparkline([0, 1, 2, 4, 8]) == "▁▂▃▅█"
    assert sparkline([0, 0, 0]) == "▁▁▁"


def _run_cli(monkeypatch: pytest.MonkeyPatch, config_path: Path, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["social-care", "--config", str(config_path), "report", *args])
    try:
        main()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_cli_writes_each_format(seeded_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    config = make_config(tmp_path, database_url=seeded_url)
    assert config.path is not None
    out = tmp_path / "w46.json"
    assert _run_cli(monkeypatch, config.path, "--week", "2026-W46", "--format", "json", "--output", str(out)) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["complaints"]["this_week"] == 25
    assert "report 2026-W46 written to" in capsys.readouterr().err
    assert _run_cli(monkeypatch, config.path, "--week", "2026-W46", "--format", "json", "--platform", "instagram") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["mentions"]["this_week"] == 9 and data["filters"]["platform"] == "instagram"
    assert _run_cli(monkeypatch, config.path, "--week", "2026-W46", "--format", "csv") == 0
    assert capsys.readouterr().out.startswith("section,dimension,key,metric,value\n")
    assert _run_cli(monkeypatch, config.path, "--week", "2026-W46") == 0
    assert "week 2026-W46" in capsys.readouterr().out


@pytest.mark.parametrize(("args", "message"), [
    (("--week", "2026-47"), "invalid week '2026-47': use the ISO week format YYYY-Www, e.g. 2026-W47"),
    (("--format", "pdf"), "--format must be one of terminal, html, json, csv"),
    (("--account", "nobody"), "no account named 'nobody'"),
])
def test_cli_user_errors_are_one_line(seeded_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str], args: tuple[str, ...],
                                      message: str) -> None:
    config = make_config(tmp_path, database_url=seeded_url)
    assert config.path is not None
    assert _run_cli(monkeypatch, config.path, *args) == 1
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and message in " ".join(err.split())  # rich wraps at the terminal width
    if args[0] == "--week":
        assert err == f"error: {message}"
