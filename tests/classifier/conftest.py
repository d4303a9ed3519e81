"""Fixtures for classifier tests: a tiny randomly-initialised social-care model directory."""

from __future__ import annotations

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
