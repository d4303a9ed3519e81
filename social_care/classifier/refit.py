"""Refit a trained model's heads on its frozen encoder, with class balance and care_gold/dev.

    python -m social_care.classifier.refit --model models/NAME --data DATA_DIR --out OUT \
        [--limits b2w=24000] [--gold-weight 100] [--cache DIR]

The encoder (and tokenizer) are copied unchanged; only `heads.safetensors`, the temperatures
and `social_care.json` change. Pooled encoder features are computed once for every training
text (the expensive part: one forward pass, no backward) and each linear head is then fitted
full-batch on them in seconds, which on a 2-core CPU is far cheaper than more fine-tuning:

* the training labels are those of `train` (train splits, weak labels where no human label
  exists), plus the hand labels of intent, categories, remedy and severity, which no source
  set has: care_gold/dev's (the issue allows it for training) with `--gold-weight` per item,
  and `--hand-labels` (train-split texts we labelled by hand in the care_gold scheme, shipped
  as ids and labels only, no texts) with `--hand-weight` per item;
* softmax and binary heads weight classes by (inverse frequency) ** --balance, so rare intents
  (question) and remedy cases are not drowned; the category head keeps --category-balance;
* temperatures are refitted on the dev splits only (care_gold/dev is now training data).

Test splits are never read. --cache keeps the features between runs (keyed by model digest).

    python -m social_care.classifier.refit --model models/NAME --data DATA_DIR --cv-folds 5

writes nothing and prints K-fold cross-validation figures on care_gold/dev instead (each fold's
items are left out of the refit and then scored with the runtime's decision rules), for each
category threshold with and without `--keyword-categories`: how the refit settings and the
model's decision options are chosen without touching care_gold/test. With --out as well, it
prints those figures first and then refits on all of care_gold/dev and writes the model.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

from social_care.classifier.artifacts import HEADS_FILE, SPEC_FILE, ModelSpec, load_spec
from social_care.classifier.calibration import fit_temperatures
from social_care.classifier.corpus import (
    UNKNOWN,
    Example,
    gold_example,
    load_hand_labelled,
    load_split,
    read_jsonl,
)
from social_care.classifier.evaluate import score
from social_care.classifier.inference import (
    Classifier,
    calibrated_probabilities,
    load_classifier_with_options,
)
from social_care.classifier.labels import CATEGORIES, HEAD_SPECS
from social_care.classifier.model import mean_pool
from social_care.classifier.onnx_backend import model_digest
from social_care.classifier.textprep import clean_text
from social_care.classifier.train import add_hand_labels_option, parse_limits


@torch.inference_mode()
def pooled_features(
    net: Any, tokenizer: Any, texts: list[str], *, prefix: str, max_length: int, batch_size: int = 64
) -> torch.Tensor:
    """Masked mean-pooled last hidden states (what the heads read), one row per text."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = torch.zeros(len(texts), int(net.encoder.config.hidden_size))
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        batch = tokenizer(
            [prefix + texts[i] for i in idx],
            padding=True,
            truncation=True,
            max_length=max_length,
            return_tensors="pt",
        )
        hidden = net.encoder(
            input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]
        ).last_hidden_state
        out[idx] = mean_pool(hidden, batch["attention_mask"]).float()
        if start and start % (batch_size * 100) == 0:
            print(f"  features {start}/{len(texts)}", flush=True)
    return out


def stack_labels(examples: list[Example]) -> dict[str, torch.Tensor]:
    """Label tensors per head (UNKNOWN where a head has no label), as batching.encode_batch."""
    labels: dict[str, torch.Tensor] = {
        name: torch.tensor([getattr(e, name) for e in examples])
        for name in ("sentiment", "intent", "severity")
    }
    for name in ("complaint", "remedy_due"):
        labels[name] = torch.tensor([getattr(e, name) for e in examples], dtype=torch.float32)
    labels["categories"] = torch.tensor(
        [e.categories if e.categories is not None else [0] * len(CATEGORIES) for e in examples],
        dtype=torch.float32,
    )
    labels["categories_known"] = torch.tensor([e.categories is not None for e in examples])
    return labels


def fit_head(
    name: str,
    features: torch.Tensor,
    labels: dict[str, torch.Tensor],
    weights: torch.Tensor,
    init: torch.nn.Linear,
    *,
    balance: float,
    weight_decay: float = 1e-4,
    epochs: int = 300,
    lr: float = 5e-3,
) -> torch.nn.Linear:
    """Full-batch Adam on one linear head, from its current weights; returns the new layer."""
    kind, names = HEAD_SPECS[name]
    head = torch.nn.Linear(features.shape[1], len(names))
    head.load_state_dict(init.state_dict())
    if name == "categories":
        known = labels["categories_known"]
        target = labels["categories"][known]
        positive = target.mean(0).clamp(min=1e-3)
        pos_weight = ((1 - positive) / positive) ** balance
    else:
        known = labels[name] != UNKNOWN
        target = labels[name][known]
    x, w = features[known], weights[known]
    if not len(x):
        return head
    w = w / w.mean()
    if kind == "softmax" and name != "categories":
        freq = torch.bincount(target, minlength=len(names)).float().clamp(min=1)
        class_weight = (freq.sum() / freq / len(names)) ** balance
    elif name != "categories":
        p = target.mean().clamp(1e-3, 1 - 1e-3)
        pos_weight = ((1 - p) / p) ** balance
    optimizer = torch.optim.Adam(head.parameters(), lr=lr)
    functional = torch.nn.functional
    for _ in range(epochs):
        optimizer.zero_grad()
        z = head(x)
        if name == "categories":
            per_item = functional.binary_cross_entropy_with_logits(
                z, target, pos_weight=pos_weight, reduction="none"
            ).mean(1)
        elif kind == "softmax":
            per_item = functional.cross_entropy(z, target, weight=class_weight, reduction="none")
        else:
            per_item = functional.binary_cross_entropy_with_logits(
                z[:, 0], target, pos_weight=pos_weight, reduction="none"
            )
        loss = (per_item * w).mean() + weight_decay * (head.weight**2).sum()
        loss.backward()
        optimizer.step()
    return head


def _cached_features(
    cache: Path | None, key: str, compute: Any, texts: list[str]
) -> torch.Tensor:
    path = cache / f"{key}.pt" if cache else None
    if path is not None and path.is_file():
        stored = torch.load(path, weights_only=False)
        if stored.get("texts") == texts:
            print(f"features from {path}", flush=True)
            return stored["feats"]
    feats = compute(texts)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"texts": texts, "feats": feats}, path)
    return feats


HAND_WEIGHT = 30.0  # per hand-labelled text; chosen by --cv-folds on care_gold/dev


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True, help="trained social-care model directory")
    p.add_argument("--data", type=Path, required=True, help="data directory (shared layout)")
    p.add_argument("--out", type=Path, default=None, help="model directory to write")
    p.add_argument("--name", default=None)
    p.add_argument("--version", default=None)
    p.add_argument("--limits", default="b2w=24000", help="per-source caps, name=n,...")
    p.add_argument("--gold-weight", type=float, default=100.0, help="0 = no care_gold/dev")
    add_hand_labels_option(p)
    p.add_argument("--hand-weight", type=float, default=HAND_WEIGHT, help="0 = no hand labels")
    p.add_argument("--balance", type=float, default=0.5)
    p.add_argument("--category-balance", type=float, default=0.0)
    p.add_argument(
        "--heads",
        default="intent,categories,severity,remedy_due",
        help="heads to refit (the rest keep their weights and temperatures); default: the heads "
        "without human training labels, for which care_gold/dev is the only hand-labelled data",
    )
    p.add_argument("--epochs", type=int, default=300)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cache", type=Path, default=None, help="keep features here between runs")
    p.add_argument(
        "--keyword-categories",
        choices=["keep", "on", "off"],
        default="keep",
        help="store the keyword-category decision rule in the model's runtime options "
        "(keep: as the source model has it)",
    )
    p.add_argument(
        "--cv-folds",
        type=int,
        default=0,
        help="K >= 2: print K-fold cross-validation on care_gold/dev (and write nothing "
        "unless --out is given too)",
    )
    return p


CV_CATEGORY_THRESHOLDS = (0.2, 0.3, 0.4, 0.5)


def _fit_heads(
    chosen: list[str],
    net: Any,
    features: torch.Tensor,
    labels: dict[str, torch.Tensor],
    weights: torch.Tensor,
    args: argparse.Namespace,
) -> dict[str, torch.nn.Linear]:
    """Every head of net, with the chosen ones refitted on (features, labels, weights)."""
    heads = {name: net.heads[name] for name in HEAD_SPECS}
    for name in chosen:
        balance = args.category_balance if name == "categories" else args.balance
        heads[name] = fit_head(
            name, features, labels, weights, net.heads[name], balance=balance, epochs=args.epochs
        )
    return heads


def cross_validate(
    clf: Classifier,
    chosen: list[str],
    fit: Any,
    gold_records: list[dict[str, Any]],
    gold_feats: torch.Tensor,
    weights: torch.Tensor,
    temperatures_of: Any,
    *,
    folds: int,
    seed: int,
) -> dict[str, Any]:
    """K-fold CV on care_gold/dev: refit without each fold, decide its items as inference does.

    `weights` covers train + gold (gold last); a fold's items get weight 0 while it is held out.
    `fit(weights)` returns fitted heads, `temperatures_of(heads)` their temperatures.
    """
    if not 2 <= folds <= len(gold_records):
        raise SystemExit(f"--cv-folds must lie in [2, {len(gold_records)}]; got {folds}")
    n_train = len(weights) - len(gold_records)
    order = torch.randperm(len(gold_records), generator=torch.Generator().manual_seed(seed))
    variants = [(t, k) for t in CV_CATEGORY_THRESHOLDS for k in (False, True)]
    preds: dict[tuple[float, bool], list[Any]] = {v: [None] * len(gold_records) for v in variants}
    saved = clf.thresholds, clf.keyword_categories, clf.spec
    try:
        for fold in range(folds):
            held = order[fold::folds]
            w = weights.clone()
            w[n_train + held] = 0.0
            heads = fit(w)
            clf.spec = dataclasses.replace(
                saved[2], temperatures={**saved[2].temperatures, **temperatures_of(heads)}
            )
            with torch.no_grad():
                logits = {name: head(gold_feats[held]) for name, head in heads.items()}
            probs = calibrated_probabilities(logits, clf.spec)
            for row, i in enumerate(held.tolist()):
                text = clean_text(str(gold_records[i].get("text", "")))
                for threshold, keywords in variants:
                    clf.thresholds = dataclasses.replace(saved[0], category=threshold)
                    clf.keyword_categories = keywords
                    preds[(threshold, keywords)][i] = clf._decide(
                        text, {k: v[row] for k, v in probs.items()}
                    )
            print(f"fold {fold + 1}/{folds} done", flush=True)
    finally:
        clf.thresholds, clf.keyword_categories, clf.spec = saved
    report: dict[str, Any] = {"folds": folds, "items": len(gold_records), "refit_heads": chosen}
    for (threshold, keywords), predicted in preds.items():
        metrics = score(gold_records, predicted)
        report[f"category_threshold={threshold} keyword_categories={keywords}"] = {
            "intent_macro_f1": round(metrics["intent"]["macro_f1"], 3),
            "category_micro_f1": round(metrics["categories"]["micro_f1"], 3),
            "category_precision": round(metrics["categories"]["micro_precision"], 3),
            "category_recall": round(metrics["categories"]["micro_recall"], 3),
            "remedy_f1": round(metrics["remedy_due"]["f1"], 3),
            "severity_accuracy": round(metrics["severity"]["accuracy"], 3),
        }
    return report


def refit(args: argparse.Namespace, argv: list[str]) -> dict[str, Any]:
    if args.out is None and args.cv_folds < 2:
        raise SystemExit("refit: give --out DIR (or --cv-folds K to cross-validate only)")
    torch.manual_seed(args.seed)
    started = time.time()
    source = Path(args.model)
    spec = load_spec(str(source))
    clf = load_classifier_with_options(str(source), threads=args.threads, runtime="torch")
    net, tokenizer = clf._model, clf._tokenizer
    digest = model_digest(source)

    def compute(texts: list[str]) -> torch.Tensor:
        return pooled_features(
            net, tokenizer, texts, prefix=spec.text_prefix, max_length=spec.max_length
        )

    chosen = [h.strip() for h in args.heads.split(",") if h.strip()]
    unknown = sorted(set(chosen) - set(HEAD_SPECS))
    if unknown:
        raise SystemExit(f"--heads: unknown head(s) {unknown}; choose from {list(HEAD_SPECS)}")
    train = load_split(args.data, "train", limits=parse_limits(args.limits), seed=args.seed)
    print(f"{len(train)} training examples", flush=True)
    features = _cached_features(args.cache, f"train-{digest}", compute, [e.text for e in train])
    weights = torch.ones(len(train))
    if args.hand_weight > 0 and args.hand_labels is not None:
        hand, labelled = load_hand_labelled(args.data, args.hand_labels)
        print(f"hand labels: {len(hand)} of {labelled} texts found in {args.data}", flush=True)
        if hand:
            # the weak-labelled copy of a hand-labelled text would contradict it: weight 0
            # (not removed, so the cached train features stay valid)
            relabelled = {e.text for e in hand}
            weights[[i for i, e in enumerate(train) if e.text in relabelled]] = 0.0
            hand_feats = _cached_features(
                args.cache, f"hand-{digest}", compute, [e.text for e in hand]
            )
            features = torch.cat([features, hand_feats])
            weights = torch.cat([weights, torch.full((len(hand),), args.hand_weight)])
            train = train + hand
    gold_path = args.data / "care_gold" / "dev.jsonl"
    gold_records: list[dict[str, Any]] = []
    if args.gold_weight > 0 and gold_path.is_file():
        gold_records = list(read_jsonl(gold_path))
    gold = [gold_example(r) for r in gold_records]
    gold_feats = torch.zeros(0, features.shape[1])
    if gold:
        gold_feats = _cached_features(args.cache, f"gold-{digest}", compute, [e.text for e in gold])
        features = torch.cat([features, gold_feats])
        weights = torch.cat([weights, torch.full((len(gold),), args.gold_weight)])
    labels = stack_labels(train + gold)

    dev = load_split(args.data, "dev", limits={"b2w": 1000, "tweeteval_sentiment_en": 600}, seed=1)
    dev_feats = _cached_features(args.cache, f"dev-{digest}", compute, [e.text for e in dev])
    dev_labels = stack_labels(dev)

    def fit(w: torch.Tensor) -> dict[str, torch.nn.Linear]:
        return _fit_heads(chosen, net, features, labels, w, args)

    def temperatures_of(heads: dict[str, torch.nn.Linear]) -> dict[str, float]:
        with torch.no_grad():
            logits = {name: heads[name](dev_feats) for name in chosen}
        return fit_temperatures(logits, dev_labels)

    if args.cv_folds:
        if not gold:
            raise SystemExit("--cv-folds needs DATA_DIR/care_gold/dev.jsonl and --gold-weight > 0")
        cv_report = cross_validate(
            clf, chosen, fit, gold_records, gold_feats, weights, temperatures_of,
            folds=args.cv_folds, seed=args.seed,
        )
        if args.out is None:
            return cv_report
        # --out as well: print the CV figures, then refit on all of care_gold/dev and write.
        print(json.dumps(cv_report, indent=2), flush=True)
    heads = fit(weights)
    print(f"fitted {', '.join(chosen)} ({time.time() - started:.0f}s)", flush=True)
    temperatures = {**spec.temperatures, **temperatures_of(heads)}
    print(f"temperatures {temperatures}", flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    for item in source.iterdir():
        if item.is_file() and item.name not in (HEADS_FILE, SPEC_FILE, "MODEL_CARD.md"):
            shutil.copy2(item, args.out / item.name)
    state = {
        f"{name}.{key}": value.detach().float().contiguous()
        for name, head in heads.items()
        for key, value in head.state_dict().items()
    }
    save_file(state, str(args.out / HEADS_FILE))
    runtime = dict(spec.runtime)
    if args.keyword_categories != "keep":
        runtime["keyword_categories"] = args.keyword_categories == "on"
    new_spec = ModelSpec(
        name=args.name or spec.name,
        version=args.version or spec.version,
        base_model=spec.base_model,
        text_prefix=spec.text_prefix,
        max_length=spec.max_length,
        heads=spec.heads,
        temperatures=temperatures,
        training={
            **spec.training,
            "refit_command": "python -m social_care.classifier.refit " + shlex.join(argv),
            "refit_examples": len(train) + len(gold),
            "refit_heads": chosen,
            "refit_seconds": round(time.time() - started, 1),
        },
        runtime=runtime,
    )
    new_spec.save(args.out)
    print(f"saved {args.out} after {time.time() - started:.0f}s", flush=True)
    return new_spec.to_json()


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    result = refit(args, argv)
    if args.out is None:
        print(json.dumps(result, indent=2))
    else:
        print(json.dumps({k: v for k, v in result["training"].items() if k.startswith("refit")}, indent=2))


if __name__ == "__main__":
    main()
