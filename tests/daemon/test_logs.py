"""Daemon logs: tokens and personal data masked in messages, arguments and tracebacks; JSON lines off a TTY."""

from __future__ import annotations

import io
import json
import logging

import pytest

from social_care.daemon.logs import JsonLineFormatter, RedactingFilter, redact, setup_logging


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("GET /2/users/me -H 'Authorization: Bearer AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid'", "AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid"),
        ("https://graph.facebook.com/v21.0/me/feed?fields=id&access_token=EAAGm0PX4ZCpsBA&limit=5", "EAAGm0PX4ZCpsBA"),
        ("body={'access_token': 'IGQVJYeUk4', 'x': 1}", "IGQVJYeUk4"),
        ("customer wrote: my mail is ana.souza+pedido@gmail.com", "ana.souza+pedido@gmail.com"),
        ("meu CPF é 123.456.789-09, resolvam", "123.456.789-09"),
        ("CPF 12345678909 no pedido", "12345678909"),
        ("liga pra mim (11) 98765-4321", "98765-4321"),
        ("whatsapp +55 11 98765-4321", "98765-4321"),
        ("tel 11987654321", "11987654321"),
    ],
)
def test_redact_masks_tokens_and_personal_data(text: str, secret: str) -> None:
    assert secret not in redact(text)


def test_redact_keeps_ids_and_times() -> None:
    text = "polled aurora-x: tweet 1861234567890123456 page 100000000000001 at 2026-11-22T13:40:01 took 0.25 s"
    assert redact(text) == text


def test_filter_masks_arguments_and_tracebacks_of_child_loggers() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonLineFormatter())
    logger = logging.getLogger("connectors.test_redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("fetch failed for %s with %s", "ana@example.com", "Bearer abc.def-123")
        try:
            raise RuntimeError("GET https://graph.facebook.com/me?access_token=SECRETTOKEN failed")
        except RuntimeError:
            logger.exception("poll crashed")
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines[0]["msg"] == "fetch failed for [email] with Bearer [REDACTED]"
    assert lines[0]["level"] == "WARNING" and lines[0]["logger"] == "connectors.test_redaction"
    assert "SECRETTOKEN" not in stream.getvalue() and "access_token=[REDACTED]" in lines[1]["exc"]


def test_setup_logging_writes_json_lines_when_not_a_tty() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        setup_logging("INFO", stream=stream)
        logging.getLogger("social_care.x").info("poll ok", extra={"account": "aurora-x", "stored": 3})
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    entry = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert entry["msg"] == "poll ok" and entry["account"] == "aurora-x" and entry["stored"] == 3
