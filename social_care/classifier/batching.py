"""Turning `Example`s into padded tensors with a label and a mask per head."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from social_care.classifier.corpus import UNKNOWN, Example
from social_care.classifier.labels import CATEGORIES


def encode_batch(
    examples: Sequence[Example], tokenizer: Any, *, prefix: str, max_length: int
) -> dict[str, torch.Tensor]:
    enc = tokenizer(
        [prefix + e.text for e in examples],
        padding=True,
        truncation=True,
        max_length=max_length,
        return_tensors="pt",
    )
    cats = [e.categories if e.categories is not None else [0] * len(CATEGORIES) for e in examples]
    return {
        "input_ids": enc["input_ids"],
        "attention_mask": enc["attention_mask"],
        "sentiment": torch.tensor([e.sentiment for e in examples]),
        "intent": torch.tensor([e.intent for e in examples]),
        "severity": torch.tensor([e.severity for e in examples]),
        "complaint": torch.tensor([e.complaint for e in examples], dtype=torch.float32),
        "remedy_due": torch.tensor([e.remedy_due for e in examples], dtype=torch.float32),
        "categories": torch.tensor(cats, dtype=torch.float32),
        "categories_known": torch.tensor([e.categories is not None for e in examples]),
    }


def masked_losses(
    logits: dict[str, torch.Tensor], batch: dict[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """Mean loss per head over the examples that carry that head's label (absent heads skipped)."""
    losses: dict[str, torch.Tensor] = {}
    for name in ("sentiment", "intent", "severity"):
        target = batch[name]
        if (target != UNKNOWN).any():
            losses[name] = torch.nn.functional.cross_entropy(
                logits[name], target, ignore_index=UNKNOWN
            )
    for name in ("complaint", "remedy_due"):
        target = batch[name]
        known = target != UNKNOWN
        if known.any():
            losses[name] = torch.nn.functional.binary_cross_entropy_with_logits(
                logits[name][known, 0], target[known]
            )
    known = batch["categories_known"]
    if known.any():
        losses["categories"] = torch.nn.functional.binary_cross_entropy_with_logits(
            logits["categories"][known], batch["categories"][known]
        )
    return losses
