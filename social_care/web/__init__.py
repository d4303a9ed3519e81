"""The web inbox: review, edit, approve, reject and send replies (FastAPI + Jinja2 + htmx).

Public API: :func:`create_app` builds the ASGI app for a :class:`social_care.app.SocialCare`.
"""

from __future__ import annotations

from social_care.web.app import create_app

__all__ = ["create_app"]
