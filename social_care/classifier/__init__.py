"""Mention classifier: language, sentiment, intent, complaint categories, severity, remedy.

Public API:

* `load_classifier(model, thresholds=..., threads=...)` -> `Classifier`
* `Classifier.classify(texts, batch_size=32)` -> list of `Classification`
* `Thresholds`: decision thresholds on calibrated probabilities (from the app's config)
* `ModelLoadError`: raised when a model path or hub id cannot be loaded; the message says why.
"""

from __future__ import annotations

from social_care.classifier.artifacts import ModelLoadError
from social_care.classifier.inference import Classifier, load_classifier
from social_care.classifier.labels import CATEGORIES, INTENTS, LANGUAGES, SENTIMENTS
from social_care.classifier.result import Classification, Thresholds

__all__ = [
    "CATEGORIES",
    "INTENTS",
    "LANGUAGES",
    "SENTIMENTS",
    "Classification",
    "Classifier",
    "ModelLoadError",
    "Thresholds",
    "load_classifier",
]
