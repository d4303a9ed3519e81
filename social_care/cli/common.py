"""Shared CLI plumbing: the lazily built core object, consoles, output formats, user errors."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from connectors import ConnectorError
from social_care.app import SocialCare
from social_care.classifier import ModelLoadError
from social_care.config import ConfigError, load_config
from social_care.db import DatabaseError
from social_care.replies import QueueError
from social_care.users import PermissionDenied

console = Console()
err_console = Console(stderr=True)

USER_ERRORS = (ConfigError, DatabaseError, QueueError, PermissionDenied, ModelLoadError, ConnectorError, ValueError,
               FileNotFoundError)


@dataclass
class _State:
    config_path: Path | None = None
    _core: SocialCare | None = None

    def core(self, *, migrate: bool = False, check: bool = True) -> SocialCare:
        if self._core is None:
            config = load_config(self.config_path)
            logging.basicConfig(level=getattr(logging, config.settings.log_level.upper(), logging.INFO),
                                format="%(asctime)s %(levelname)s %(name)s: %(message)s")
            for chatty in ("alembic", "apscheduler"):  # a line per migration or job run is not news
                logging.getLogger(chatty).setLevel(logging.WARNING)
            self._core = SocialCare(config)
        if migrate:
            self._core.upgrade_db()
        elif check:
            self._core.check_db()
        return self._core

    def close(self) -> None:
        if self._core is not None and self._core._engine is not None:
            self._core._engine.dispose()
        self._core = None


state = _State()


def print_json(data: Any) -> None:
    """JSON for scripts: plain stdout, no colour, no wrapping."""
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def check_format(value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"--format must be one of {', '.join(allowed)}")
    return value
