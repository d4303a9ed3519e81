"""How a reply addresses the person: a clean first name and @handle from untrusted profile fields."""

from __future__ import annotations

import re
import unicodedata

# X handles are 1-15 of [A-Za-z0-9_]; Instagram allows dots and 30 characters. Anything else in
# the field is not a handle the platform would deliver, so it is dropped rather than echoed.
_HANDLE_RE = {"x": re.compile(r"[A-Za-z0-9_]"), "default": re.compile(r"[A-Za-z0-9_.]")}
_HANDLE_MAX = {"x": 15, "default": 30}
_NAME_MAX = 30
_NAME_EXTRA = "'’-"


def clean_handle(handle: str | None, platform: str) -> str | None:
    """The handle without '@' and without characters no platform allows, or None."""
    if not handle:
        return None
    key = "x" if platform == "x" else "default"
    kept = "".join(_HANDLE_RE[key].findall(handle.lstrip("@")))[: _HANDLE_MAX[key]]
    return kept.strip(".") or None


def first_name(name: str | None) -> str | None:
    """The first word of the display name made only of letters (emoji, markup, digits dropped)."""
    if not name:
        return None
    for token in name.split():
        kept = "".join(
            ch for ch in token if unicodedata.category(ch)[0] in "LM" or ch in _NAME_EXTRA
        ).strip(_NAME_EXTRA)
        if any(unicodedata.category(ch)[0] == "L" for ch in kept):
            kept = unicodedata.normalize("NFC", kept)[:_NAME_MAX]
            # "ANA" and "ana" read as typos in a greeting; "McDonald" keeps its own casing.
            if kept.isupper() or kept.islower():
                kept = kept.capitalize()
            return kept
    return None
