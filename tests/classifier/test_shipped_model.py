"""End-to-end checks of the model shipped in models/ (the app's default)."""

from __future__ import annotations

from pathlib import Path

import pytest

from social_care.classifier import load_classifier

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "social-care-interim"

pytestmark = pytest.mark.shipped_model


@pytest.fixture(scope="module")
def shipped():  # type: ignore[no-untyped-def]
    if not (SHIPPED / "social_care.json").is_file():
        pytest.fail(f"shipped model missing at {SHIPPED}")
    return load_classifier(str(SHIPPED), threads=2)


def test_portuguese_delivery_complaint(shipped) -> None:  # type: ignore[no-untyped-def]
    (c,) = shipped.classify(["Meu pedido não chegou e ninguém responde, quero reembolso!"])
    assert c.language == "pt"
    assert c.complaint and c.intent == "complaint"
    assert "delivery" in c.categories
    assert c.sentiment == "negative"


def test_english_praise_is_not_a_complaint(shipped) -> None:  # type: ignore[no-untyped-def]
    (c,) = shipped.classify(["Amazing service, my package arrived early. Thank you so much!"])
    assert c.language == "en"
    assert not c.complaint and c.sentiment == "positive"


def test_model_dir_is_small_enough() -> None:
    size = sum(p.stat().st_size for p in SHIPPED.rglob("*") if p.is_file())
    assert size <= 20 * 1024 * 1024
