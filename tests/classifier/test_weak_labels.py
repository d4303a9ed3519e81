"""The weak-labelling rules fire on the cases they are written for (EN and pt-BR)."""

from __future__ import annotations

from social_care.classifier.corpus import label_record
from social_care.classifier.labels import CATEGORIES, INTENTS
from social_care.classifier.weak_labels import categories_for, fold, remedy_for, severity_for


def test_fold_strips_accents_and_case() -> None:
    assert fold("Não CHEGOU, ninguém") == "nao chegou, ninguem"


def test_categories() -> None:
    assert "delivery" in categories_for("Meu pedido não chegou até agora")
    assert "wrong_item" in categories_for("Veio errado, tamanho errado")
    assert "damaged_defective" in categories_for("The charger stopped working after a day")
    assert "refund_return" in categories_for("Quero meu reembolso")
    assert "customer_service" in categories_for("Ninguém responde no SAC")
    assert categories_for("Adorei, recomendo") == []


def test_remedy_and_severity() -> None:
    assert remedy_for("I was charged twice for one order")
    assert not remedy_for("The new logo is ugly")
    assert severity_for("Vou reclamar no Procon") == 4
    assert severity_for("Péssimo produto") == 2
    assert severity_for("The printer does not print in colour") == 1


def test_b2w_negative_review_becomes_a_complaint() -> None:
    ex = label_record(
        "b2w",
        {
            "text": "Produto veio quebrado, quero devolver",
            "polarity": "negative",
            "recommend": False,
        },
    )
    assert ex is not None and INTENTS[ex.intent] == "complaint" and ex.remedy_due == 1
    assert ex.categories is not None
    assert {c for c, v in zip(CATEGORIES, ex.categories, strict=True) if v} >= {
        "damaged_defective",
        "refund_return",
    }


def test_tv_tweet_is_other() -> None:
    ex = label_record(
        "xlmt_sentiment_pt", {"text": "Que programa chato #MasterChefBR", "label": "negative"}
    )
    assert ex is not None and INTENTS[ex.intent] == "other" and ex.complaint == 0
