"""Agreement of the weak-labelling rules with the hand labels of care_gold (dev only).

    python -m social_care.classifier.weak_label_audit DATA_DIR [--split dev]

Runs `corpus.label_record` on each care_gold text with only its *source* labels visible (exactly
what training sees for that kind of text) and compares the result with the hand labels.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Any

from social_care.classifier.corpus import label_record, read_jsonl
from social_care.classifier.labels import CATEGORIES, INTENTS


def audit(gold_path: Path) -> dict[str, Any]:
    intent_pairs: Counter[tuple[str, str]] = Counter()
    cat_tp = cat_fp = cat_fn = 0
    cat_unknown = 0
    remedy = Counter[str]()
    severity_hits = severity_n = 0
    for record in read_jsonl(gold_path):
        hidden = {k: v for k, v in record.items() if k in ("id", "text", "lang", "source_labels")}
        ex = label_record(record["source"], hidden)
        if ex is None:
            continue
        weak_intent = INTENTS[ex.intent] if ex.intent >= 0 else "unknown"
        intent_pairs[(record["intent"], weak_intent)] += 1
        gold_cats = set(record["categories"])
        if record["intent"] == "complaint" and weak_intent == "complaint":
            if ex.categories is None:
                cat_unknown += 1
            else:
                weak_cats = {c for c, v in zip(CATEGORIES, ex.categories, strict=True) if v}
                cat_tp += len(weak_cats & gold_cats)
                cat_fp += len(weak_cats - gold_cats)
                cat_fn += len(gold_cats - weak_cats)
            remedy[f"gold={record['remedy_due']},weak={bool(ex.remedy_due)}"] += 1
            severity_n += 1
            severity_hits += int(ex.severity == record["severity"])
    n = sum(intent_pairs.values())
    agree = sum(v for (g, w), v in intent_pairs.items() if g == w)
    precision = cat_tp / max(cat_tp + cat_fp, 1)
    recall = cat_tp / max(cat_tp + cat_fn, 1)
    return {
        "items": n,
        "intent_agreement": agree / max(n, 1),
        "intent_pairs_gold_weak": {f"{g}->{w}": v for (g, w), v in sorted(intent_pairs.items())},
        "category_precision_when_fired": precision,
        "category_recall_when_fired": recall,
        "complaints_with_no_category_rule": cat_unknown,
        "remedy_on_agreed_complaints": dict(remedy),
        "severity_exact_on_agreed_complaints": severity_hits / max(severity_n, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--split", default="dev", choices=["dev"], help="never the test split")
    args = parser.parse_args()
    print(json.dumps(audit(args.data_dir / "care_gold" / f"{args.split}.jsonl"), indent=2))


if __name__ == "__main__":
    main()
