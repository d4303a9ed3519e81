"""Input hygiene: make any user-supplied string safe and cheap to tokenise."""

from __future__ import annotations

import re
import unicodedata

# Far more characters than max_length tokens can hold; cutting here keeps a 100k-char
# mention from costing a full tokenisation pass.
MAX_CHARS = 4000

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")
_URL = re.compile(r"https?://\S+|www\.\S+")
_HANDLE = re.compile(r"@\w+")
_SPACES = re.compile(r"\s+")


def clean_text(text: object) -> str:
    """NFC-normalise, drop control/zero-width characters and lone surrogates, cap the length."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    text = text[: MAX_CHARS * 2]
    # lone surrogates (e.g. from bad JSON) would make the Rust tokenizer raise
    text = text.encode("utf-8", "replace").decode("utf-8")
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub(" ", text)
    return _SPACES.sub(" ", text).strip()[:MAX_CHARS]


def strip_for_language_id(text: str) -> str:
    """Remove URLs and @handles, which say nothing about the language and fool n-gram models."""
    return _SPACES.sub(" ", _HANDLE.sub(" ", _URL.sub(" ", text))).strip()
