"""Jinja2 rendering for the inbox: one autoescaping environment and the filters its templates use.

Mention texts, author names and draft texts come from strangers on the internet. Autoescape is
on for every template and no template marks user data ``|safe``; links from the platforms go
through :func:`http_url` so a ``javascript:`` permalink never becomes a clickable href.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import HTMLResponse

from social_care import models as m

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


def http_url(value: str | None) -> str | None:
    """The URL when it is plain http(s), else None."""
    if not value:
        return None
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return None
    return value.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def waiting(since: datetime, now: datetime | None = None) -> str:
    """How long a mention has waited, short enough for a phone: '7 min', '3 h 5 min', '2 d 4 h'."""
    minutes = max(0, int(((now or m.utcnow()) - since).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def minutes_since(since: datetime) -> int:
    return int((m.utcnow() - since).total_seconds() // 60)


def utc(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


def percent(value: float) -> str:
    return f"{value * 100:.0f}%"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,  # every template, whatever its extension
        undefined=jinja2.StrictUndefined,  # a template typo fails the tests, not renders blank
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # the templates ship with the package: no stat() of each one per render
    )
    env.filters.update(http_url=http_url, waiting=waiting, utc=utc, percent=percent)
    env.globals.update(minutes_since=minutes_since, now=m.utcnow)
    return env


templates = Jinja2Templates(env=_environment())


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    return templates.TemplateResponse(
        request, name, context, status_code=status_code, headers=headers
    )
