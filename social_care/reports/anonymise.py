"""Handles in reports are anonymised: first letter, stars, and a short stable hash to tell people apart."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

_HANDLE_RE = re.compile(r"@(\w{1,50})")


def anonymise_handle(handle: str | None, platform: str = "") -> str:
    """`ana_souza` -> `@a***3f9c`: readable as "someone", the same person always the same tag."""
    if not handle:
        return "@anonymous"
    name = handle.lstrip("@")
    digest = hashlib.sha256(f"{platform}:{name.lower()}".encode()).hexdigest()[:4]
    return f"@{name[:1].lower()}***{digest}"


def anonymise_text(text: str, *, keep: Iterable[str] = (), platform: str = "") -> str:
    """Replace @handles inside a text, except the brand's own (``keep``)."""
    kept = {k.lower().lstrip("@") for k in keep}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        return match.group(0) if name.lower() in kept else anonymise_handle(name, platform)

    return _HANDLE_RE.sub(replace, text)
