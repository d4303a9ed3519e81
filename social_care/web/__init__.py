"""The web inbox: log in, review the reply queue, edit, approve, reject and send (FastAPI + Jinja2 + htmx).

Public API: :func:`create_app` builds the ASGI app for a :class:`social_care.app.SocialCare`.
"""

from __future__ import annotations

from social_care.web.app import create_app

__all__ = ["create_app"]
