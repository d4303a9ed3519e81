"""Temperature scaling: one temperature per head, fitted on dev data by minimising the NLL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from social_care.classifier.batching import encode_batch
from social_care.classifier.corpus import UNKNOWN, Example
from social_care.classifier.model import MultiTaskModel

_GRID = torch.logspace(-0.7, 1.0, 69)  # T from 0.2 to 10


@torch.inference_mode()
def collect_logits(
    model: MultiTaskModel,
    tokenizer: Any,
    examples: Sequence[Example],
    *,
    prefix: str,
    max_length: int,
    batch_size: int = 64,
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Logits of every head and the stacked labels, for all examples."""
    model.eval()
    device = next(model.parameters()).device
    logits: dict[str, list[torch.Tensor]] = {}
    labels: dict[str, list[torch.Tensor]] = {}
    for start in range(0, len(examples), batch_size):
        batch = encode_batch(
            examples[start : start + batch_size], tokenizer, prefix=prefix, max_length=max_length
        )
        out = model(batch["input_ids"].to(device), batch["attention_mask"].to(device))
        for name, value in out.items():
            logits.setdefault(name, []).append(value.float().cpu())
        for name, value in batch.items():
            if name not in ("input_ids", "attention_mask"):
                labels.setdefault(name, []).append(value)
    return (
        {k: torch.cat(v) for k, v in logits.items()},
        {k: torch.cat(v) for k, v in labels.items()},
    )


def _nll(name: str, scaled: torch.Tensor, labels: dict[str, torch.Tensor]) -> torch.Tensor | None:
    if name in ("sentiment", "intent", "severity"):
        target = labels[name]
        known = target != UNKNOWN
        if not known.any():
            return None
        return torch.nn.functional.cross_entropy(scaled[known], target[known])
    if name in ("complaint", "remedy_due"):
        target = labels[name]
        known = target != UNKNOWN
        if not known.any():
            return None
        return torch.nn.functional.binary_cross_entropy_with_logits(scaled[known, 0], target[known])
    known = labels["categories_known"]
    if not known.any():
        return None
    return torch.nn.functional.binary_cross_entropy_with_logits(
        scaled[known], labels["categories"][known]
    )


def fit_temperatures(
    logits: dict[str, torch.Tensor], labels: dict[str, torch.Tensor]
) -> dict[str, float]:
    """Best temperature per head on a grid (1.0 where the dev data has no label for the head)."""
    temperatures: dict[str, float] = {}
    for name, value in logits.items():
        best_t, best_loss = 1.0, float("inf")
        for t in _GRID.tolist():
            loss = _nll(name, value / t, labels)
            if loss is None:
                break
            if float(loss) < best_loss:
                best_t, best_loss = t, float(loss)
        temperatures[name] = round(best_t, 4)
    return temperatures
