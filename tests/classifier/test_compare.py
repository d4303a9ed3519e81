"""The decision rule over `evaluate` outputs: headline figures, mean gain, complaints guard."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from social_care.classifier.compare import decide, headline_figures, main, read_results


def _write(path: Path, complaint: float, sentiment: float, intent: float) -> Path:
    objs = [
        {"dataset": "D/complaints/dev.jsonl", "model": "m", "n": 10,
         "metrics": {"complaint": {"macro_f1": complaint, "f1": 0.1}, "language": {"accuracy": 1}}},
        {"dataset": "D/xlmt_sentiment_pt/dev.jsonl", "model": "m", "n": 10,
         "metrics": {"label": {"macro_f1": sentiment, "accuracy": 0.2}}},
        {"dataset": "hand labels social_care/classifier/hand_labels_val.jsonl", "model": "m",
         "n": 10, "metrics": {"intent": {"macro_f1": intent}, "categories": {"micro_f1": 0.5},
                              "remedy_due": {"f1": 0.6}, "severity": {"accuracy": 0.9}}},
    ]
    path.write_text("".join(json.dumps(o, indent=2) + "\n" for o in objs), encoding="utf-8")
    return path


def test_headline_figures_take_one_figure_per_target(tmp_path: Path) -> None:
    figures = headline_figures(read_results(_write(tmp_path / "a.json", 0.8, 0.7, 0.6)))
    assert figures == {
        "complaints/dev": 0.8,
        "xlmt_sentiment_pt/dev": 0.7,
        "hand:hand_labels_val intent": 0.6,
        "hand:hand_labels_val categories": 0.5,
        "hand:hand_labels_val remedy": 0.6,
    }


def test_decide_needs_the_gain_and_guards_complaints() -> None:
    base = {"complaints/dev": 0.80, "x": 0.70}
    assert decide(base, {"complaints/dev": 0.80, "x": 0.72}, 0.005, 0.005)[0] is True
    assert decide(base, {"complaints/dev": 0.80, "x": 0.705}, 0.005, 0.005)[0] is False
    ok, _, _, change, reason = decide(base, {"complaints/dev": 0.79, "x": 0.80}, 0.005, 0.005)
    assert ok is False and change == pytest.approx(-0.01) and "complaints" in reason


def test_main_exit_status_follows_the_verdict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = _write(tmp_path / "base.json", 0.80, 0.70, 0.60)
    better = _write(tmp_path / "better.json", 0.80, 0.75, 0.65)
    worse = _write(tmp_path / "worse.json", 0.70, 0.75, 0.65)
    assert main([str(base), str(worse)]) == 1
    assert "fails" in capsys.readouterr().out
    assert main([str(base), str(worse), str(better)]) == 0
    assert "better: mean" in capsys.readouterr().out


def test_unreadable_input_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"dataset": "x", "metrics": {}} {not json', encoding="utf-8")
    assert main([str(bad), str(bad)]) == 2
    assert "not evaluate output" in capsys.readouterr().err
    (tmp_path / "empty.json").write_text("  \n", encoding="utf-8")
    with pytest.raises(ValueError, match="empty"):
        read_results(tmp_path / "empty.json")
