"""Language identification (pt / en / es / other) with py3langid's bundled n-gram model.

Why py3langid and not a head: it is BSD-licensed, ships its model inside the wheel, needs no
training data (the corpora here have no Spanish), and costs well under a millisecond per text.
"""

from __future__ import annotations

from functools import lru_cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from social_care.classifier.textprep import strip_for_language_id

SUPPORTED = ("pt", "en", "es")
# The candidate set is wider than SUPPORTED so that, e.g., Italian or French text is not forced
# into Spanish or Portuguese; anything outside SUPPORTED then maps to "other". Galician and
# Catalan are left out on purpose: short Brazilian tweets were often scored as Galician.
_CANDIDATES = SUPPORTED + ("fr", "it", "de", "nl", "id", "tr", "ru", "ar", "ja", "zh", "ko", "hi")
MIN_PROBABILITY = 0.4
_MIN_LETTERS = 3


@lru_cache(maxsize=1)
def _identifier() -> LanguageIdentifier:
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(_CANDIDATES))
    return identifier


def detect_language(text: str, min_probability: float = MIN_PROBABILITY) -> str:
    """Return "pt", "en", "es", or "other" (unsupported, too short, or not confident)."""
    stripped = strip_for_language_id(text)
    if sum(ch.isalpha() for ch in stripped) < _MIN_LETTERS:
        return "other"
    lang, probability = _identifier().classify(stripped)
    if lang in SUPPORTED and probability >= min_probability:
        return str(lang)
    return "other"
