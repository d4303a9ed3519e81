"""Multi-task fine-tuning of an encoder (or a from-scratch BERT) on the shared data sets.

    python -m social_care.classifier.train --data DATA_DIR --out models/NAME \
        --base scratch|ENCODER_DIR_OR_HUB_ID [--epochs 1 --time-budget 600 ...]

DATA_DIR has the /work/shared/data layout. Train splits of the labelled sets are used for
training, plus the train-split texts of --hand-labels (our own care_gold-scheme labels, shipped
as ids without texts), each repeated --hand-repeat times and replacing its weak-labelled copy;
their dev splits plus care_gold/dev for temperature calibration and the dev report.
Test splits are never read.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file

from social_care.classifier.artifacts import HEADS_FILE, ModelSpec
from social_care.classifier.batching import encode_batch, masked_losses
from social_care.classifier.calibration import collect_logits, fit_temperatures
from social_care.classifier.corpus import (
    HAND_LABELS,
    Example,
    gold_example,
    load_hand_labelled,
    load_split,
    read_jsonl,
)
from social_care.classifier.labels import HEAD_SPECS
from social_care.classifier.model import (
    MultiTaskModel,
    default_head_sizes,
    quiet_transformers,
    save_model_dir,
)
from social_care.classifier.scratch import build_scratch_encoder

LOSS_WEIGHTS = {
    "sentiment": 1.0,
    "intent": 1.0,
    "complaint": 1.0,
    "categories": 1.0,
    "severity": 0.5,
    "remedy_due": 0.5,
}


def parse_limits(text: str) -> dict[str, int]:
    """ "b2w=12000,tweeteval_sentiment_en=6000" -> {"b2w": 12000, ...}"""
    limits: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, value = part.partition("=")
        limits[name] = int(value)
    return limits


def add_hand_labels_option(p: argparse.ArgumentParser) -> None:
    """--hand-labels, shared by train and refit."""
    p.add_argument(
        "--hand-labels",
        type=Path,
        default=HAND_LABELS,
        help="hand labels (care_gold scheme) for train-split texts, by SOURCE:ID "
        "(default: the file shipped with social_care)",
    )


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True, help="data directory (shared layout)")
    p.add_argument("--out", type=Path, required=True, help="model directory to write")
    p.add_argument("--base", default="scratch", help="'scratch', an encoder dir, or a hub id")
    p.add_argument(
        "--init-from",
        type=Path,
        default=None,
        help="continue from a social-care model dir (encoder, tokenizer and heads); overrides --base",
    )
    p.add_argument("--name", default=None, help="model name (default: out dir name)")
    p.add_argument("--version", default="0.1.0")
    p.add_argument("--prefix", default="", help="text prefix, e.g. 'query: ' for e5 models")
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--limits", default="b2w=12000", help="per-source caps, name=n,...")
    add_hand_labels_option(p)
    p.add_argument(
        "--hand-repeat", type=int, default=4, help="times each hand-labelled text is seen per epoch"
    )
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--head-lr", type=float, default=None, help="default: 5x --lr, at most 2e-3")
    p.add_argument("--warmup", type=float, default=0.06, help="fraction of steps")
    p.add_argument("--time-budget", type=float, default=None, help="stop after this many seconds")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument(
        "--device",
        default="auto",
        help="torch device to train on: 'auto' (cuda when available, else cpu), 'cpu', 'cuda'",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--fp16", action="store_true", help="store encoder weights as fp16")
    p.add_argument(
        "--freeze-embeddings",
        action="store_true",
        help="keep the word embeddings fixed (pretrained bases: cheaper steps, less drift)",
    )
    # scratch encoder shape
    p.add_argument("--vocab-size", type=int, default=16000)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--heads", type=int, default=4)
    return p


def _dev_examples(data_dir: Path) -> tuple[list[Example], list[Example]]:
    """(dev splits of the labelled sets, care_gold/dev) - used for calibration only."""
    dev = load_split(data_dir, "dev", limits={"b2w": 1000, "tweeteval_sentiment_en": 600}, seed=1)
    gold_path = data_dir / "care_gold" / "dev.jsonl"
    gold = [gold_example(r) for r in read_jsonl(gold_path)] if gold_path.is_file() else []
    return dev, gold


def _load_base(args: argparse.Namespace, texts: list[str], work: Path) -> tuple[Any, Any, str]:
    from transformers import AutoModel, AutoTokenizer

    base = args.base
    if args.init_from is not None:
        spec = json.loads((args.init_from / "social_care.json").read_text(encoding="utf-8"))
        base, base_name = (
            str(args.init_from),
            f"{spec['base_model']}, continued from {spec['name']}",
        )
    elif base == "scratch":
        base_dir = work / "scratch-base"
        build_scratch_encoder(
            texts,
            base_dir,
            vocab_size=args.vocab_size,
            layers=args.layers,
            hidden=args.hidden,
            heads=args.heads,
            max_positions=max(args.max_length, 128),
            seed=args.seed,
        )
        base = str(base_dir)
        base_name = f"scratch BERT ({args.layers} layers, hidden {args.hidden}, WordPiece {args.vocab_size})"
    else:
        base_name = args.base
    with quiet_transformers():
        tokenizer = AutoTokenizer.from_pretrained(base)
        encoder = AutoModel.from_pretrained(base, dtype=torch.float32)
    return encoder, tokenizer, base_name


def pick_device(name: str) -> torch.device:
    """'auto' -> cuda when a GPU is visible, else cpu; anything else as torch names it."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit(f"--device {name}: no CUDA device is visible to torch")
    return device


def train(args: argparse.Namespace, argv: list[str]) -> dict[str, Any]:
    torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    started = time.time()
    examples = load_split(args.data, "train", limits=parse_limits(args.limits), seed=args.seed)
    if args.hand_repeat > 0 and args.hand_labels is not None:
        hand, labelled = load_hand_labelled(args.data, args.hand_labels)
        print(f"hand labels: {len(hand)} of {labelled} texts found, each seen "
              f"{args.hand_repeat}x per epoch", flush=True)
        # a hand-labelled text replaces its weak-labelled copy, which would contradict it
        relabelled = {e.text for e in hand}
        examples = [e for e in examples if e.text not in relabelled] + hand * args.hand_repeat
    print(f"{len(examples)} training examples", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        encoder, tokenizer, base_name = _load_base(args, [e.text for e in examples], Path(tmp))
        net = MultiTaskModel(encoder, default_head_sizes())
        if args.init_from is not None:
            net.heads.load_state_dict(load_file(str(args.init_from / HEADS_FILE)))
        net.to(device)
        print(f"training on {device}", flush=True)
        if args.freeze_embeddings:
            net.encoder.get_input_embeddings().weight.requires_grad_(False)
        head_lr = args.head_lr or min(args.lr * 5, 2e-3)
        optimizer = torch.optim.AdamW(
            [
                {"params": [p for p in net.encoder.parameters() if p.requires_grad], "lr": args.lr},
                {"params": net.heads.parameters(), "lr": head_lr},
            ],
            weight_decay=0.01,
        )
        steps = max(1, math.ceil(len(examples) * args.epochs / args.batch_size))
        warmup = max(1, int(steps * args.warmup))

        def schedule(step: int) -> float:
            if step < warmup:
                return (step + 1) / warmup
            # With a time budget, progress is whichever of steps or time runs out first, so the
            # learning rate still decays to zero when the budget (not the epoch) ends training.
            progress = step / steps
            if args.time_budget:
                progress = max(progress, (time.time() - started) / args.time_budget)
            return (
                max(0.0, 1.0 - progress) * steps / max(1, steps - warmup) if progress < 1 else 0.0
            )

        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
        net.train()
        order: list[Example] = []
        step = 0
        running: dict[str, float] = {}
        while step < steps:
            if not order:
                order = examples[:]
                rng.shuffle(order)
            batch_examples, order = order[: args.batch_size], order[args.batch_size :]
            batch = encode_batch(
                batch_examples, tokenizer, prefix=args.prefix, max_length=args.max_length
            )
            batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
            losses = masked_losses(net(batch["input_ids"], batch["attention_mask"]), batch)
            loss = sum(LOSS_WEIGHTS[k] * v for k, v in losses.items())
            optimizer.zero_grad()
            loss.backward()  # type: ignore[union-attr]
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            step += 1
            for k, v in losses.items():
                value = v.item()
                running[k] = 0.98 * running.get(k, value) + 0.02 * value
            if step % 50 == 0 or step == steps:
                elapsed = time.time() - started
                shown = " ".join(f"{k}={v:.3f}" for k, v in sorted(running.items()))
                print(f"step {step}/{steps} {elapsed:.0f}s {shown}", flush=True)
            if args.time_budget and time.time() - started > args.time_budget:
                print(f"time budget reached at step {step}/{steps}", flush=True)
                break
        train_seconds = time.time() - started

        dev, gold = _dev_examples(args.data)
        logits, labels = collect_logits(
            net, tokenizer, dev + gold, prefix=args.prefix, max_length=args.max_length
        )
        temperatures = fit_temperatures(logits, labels)
        print(f"temperatures {temperatures}", flush=True)

        spec = ModelSpec(
            name=args.name or args.out.name,
            version=args.version,
            base_model=base_name,
            text_prefix=args.prefix,
            max_length=args.max_length,
            heads={n: {"kind": k, "labels": list(labs)} for n, (k, labs) in HEAD_SPECS.items()},
            temperatures=temperatures,
            training={
                "command": "python -m social_care.classifier.train " + shlex.join(argv),
                "examples": len(examples),
                "steps": step,
                "planned_steps": steps,
                "batch_size": args.batch_size,
                "train_seconds": round(train_seconds, 1),
                "torch_threads": args.threads,
                "device": str(device),
            },
        )
        if args.init_from is not None:
            previous = json.loads((args.init_from / "social_care.json").read_text(encoding="utf-8"))
            spec.training["continued_from"] = previous.get("training", {})
            # Decision options (keyword categories, default backend) belong to the model line,
            # not to one training run: a continued model keeps them.
            spec.runtime = dict(previous.get("runtime", {}))
        net.to("cpu")
        save_model_dir(net, tokenizer, spec, args.out, fp16=args.fp16)
    print(f"saved {args.out} after {time.time() - started:.0f}s", flush=True)
    return spec.to_json()


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    spec = train(args, argv)
    print(json.dumps(spec["training"], indent=2))


if __name__ == "__main__":
    main()
