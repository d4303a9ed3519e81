"""Average the weights of fine-tuned social-care models ("model soup"), then recalibrate.

    python -m social_care.classifier.average --models A B [--weights 0.5 0.5] \
        --data DATA_DIR --out build/soup --version 0.7.0

The models must share architecture and tokenizer (runs continued from one another, or from the
same base). Every encoder and head tensor becomes the weighted mean of the inputs; the text
prefix, decision options ("runtime") and max_length come from the first model unless
--max-length is given. Temperatures are fitted again on the dev splits and care_gold/dev, as
`train` does, because an average's logits are not scaled like any input's.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file

from social_care.classifier.artifacts import HEADS_FILE, SPEC_FILE, ModelSpec

ENCODER_FILE = "model.safetensors"


def average_state(states: list[dict[str, torch.Tensor]], weights: list[float]) -> dict[str, Any]:
    """Weighted mean of state dicts with identical keys and shapes, in the first one's dtypes."""
    keys = set(states[0])
    for i, state in enumerate(states[1:], start=2):
        if set(state) != keys:
            missing = sorted(keys.symmetric_difference(state))[:5]
            raise ValueError(f"model {i} has different tensors from model 1 (e.g. {missing})")
    out: dict[str, torch.Tensor] = {}
    for key, first in states[0].items():
        shapes = {tuple(s[key].shape) for s in states}
        if len(shapes) != 1:
            raise ValueError(f"tensor {key} has different shapes across models: {sorted(shapes)}")
        if not first.is_floating_point():
            out[key] = first.clone()
            continue
        total = sum(w * s[key].float() for w, s in zip(weights, states, strict=True))
        out[key] = total.to(first.dtype).contiguous()
    return out


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", type=Path, nargs="+", required=True)
    p.add_argument("--weights", type=float, nargs="+", default=None, help="default: equal")
    p.add_argument("--data", type=Path, required=True, help="data directory (for temperatures)")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--version", default=None, help="default: the first model's version")
    p.add_argument("--max-length", type=int, default=None, help="default: the first model's")
    p.add_argument("--threads", type=int, default=2)
    return p


def average(args: argparse.Namespace, argv: list[str]) -> ModelSpec:
    from transformers import AutoModel, AutoTokenizer

    from social_care.classifier.calibration import collect_logits, fit_temperatures
    from social_care.classifier.model import (
        MultiTaskModel,
        default_head_sizes,
        quiet_transformers,
        save_model_dir,
    )
    from social_care.classifier.train import _dev_examples

    torch.set_num_threads(args.threads)
    if len(args.models) < 2:
        raise SystemExit("give at least two --models")
    weights = args.weights or [1.0] * len(args.models)
    if len(weights) != len(args.models) or any(w < 0 for w in weights) or sum(weights) <= 0:
        raise SystemExit("--weights needs one non-negative number per model, not all zero")
    weights = [w / sum(weights) for w in weights]
    specs = [
        ModelSpec.from_json(json.loads((m / SPEC_FILE).read_text(encoding="utf-8")), str(m))
        for m in args.models
    ]
    first_tokenizer = (args.models[0] / "tokenizer.json").read_bytes()
    for m in args.models[1:]:
        if (m / "tokenizer.json").read_bytes() != first_tokenizer:
            raise SystemExit(f"{m} has a different tokenizer from {args.models[0]}")

    try:
        encoder_state = average_state([load_file(str(m / ENCODER_FILE)) for m in args.models], weights)
        head_state = average_state([load_file(str(m / HEADS_FILE)) for m in args.models], weights)
    except ValueError as exc:
        raise SystemExit(f"cannot average these models: {exc}") from exc
    fp16 = next(iter(encoder_state.values())).dtype == torch.float16

    with quiet_transformers():
        tokenizer = AutoTokenizer.from_pretrained(str(args.models[0]))
        encoder = AutoModel.from_pretrained(str(args.models[0]), dtype=torch.float32)
    loaded = encoder.load_state_dict({k: v.float() for k, v in encoder_state.items()}, strict=False)
    if loaded.unexpected_keys or loaded.missing_keys:
        # save_pretrained and the module's own state dict name tensors alike; anything else
        # would leave some weights un-averaged without a word.
        raise SystemExit(
            f"encoder tensors do not match {args.models[0]}: missing {loaded.missing_keys[:5]}, "
            f"unexpected {loaded.unexpected_keys[:5]}"
        )
    net = MultiTaskModel(encoder, default_head_sizes())
    net.heads.load_state_dict(head_state)

    base = specs[0]
    max_length = args.max_length or base.max_length
    dev, gold = _dev_examples(args.data)
    logits, labels = collect_logits(
        net, tokenizer, dev + gold, prefix=base.text_prefix, max_length=max_length
    )
    temperatures = fit_temperatures(logits, labels)
    print(f"temperatures {temperatures}", flush=True)
    spec = ModelSpec(
        name=base.name,
        version=args.version or base.version,
        base_model=base.base_model,
        text_prefix=base.text_prefix,
        max_length=max_length,
        heads=base.heads,
        temperatures=temperatures,
        training={
            "command": "python -m social_care.classifier.average " + shlex.join(argv),
            "averaged": [
                {"version": s.version, "weight": round(w, 4), "training": s.training}
                for s, w in zip(specs, weights, strict=True)
            ],
        },
        runtime=dict(base.runtime),
    )
    save_model_dir(net, tokenizer, spec, args.out, fp16=fp16)
    print(f"saved {args.out}", flush=True)
    return spec


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    average(build_parser().parse_args(argv), argv)


if __name__ == "__main__":
    main()
