"""Multi-task network: any transformers encoder, masked mean pooling, one linear head per task."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from social_care.classifier.labels import HEAD_SPECS


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Average the token vectors that the attention mask marks as real (not padding)."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    summed = (hidden * mask).sum(dim=1)
    # clamp: an all-padding row (never produced by the tokenizer, but cheap to guard) stays finite
    return summed / mask.sum(dim=1).clamp(min=1.0)


class MultiTaskModel(nn.Module):
    """Encoder plus heads; the encoder is used only through `last_hidden_state`."""

    def __init__(self, encoder: nn.Module, head_sizes: dict[str, int], dropout: float = 0.1):
        super().__init__()
        self.encoder = encoder
        hidden_size = int(encoder.config.hidden_size)
        self.dropout = nn.Dropout(dropout)
        self.heads = nn.ModuleDict(
            {name: nn.Linear(hidden_size, size) for name, size in head_sizes.items()}
        )

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> dict[str, Any]:
        out = self.encoder(input_ids=input_ids, attention_mask=attention_mask)
        pooled = self.dropout(mean_pool(out.last_hidden_state, attention_mask))
        return {name: head(pooled) for name, head in self.heads.items()}

    def head_state_dict(self) -> dict[str, torch.Tensor]:
        """Only the head weights, contiguous fp32, for `heads.safetensors`."""
        return {k: v.detach().float().contiguous() for k, v in self.heads.state_dict().items()}


@contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' load report (e.g. "pooler MISSING": mean pooling never uses it)."""
    from transformers.utils import logging as hf_logging

    previous = hf_logging.get_verbosity()
    progress = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(previous)
        if progress:
            hf_logging.enable_progress_bar()


def default_head_sizes() -> dict[str, int]:
    """Output width of every head in HEAD_SPECS."""
    return {name: len(labels) for name, (_kind, labels) in HEAD_SPECS.items()}


def save_model_dir(
    net: MultiTaskModel, tokenizer: Any, spec: Any, out_dir: Any, *, fp16: bool = False
) -> None:
    """Write encoder + tokenizer (save_pretrained), heads.safetensors and social_care.json."""
    from pathlib import Path

    from safetensors.torch import save_file

    from social_care.classifier.artifacts import HEADS_FILE

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    encoder = net.encoder
    if fp16:
        # Halves the shipped size; load_classifier reads it back as fp32.
        import copy

        encoder = copy.deepcopy(encoder).half()
    encoder.save_pretrained(out)
    tokenizer.save_pretrained(out)
    save_file(net.head_state_dict(), str(out / HEADS_FILE))
    spec.save(out)
