"""How a reply addresses the person: a clean first name and @handle from untrusted profiles."""

from __future__ import annotations

import re
import unicodedata

# X handles are 1-15 of [A-Za-z0-9_]; Instagram allows dots and 30 characters; Facebook usernames
# up to 50. A value outside that is not a handle the platform would deliver: it is not used at
# all, because "repairing" it could @mention somebody else.
_HANDLE_RE = {
    "x": re.compile(r"[A-Za-z0-9_]{1,15}"),
    "instagram": re.compile(r"[A-Za-z0-9_.]{1,30}"),
    "default": re.compile(r"[A-Za-z0-9_.]{1,50}"),
}
_NAME_MAX = 30
_NAME_EXTRA = "'’-"
# Courtesy titles are not first names ("Oi, Dr!").
_TITLES = frozenset(
    {"dr", "dra", "sr", "sra", "srta", "mr", "mrs", "ms", "miss", "prof", "profa", "don", "doña"}
)


def clean_handle(handle: str | None, platform: str) -> str | None:
    """The handle without its leading '@' when it is a valid handle for the platform, else None."""
    if not handle:
        return None
    candidate = handle.strip().removeprefix("@")
    pattern = _HANDLE_RE.get(platform, _HANDLE_RE["default"])
    return candidate if pattern.fullmatch(candidate) else None


def first_name(name: str | None) -> str | None:
    """The first word of the display name made only of letters (emoji, markup, digits dropped)."""
    if not name:
        return None
    tokens = name.split()
    for index, token in enumerate(tokens):
        kept = "".join(
            ch for ch in token if unicodedata.category(ch)[0] in "LM" or ch in _NAME_EXTRA
        ).strip(_NAME_EXTRA)
        if kept.lower() in _TITLES and index + 1 < len(tokens):
            continue
        if any(unicodedata.category(ch)[0] == "L" for ch in kept):
            kept = unicodedata.normalize("NFC", kept)[:_NAME_MAX]
            # "ANA" and "ana" read as typos in a greeting; "McDonald" keeps its own casing.
            if kept.isupper() or kept.islower():
                kept = kept.capitalize()
            return kept
    return None
