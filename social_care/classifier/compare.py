"""Compare `evaluate` outputs of a shipped model and candidates under a fixed decision rule.

    python -m social_care.classifier.evaluate --model M ... > build/dev_M.json   (once per model)
    python -m social_care.classifier.compare build/dev_shipped.json build/dev_a.json build/dev_b.json

The first file is the baseline. From each file (the JSON objects `evaluate` prints, one per
data set) it takes the headline figure of every set: complaint macro-F1; b2w neg/pos macro-F1 and
recommend accuracy; the sentiment sets' label macro-F1; for care_gold and hand-label files,
intent macro-F1, categories micro-F1 and remedy_due F1. A candidate passes when the mean of those
figures rises by at least --min-gain and complaints does not drop by more than --max-complaint-drop
(the rule the model card states; it was fixed before the 0.7.0 candidates were scored).
Exit status 0 if any candidate passes, 1 if none does, 2 on unreadable input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

# metric key in `evaluate`'s output -> (sub-metric, short label suffix)
_HEADLINES: list[tuple[str, str, str]] = [
    ("complaint", "macro_f1", ""),
    ("polarity_neg_pos", "macro_f1", ""),
    ("recommend", "accuracy", " recommend"),
    ("label", "macro_f1", ""),
    ("intent", "macro_f1", " intent"),
    ("categories", "micro_f1", " categories"),
    ("remedy_due", "f1", " remedy"),
]


def read_results(path: Path) -> list[dict[str, Any]]:
    """The concatenated JSON objects in one `evaluate` output file."""
    text = path.read_text(encoding="utf-8")
    decoder = json.JSONDecoder()
    out: list[dict[str, Any]] = []
    i = 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            break
        try:
            obj, i = decoder.raw_decode(text, i)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not evaluate output ({exc.msg} at character {exc.pos})") from exc
        if not isinstance(obj, dict) or "metrics" not in obj or "dataset" not in obj:
            raise ValueError(f"{path}: object {len(out) + 1} has no 'dataset' and 'metrics'")
        out.append(obj)
    if not out:
        raise ValueError(f"{path}: empty")
    return out


def set_name(dataset: str) -> str:
    """'DATA/complaints/dev.jsonl' -> 'complaints/dev'; 'hand labels F.jsonl' -> 'hand:F'."""
    if dataset.startswith("hand labels "):
        return "hand:" + Path(dataset[len("hand labels "):]).stem
    p = Path(dataset)
    return f"{p.parent.name}/{p.stem}" if p.parent.name else p.stem


def headline_figures(results: list[dict[str, Any]]) -> dict[str, float]:
    """Ordered {label: figure} for the headline metrics present in the results."""
    figures: dict[str, float] = {}
    for result in results:
        name = set_name(str(result["dataset"]))
        metrics = result["metrics"]
        for key, sub, suffix in _HEADLINES:
            entry = metrics.get(key)
            value = entry.get(sub) if isinstance(entry, dict) else None
            if isinstance(value, (int, float)):
                figures[name + suffix] = float(value)
    return figures


def decide(
    baseline: dict[str, float],
    candidate: dict[str, float],
    min_gain: float,
    max_complaint_drop: float,
) -> tuple[bool, float, float, float | None, str]:
    """(passes, baseline mean, candidate mean, complaints change, reason) over shared figures."""
    shared = [k for k in baseline if k in candidate]
    if not shared:
        return False, 0.0, 0.0, None, "no figure in common with the baseline"
    base_mean = sum(baseline[k] for k in shared) / len(shared)
    cand_mean = sum(candidate[k] for k in shared) / len(shared)
    complaint_keys = [k for k in shared if k.startswith("complaints/")]
    change = candidate[complaint_keys[0]] - baseline[complaint_keys[0]] if complaint_keys else None
    gain = cand_mean - base_mean
    if gain < min_gain:
        return False, base_mean, cand_mean, change, f"mean gain {gain:+.4f} < {min_gain}"
    if change is not None and change < -max_complaint_drop:
        return False, base_mean, cand_mean, change, f"complaints {change:+.4f} < -{max_complaint_drop}"
    return True, base_mean, cand_mean, change, f"mean gain {gain:+.4f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("baseline", type=Path, help="evaluate output of the shipped model")
    ap.add_argument("candidates", type=Path, nargs="+", help="evaluate outputs of candidates")
    ap.add_argument("--min-gain", type=float, default=0.005)
    ap.add_argument("--max-complaint-drop", type=float, default=0.005)
    args = ap.parse_args(argv)
    try:
        tables = [headline_figures(read_results(p)) for p in [args.baseline, *args.candidates]]
    except (OSError, ValueError) as exc:
        print(f"compare: {exc}", file=sys.stderr)
        return 2
    base = tables[0]
    names = [args.baseline.stem] + [p.stem for p in args.candidates]
    width = max(len(k) for k in base) if base else 10
    print(f"{'':{width}}  " + "  ".join(f"{n:>12}" for n in names))
    for key in base:
        cells = [f"{t[key]:12.3f}" if key in t else f"{'-':>12}" for t in tables]
        print(f"{key:{width}}  " + "  ".join(cells))
    any_pass = False
    for name, table in zip(names[1:], tables[1:]):
        ok, bm, cm, _, reason = decide(base, table, args.min_gain, args.max_complaint_drop)
        any_pass |= ok
        verdict = "passes" if ok else "fails"
        print(f"{name}: mean {cm:.4f} against {bm:.4f}; {verdict} ({reason})")
    return 0 if any_pass else 1


if __name__ == "__main__":
    sys.exit(main())
