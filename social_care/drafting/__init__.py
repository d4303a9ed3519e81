"""Reply drafting: whether a mention needs a reply, a draft from templates, a policy lint."""

from __future__ import annotations

from .choices import needs_reply, reply_language
from .lint import blocking, lint_draft
from .models import Draft, DraftRequest, LintFinding
from .render import draft_reply

__all__ = [
    "Draft",
    "DraftRequest",
    "LintFinding",
    "blocking",
    "draft_reply",
    "lint_draft",
    "needs_reply",
    "reply_language",
]
