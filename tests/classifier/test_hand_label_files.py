"""The shipped hand-label files: well formed, in the scheme, and validation kept out of training."""

from __future__ import annotations

from pathlib import Path

import pytest

from social_care.classifier.corpus import HAND_LABELS, HAND_LABELS_VAL, hand_labelled_records
from social_care.jsonl import numbered_rows


@pytest.mark.parametrize("path", [HAND_LABELS, HAND_LABELS_VAL], ids=["train", "val"])
def test_every_shipped_label_row_is_valid_and_consistent(path: Path, tmp_path: Path) -> None:
    # no data directory: every row is still parsed and checked, and none finds a text
    records, total = hand_labelled_records(tmp_path, path)
    assert records == [] and total > 300
    for number, row in numbered_rows(path):
        where = f"{path.name}:{number}"
        if row["intent"] == "complaint":
            assert row["categories"] and 1 <= row["severity"] <= 4, where
        else:
            assert row["severity"] == 0 and not row["remedy_due"], where
        if row["intent"] in ("praise", "other"):
            assert row["categories"] == [], where


def test_validation_labels_are_disjoint_from_the_training_labels() -> None:
    train = [row["key"] for _, row in numbered_rows(HAND_LABELS)]
    val = [row["key"] for _, row in numbered_rows(HAND_LABELS_VAL)]
    assert len(set(train)) == len(train) and len(set(val)) == len(val)
    assert not set(train) & set(val)
