"""End-to-end checks of the models shipped in models/ (the app's default and the interim one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from social_care.classifier import Classifier, load_classifier

MODELS = Path(__file__).resolve().parents[2] / "models"
SHIPPED = ["social-care-e5s-l6", "social-care-interim"]

pytestmark = pytest.mark.shipped_model


@pytest.fixture(scope="module", params=SHIPPED)
def shipped(request: pytest.FixtureRequest) -> Classifier:
    directory = MODELS / request.param
    if not (directory / "social_care.json").is_file():
        pytest.fail(f"shipped model missing at {directory}")
    return load_classifier(str(directory), threads=2)


def test_portuguese_delivery_complaint(shipped: Classifier) -> None:
    (c,) = shipped.classify(["Meu pedido não chegou e ninguém responde, quero reembolso!"])
    assert c.language == "pt"
    assert c.complaint and c.intent == "complaint"
    assert "delivery" in c.categories
    assert c.sentiment == "negative"


def test_english_praise_is_not_a_complaint(shipped: Classifier) -> None:
    (c,) = shipped.classify(["Amazing service, my package arrived early. Thank you so much!"])
    assert c.language == "en"
    assert not c.complaint and c.sentiment == "positive"


def test_models_dir_fits_the_size_budget() -> None:
    size = sum(p.stat().st_size for p in MODELS.rglob("*") if p.is_file())
    assert size <= 80 * 1024 * 1024
    interim = sum(p.stat().st_size for p in (MODELS / "social-care-interim").rglob("*"))
    assert interim <= 20 * 1024 * 1024


def test_default_model_reads_the_issue_example_as_delivery_and_customer_service() -> None:
    clf = load_classifier(str(MODELS / SHIPPED[0]), threads=2)
    (c,) = clf.classify(["Meu pedido não chegou e ninguém responde, quero reembolso!"])
    assert c.complaint and c.remedy_due
    assert {"delivery", "customer_service"} <= set(c.categories)


def test_default_model_mixes_its_lexical_sentiment_model_into_the_sentiment_head() -> None:
    clf = load_classifier(str(MODELS / SHIPPED[0]), threads=2)
    assert clf.lexical is not None and 0.0 < clf.lexical.mix < 1.0
    review = "Produto péssimo, veio com defeito e a loja não resolve. Não recomendo."
    (c,) = clf.classify([review])
    assert c.sentiment == "negative"
    lexical = clf.lexical.probabilities([review])[0].tolist()
    assert lexical[0] > lexical[2]  # the lexical model alone also reads it as negative
