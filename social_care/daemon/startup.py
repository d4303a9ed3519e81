"""Start-up checks of `social-care run`: config, database, model (fatal) and each account's credentials (reported)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from social_care.app import SocialCare

log = logging.getLogger(__name__)


def check_startup(core: SocialCare, echo: Callable[[str], None], *, load_model: bool = True) -> set[str]:
    """Raise on what makes running pointless; print one line per account. Returns accounts whose credentials work.

    The config was validated when ``core`` was built. A database that is unreachable or behind on
    migrations raises DatabaseError naming `social-care db upgrade`; a model that does not load
    raises ModelLoadError. A failing account is only reported: the others still get polled and
    the failing one is retried on its schedule (or skipped, when it needs re-authentication).
    """
    core.check_db()
    echo(f"database: ok ({core.engine.url.render_as_string(hide_password=True)})")
    if load_model:
        classifier = core.classifier
        echo(f"model: ok ({classifier.name} {classifier.version})")
    healthy: set[str] = set()
    lines = core.check_accounts()
    for name, line in lines:
        echo(f"account {name}: {line}")
        if line.startswith("ok"):
            healthy.add(name)
    if not lines:
        echo("accounts: none enabled; the daemon will classify, draft and send but not poll")
    return healthy
