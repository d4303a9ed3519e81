"""Evaluate a classifier on one JSONL file in the shared data format; metrics + throughput.

    python -m social_care.classifier.evaluate --model models/NAME --dataset FILE.jsonl

Whichever label fields the file has are scored: `complaint` (0/1), `label` (tweet sentiment),
`polarity` / `recommend` (b2w), `sentiment`, `intent`, `categories`, `remedy_due`, `severity`
(care_gold) and `lang`.

`--hand-labels FILE --data DATA_DIR` also scores a hand-label file (ids and labels only, see
docs/hand-labels.md) with its texts joined from DATA_DIR/SOURCE/train.jsonl.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from social_care.classifier.corpus import hand_labelled_records
from social_care.classifier.inference import Classifier
from social_care.classifier.labels import CATEGORIES, INTENTS, SENTIMENTS
from social_care.classifier.metrics import accuracy, macro_f1, per_class_f1, set_micro_f1
from social_care.classifier.result import Classification
from social_care.jsonl import numbered_rows


def _text_of(record: dict[str, Any]) -> str:
    if record.get("text"):
        return str(record["text"])
    # customer-care dialogues: the first customer turn is the mention
    for turn in record.get("turns", []):
        if turn.get("role") == "customer":
            return str(turn.get("text", ""))
    return ""


def _binary_sentiment(c: Classification) -> str:
    """neg/pos decision for two-class data: the larger of the two calibrated scores."""
    s = c.sentiment_scores
    return "positive" if s["positive"] >= s["negative"] else "negative"


def _sentiment_block(gold: list[str], preds: list[Classification]) -> dict[str, Any]:
    present = sorted(set(gold))
    if set(present) <= {"negative", "positive"}:
        predicted = [_binary_sentiment(c) for c in preds]
        labels: list[str] = ["negative", "positive"]
    else:
        predicted = [c.sentiment for c in preds]
        labels = list(SENTIMENTS)
    return {
        "n": len(gold),
        "accuracy": accuracy(gold, predicted),
        "macro_f1": macro_f1(gold, predicted, labels),
        "per_class_f1": per_class_f1(gold, predicted, labels),
    }


def _select(
    records: list[dict[str, Any]], preds: list[Classification], field: str, allowed: set[Any]
) -> tuple[list[Any], list[Classification]]:
    pairs = [(r[field], p) for r, p in zip(records, preds, strict=True) if r.get(field) in allowed]
    return [g for g, _ in pairs], [p for _, p in pairs]


def score(records: list[dict[str, Any]], preds: list[Classification]) -> dict[str, Any]:
    """Metrics for every label field present in the records."""
    out: dict[str, Any] = {}
    gold, sel = _select(records, preds, "complaint", {0, 1})
    if gold:
        g = [int(x) for x in gold]
        p = [int(c.complaint) for c in sel]
        out["complaint"] = {
            "n": len(g),
            "accuracy": accuracy(g, p),
            "macro_f1": macro_f1(g, p, [0, 1]),
            "f1": per_class_f1(g, p, [1])["1"],
        }
    for field in ("label", "sentiment"):
        gold, sel = _select(records, preds, field, set(SENTIMENTS))
        if gold:
            out[field] = _sentiment_block(gold, sel)
    gold, sel = _select(records, preds, "polarity", set(SENTIMENTS))
    if gold:
        out["polarity_3class"] = _sentiment_block(gold, sel)
        g2, s2 = _select(records, preds, "polarity", {"negative", "positive"})
        out["polarity_neg_pos"] = _sentiment_block(g2, s2)
    gold, sel = _select(records, preds, "recommend", {True, False})
    if gold:
        # recommend <=> the review reads more positive than negative
        p = [_binary_sentiment(c) == "positive" for c in sel]
        out["recommend"] = {"n": len(gold), "accuracy": accuracy(gold, p)}
    gold, sel = _select(records, preds, "intent", set(INTENTS))
    if gold:
        p = [c.intent for c in sel]
        out["intent"] = {
            "n": len(gold),
            "accuracy": accuracy(gold, p),
            "macro_f1": macro_f1(gold, p, INTENTS),
            "per_class_f1": per_class_f1(gold, p, INTENTS),
        }
    cat_records = [
        (set(r["categories"]), set(c.categories))
        for r, c in zip(records, preds, strict=True)
        if isinstance(r.get("categories"), list)
    ]
    if cat_records:
        g_sets, p_sets = [g for g, _ in cat_records], [p for _, p in cat_records]
        precision, recall, f1 = set_micro_f1(g_sets, p_sets)
        out["categories"] = {
            "n": len(cat_records),
            "micro_precision": precision,
            "micro_recall": recall,
            "micro_f1": f1,
            "per_category_f1": {
                c: set_micro_f1([g & {c} for g in g_sets], [p & {c} for p in p_sets])[2]
                for c in CATEGORIES
            },
        }
    gold, sel = _select(records, preds, "remedy_due", {True, False})
    if gold:
        g = [bool(x) for x in gold]
        p = [c.remedy_due for c in sel]
        tp = sum(a and b for a, b in zip(g, p, strict=True))
        out["remedy_due"] = {
            "n": len(g),
            "f1": per_class_f1(g, p, [True])["True"],
            "precision": tp / max(sum(p), 1),
            "recall": tp / max(sum(g), 1),
        }
    gold, sel = _select(records, preds, "severity", {0, 1, 2, 3, 4})
    if gold:
        p = [c.severity for c in sel]
        out["severity"] = {
            "n": len(gold),
            "accuracy": accuracy(gold, p),
            "macro_f1": macro_f1(gold, p, [0, 1, 2, 3, 4]),
            "mae": sum(abs(a - b) for a, b in zip(gold, p, strict=True)) / len(gold),
        }
    gold, sel = _select(records, preds, "lang", {"pt", "en", "es"})
    if gold:
        out["language"] = {"n": len(gold), "accuracy": accuracy(gold, [c.language for c in sel])}
    return out


def evaluate(
    dataset_path: str | Path,
    classifier: Classifier,
    *,
    batch_size: int = 32,
    limit: int | None = None,
) -> dict[str, Any]:
    """Classify every text of a JSONL file and score it against the labels it carries."""
    path = Path(dataset_path)
    records = [record for _, record in numbered_rows(path)]
    return evaluate_records(records, classifier, str(path), batch_size=batch_size, limit=limit)


def evaluate_records(
    records: list[dict[str, Any]],
    classifier: Classifier,
    name: str,
    *,
    batch_size: int = 32,
    limit: int | None = None,
) -> dict[str, Any]:
    """Classify the records' texts and score them against the labels they carry."""
    if limit is not None:
        records = records[:limit]
    texts = [_text_of(r) for r in records]
    started = time.perf_counter()
    preds = classifier.classify(texts, batch_size=batch_size)
    seconds = time.perf_counter() - started
    return {
        "dataset": name,
        "model": {
            "name": classifier.name,
            "version": classifier.version,
            "runtime": classifier.runtime,
        },
        "n": len(records),
        "metrics": score(records, preds),
        "throughput": {
            "texts": len(texts),
            "seconds": round(seconds, 3),
            "texts_per_second": round(len(texts) / seconds, 1) if seconds > 0 else None,
            "batch_size": batch_size,
        },
    }


def main(argv: list[str] | None = None) -> None:
    from social_care.classifier.inference import RUNTIMES, load_classifier_with_options

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--dataset", type=Path, nargs="+", default=[])
    parser.add_argument("--hand-labels", type=Path, nargs="+", default=[],
                        help="hand-label files to score too (texts joined from --data)")
    parser.add_argument("--data", type=Path, help="data directory for --hand-labels")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--runtime", choices=["auto", *RUNTIMES], default="auto")
    args = parser.parse_args(argv)
    if not args.dataset and not args.hand_labels:
        parser.error("give --dataset FILE and/or --hand-labels FILE --data DATA_DIR")
    if args.hand_labels and args.data is None:
        parser.error("--hand-labels needs --data DATA_DIR (the texts are joined from its train splits)")
    classifier = load_classifier_with_options(
        args.model, threads=args.threads, runtime=args.runtime
    )
    for dataset in args.dataset:
        result = evaluate(dataset, classifier, batch_size=args.batch_size, limit=args.limit)
        print(json.dumps(result, indent=2))
    for labels in args.hand_labels:
        records, total = hand_labelled_records(args.data, labels)
        if len(records) < total:
            print(f"note: {total - len(records)} of {total} labels in {labels} have no text in {args.data}",
                  file=sys.stderr)
        result = evaluate_records(records, classifier, f"hand labels {labels}",
                                  batch_size=args.batch_size, limit=args.limit)
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
