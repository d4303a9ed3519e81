"""Plain-Python classification metrics (accuracy, per-class and macro F1, micro F1 for sets)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence


def f1_score(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def accuracy(gold: Sequence[Hashable], pred: Sequence[Hashable]) -> float:
    return sum(g == p for g, p in zip(gold, pred, strict=True)) / len(gold) if gold else 0.0


def per_class_f1(
    gold: Sequence[Hashable], pred: Sequence[Hashable], labels: Sequence[Hashable]
) -> dict[str, float]:
    scores: dict[str, float] = {}
    for label in labels:
        tp = sum(g == label and p == label for g, p in zip(gold, pred, strict=True))
        fp = sum(g != label and p == label for g, p in zip(gold, pred, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, pred, strict=True))
        scores[str(label)] = f1_score(tp, fp, fn)
    return scores


def macro_f1(
    gold: Sequence[Hashable], pred: Sequence[Hashable], labels: Sequence[Hashable]
) -> float:
    scores = per_class_f1(gold, pred, labels)
    return sum(scores.values()) / len(scores) if scores else 0.0


def set_micro_f1(gold: Sequence[set[str]], pred: Sequence[set[str]]) -> tuple[float, float, float]:
    """(precision, recall, F1) summed over all (item, label) pairs."""
    tp = sum(len(g & p) for g, p in zip(gold, pred, strict=True))
    fp = sum(len(p - g) for g, p in zip(gold, pred, strict=True))
    fn = sum(len(g - p) for g, p in zip(gold, pred, strict=True))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return precision, recall, f1_score(tp, fp, fn)
