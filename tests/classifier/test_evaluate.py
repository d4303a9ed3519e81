"""evaluate() reads whichever label fields a JSONL file carries and reports metrics + speed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from social_care.classifier import load_classifier
from social_care.classifier.evaluate import evaluate
from social_care.classifier.evaluate import main as evaluate_main
from social_care.classifier.metrics import macro_f1, set_micro_f1


def _write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_metrics_by_hand() -> None:
    assert macro_f1(["a", "b", "a"], ["a", "b", "b"], ["a", "b"]) == (2 / 3 + 2 / 3) / 2
    assert set_micro_f1([{"x"}, {"y", "z"}], [{"x"}, {"y"}]) == (1.0, 2 / 3, 0.8)


def test_care_gold_like_file(tiny_model_dir: Path, tmp_path: Path) -> None:
    rows = [
        {
            "text": "Meu pedido não chegou",
            "lang": "pt",
            "intent": "complaint",
            "categories": ["delivery"],
            "remedy_due": True,
            "severity": 1,
            "sentiment": "negative",
        },
        {
            "text": "Love it",
            "lang": "en",
            "intent": "praise",
            "categories": [],
            "remedy_due": False,
            "severity": 0,
            "sentiment": "positive",
        },
    ]
    result = evaluate(_write(tmp_path / "gold.jsonl", rows), load_classifier(str(tiny_model_dir)))
    metrics = result["metrics"]
    assert {"intent", "categories", "remedy_due", "severity", "sentiment", "language"} <= set(
        metrics
    )
    assert result["n"] == 2 and result["throughput"]["texts"] == 2
    assert 0.0 <= metrics["categories"]["micro_f1"] <= 1.0


def test_b2w_and_complaints_fields(tiny_model_dir: Path, tmp_path: Path) -> None:
    rows = [
        {"text": "Produto ótimo", "polarity": "positive", "recommend": True, "complaint": 0},
        {"text": "Veio quebrado", "polarity": "negative", "recommend": False, "complaint": 1},
        {"text": "Ok", "polarity": "neutral", "recommend": None, "complaint": 0},
        {"text": "Sem rótulo", "polarity": None, "recommend": None},
    ]
    result = evaluate(_write(tmp_path / "b2w.jsonl", rows), load_classifier(str(tiny_model_dir)))
    metrics = result["metrics"]
    assert metrics["polarity_neg_pos"]["n"] == 2
    assert metrics["polarity_3class"]["n"] == 3
    assert metrics["recommend"]["n"] == 2
    assert metrics["complaint"]["n"] == 3


def test_dialogue_file_uses_first_customer_turn(tiny_model_dir: Path, tmp_path: Path) -> None:
    rows = [
        {
            "turns": [
                {"role": "customer", "text": "My order is late"},
                {"role": "agent", "text": "Sorry!"},
            ]
        }
    ]
    result = evaluate(_write(tmp_path / "ibm.jsonl", rows), load_classifier(str(tiny_model_dir)))
    assert result["n"] == 1 and result["metrics"] == {}


def test_hand_label_files_are_scored_with_their_texts_joined_from_the_train_split(
    tiny_model_dir: Path, data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hand = _write(tmp_path / "val.jsonl", [
        {"key": "complaints:c2", "intent": "complaint", "categories": ["damaged_defective"],
         "remedy_due": True, "severity": 3, "sentiment": "negative"},
        {"key": "complaints:c4", "intent": "praise", "categories": [], "remedy_due": False,
         "severity": 0, "sentiment": "positive"},
        {"key": "b2w:b2w_missing", "intent": "praise", "categories": [], "remedy_due": False,
         "severity": 0, "sentiment": "positive"},
    ])
    evaluate_main(["--model", str(tiny_model_dir), "--runtime", "torch",
                   "--hand-labels", str(hand), "--data", str(data_dir)])
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert result["dataset"] == f"hand labels {hand}" and result["n"] == 2
    assert result["metrics"]["intent"]["n"] == 2 and result["metrics"]["remedy_due"]["n"] == 2
    assert "1 of 3 labels" in captured.err


def test_hand_labels_without_a_data_directory_is_a_usage_error(tiny_model_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        evaluate_main(["--model", str(tiny_model_dir), "--hand-labels", str(tmp_path / "val.jsonl")])
    assert exc.value.code == 2
