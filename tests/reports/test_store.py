"""The daemon's Monday job: reports kept under data_dir/reports, mailed once, listed for the web inbox.

These read the seeded SQLite database only: their subject is files and mail; the figures are
checked on both backends in test_figures.py.
"""

from __future__ import annotations

import email
import socketserver
import threading
from collections.abc import Iterator
from email.message import Message
from email.policy import default as default_policy
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from social_care.db import create_db_engine
from social_care.reports import list_reports, produce_weekly_report, send_report_email

from .conftest import NOW, make_config


class _SMTPSink(socketserver.StreamRequestHandler):
    """Just enough SMTP to accept a message: greet, say 250, swallow DATA up to the lone dot."""

    def _reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        self._reply("220 sink ready")
        envelope: dict[str, object] = {"rcpt": []}
        while raw := self.rfile.readline():
            command = raw.decode("ascii", "replace").strip()
            verb = command.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self._reply("250-sink")
                self._reply("250 8BITMIME")
            elif verb == "MAIL":
                envelope["from"] = command
                self._reply("250 ok")
            elif verb == "RCPT":
                envelope["rcpt"].append(command)  # type: ignore[attr-defined]
                self._reply("250 ok")
            elif verb == "DATA":
                self._reply("354 go ahead")
                lines = []
                while (line := self.rfile.readline()) not in (b".\r\n", b""):
                    lines.append(line[1:] if line.startswith(b"..") else line)
                envelope["message"] = email.message_from_bytes(b"".join(lines), policy=default_policy)
                self.server.received.append(envelope)  # type: ignore[attr-defined]
                self._reply("250 queued")
            elif verb == "QUIT":
                self._reply("221 bye")
                return
            else:
                self._reply("250 ok")


@pytest.fixture
def smtp_sink() -> Iterator[tuple[dict[str, object], list[dict[str, object]]]]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPSink)
    server.daemon_threads = True
    server.received = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings = {"host": "127.0.0.1", "port": server.server_address[1], "from": "reports@lojaaurora.example",
                "to": ["sac@lojaaurora.example", "ceo@lojaaurora.example"]}
    yield settings, server.received  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


@pytest.fixture
def sqlite_seeded(sqlite_seeded_url: str) -> Iterator[Engine]:
    engine = create_db_engine(sqlite_seeded_url)
    yield engine
    engine.dispose()


def test_monday_job_keeps_last_week_and_is_idempotent(sqlite_seeded: Engine, sqlite_seeded_url: str,
                                                      tmp_path: Path, smtp_sink) -> None:  # type: ignore[no-untyped-def]
    seeded = sqlite_seeded
    config = make_config(tmp_path, database_url=sqlite_seeded_url)
    settings, received = smtp_sink
    paths = produce_weekly_report(seeded, config, now=NOW, smtp=settings)
    folder = tmp_path / "data" / "reports"
    assert paths == [folder / "2026-W46.html", folder / "2026-W46.json"]
    assert '"complaints": 25' not in paths[0].read_text(encoding="utf-8")
    assert '"week": "2026-W46"' in paths[1].read_text(encoding="utf-8")
    stamps = [p.stat().st_mtime_ns for p in paths]

    assert produce_weekly_report(seeded, config, now=NOW, smtp=settings) == paths  # a restart on Monday
    assert [p.stat().st_mtime_ns for p in paths] == stamps  # kept, not rebuilt
    assert len(received) == 1  # mailed once
    message: Message = received[0]["message"]  # type: ignore[assignment]
    assert message["Subject"] == "Loja Aurora weekly complaint report 2026-W46"
    assert message["To"] == "sac@lojaaurora.example, ceo@lojaaurora.example"
    assert len(received[0]["rcpt"]) == 2  # type: ignore[arg-type]
    body = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Complaints: 25 (+15 vs last week)" in body and "Spiking categories: delivery" in body
    attachment = next(message.iter_attachments())
    assert attachment.get_filename() == "2026-W46.html"
    assert attachment.get_content().startswith("<!doctype html>")

    forced = produce_weekly_report(seeded, config, now=NOW, force=True)
    assert forced == paths and paths[1].stat().st_mtime_ns >= stamps[1]
    assert [p.name for p in sorted(folder.iterdir()) if not p.name.startswith(".")] == [
        "2026-W46.emailed", "2026-W46.html", "2026-W46.json"]


def test_list_reports_for_the_web_inbox(sqlite_seeded: Engine, sqlite_seeded_url: str, tmp_path: Path) -> None:
    seeded = sqlite_seeded
    config = make_config(tmp_path, database_url=sqlite_seeded_url)
    assert list_reports(config) == []  # no folder yet
    produce_weekly_report(seeded, config, now=NOW)
    folder = tmp_path / "data" / "reports"
    (folder / "notes.html").write_text("not a report", encoding="utf-8")
    (folder / "2026-W40.html").write_text("<!doctype html>", encoding="utf-8")  # an HTML whose JSON was removed
    stored = list_reports(config)
    assert [s.week for s in stored] == ["2026-W46", "2026-W40"]
    latest = stored[0]
    assert (latest.mentions, latest.complaints, latest.spiking_categories) == (32, 25, ["delivery"])
    assert latest.html_path == folder / "2026-W46.html" and latest.json_path == folder / "2026-W46.json"
    assert stored[1].json_path is None and stored[1].mentions is None


def test_email_settings_are_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    html = tmp_path / "2026-W46.html"
    html.write_text("<!doctype html>", encoding="utf-8")
    with pytest.raises(ValueError, match="smtp settings need host, to"):
        send_report_email({"from": "a@b.example"}, "2026-W46", {}, html)
    monkeypatch.delenv("SC_TEST_SMTP_PASSWORD", raising=False)
    with pytest.raises(ValueError, match="SC_TEST_SMTP_PASSWORD, which is not set"):
        send_report_email({"host": "127.0.0.1", "from": "a@b.example", "to": ["c@d.example"], "user": "a",
                           "password_env": "SC_TEST_SMTP_PASSWORD"}, "2026-W46", {"brand": "x"}, html)
