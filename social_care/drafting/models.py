"""The values drafting takes and gives: a request describing a mention, a draft, a lint finding."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DraftRequest:
    """A classified mention that may get a reply. `text` is untrusted, never used as a template."""

    platform: str  # "x" | "facebook" | "instagram"
    text: str
    language: str  # "pt" | "en" | "es" | "other"
    author_handle: str | None
    author_name: str | None
    intent: str  # complaint | question | praise | other
    sentiment: str  # negative | neutral | positive
    complaint: bool
    categories: tuple[str, ...]
    severity: int  # 0 none .. 4 blame or threat
    remedy_due: bool
    is_own: bool = False
    prior_mentions: int = 0
    prior_complaints: int = 0


@dataclass(frozen=True)
class Draft:
    """A proposed reply. `template` is the file used, or "fallback" for the safe generic draft."""

    text: str
    language: str
    template: str
    fallback: bool
    error: str | None  # the template error, with file and line, that caused the fallback


@dataclass(frozen=True)
class LintFinding:
    """One policy rule a reply breaks. Errors block approval unless a reviewer overrides them."""

    rule: str
    level: str  # "error" | "warning"
    message: str
