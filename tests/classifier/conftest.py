"""Fixtures for classifier tests: a tiny randomly-initialised social-care model directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

FIXTURE_TEXTS = [
    "Meu pedido não chegou e ninguém responde, quero reembolso!",
    "Produto chegou quebrado, péssimo atendimento",
    "Adorei o produto, chegou antes do prazo 😍",
    "@brand my order never arrived and support is ignoring me",
    "How do I reset my password?",
    "Love this, thanks so much! 👍🙏",
    "¿Dónde está mi pedido? Nadie me responde",
    "Wrong size delivered, I want a refund",
]


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1-layer, hidden-32 random BERT with all heads, saved like a trained model (~1 s)."""
    import torch

    from social_care.classifier.artifacts import ModelSpec
    from social_care.classifier.labels import HEAD_SPECS
    from social_care.classifier.model import (
        MultiTaskModel,
        default_head_sizes,
        quiet_transformers,
        save_model_dir,
    )
    from social_care.classifier.scratch import build_scratch_encoder

    torch.manual_seed(0)
    base = tmp_path_factory.mktemp("tiny-base")
    out = tmp_path_factory.mktemp("tiny-model")
    with quiet_transformers():
        build_scratch_encoder(
            FIXTURE_TEXTS * 4, base, vocab_size=400, layers=1, hidden=32, heads=2, max_positions=64
        )
        from transformers import AutoModel, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(base)
        net = MultiTaskModel(AutoModel.from_pretrained(base), default_head_sizes())
        spec = ModelSpec(
            name="tiny-test",
            version="0.0.1",
            base_model="random",
            text_prefix="query: ",
            max_length=32,
            heads={n: {"kind": k, "labels": list(v)} for n, (k, v) in HEAD_SPECS.items()},
            temperatures={"sentiment": 1.5},
        )
        save_model_dir(net, tokenizer, spec, out)
    return out


def _write(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


@pytest.fixture()
def data_dir(tmp_path: Path) -> Path:
    """A tiny data directory in the shared layout; its test splits would not even parse."""
    root = tmp_path / "data"
    complaints = [
        {"id": "c1", "text": "@shop my order never arrived, two weeks late", "complaint": 1, "domain": "retail",
         "xci_sentiment": "negative", "xci_severity": 2},
        {"id": "c2", "text": "@shop package came broken, I want a refund", "complaint": 1, "domain": "retail",
         "xci_sentiment": "negative", "xci_severity": 3},
        {"id": "c3", "text": "lovely weather in the park today", "complaint": 0, "domain": "random_tweet",
         "xci_sentiment": "positive", "xci_severity": 0},
        {"id": "c4", "text": "@shop thanks, the dress is perfect!", "complaint": 0, "domain": "apparel",
         "xci_sentiment": "positive", "xci_severity": 0},
    ]
    tweets = [
        {"text": "que dia lindo", "label": "positive"},
        {"text": "odeio segunda-feira", "label": "negative"},
        {"text": "o programa começa às nove", "label": "neutral"},
    ]
    for split in ("train", "dev"):
        _write(root / "complaints" / f"{split}.jsonl", complaints)
        _write(root / "xlmt_sentiment_pt" / f"{split}.jsonl", tweets)
    gold = {"text": "Meu pedido não chegou, quero reembolso", "lang": "pt", "intent": "complaint",
            "categories": ["delivery", "refund_return"], "remedy_due": True, "severity": 2,
            "sentiment": "negative"}
    _write(root / "care_gold" / "dev.jsonl", [gold, {**gold, "text": "Adorei!", "intent": "praise",
            "categories": [], "remedy_due": False, "severity": 0, "sentiment": "positive"}])
    # Test splits must never be read: these would not even parse.
    for name in ("complaints", "xlmt_sentiment_pt", "care_gold"):
        (root / name / "test.jsonl").write_text("{not json\n", encoding="utf-8")
    return root
