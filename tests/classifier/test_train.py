"""Multi-task training, continued from a model directory: a loadable model that keeps its options."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from social_care.classifier import load_classifier
from social_care.classifier.corpus import load_split
from social_care.classifier.train import main as train_main
from social_care.classifier.train import pick_device


def test_continued_training_updates_the_encoder_and_keeps_the_runtime_options(
    tiny_model_dir: Path, data_dir: Path, tmp_path: Path
) -> None:
    source = tmp_path / "source"
    shutil.copytree(tiny_model_dir, source)
    spec_path = source / "social_care.json"
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    spec["runtime"] = {"keyword_categories": True, "backend": "torch"}
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    out = tmp_path / "continued"

    train_main([
        "--data", str(data_dir), "--out", str(out), "--init-from", str(source),
        "--version", "0.0.2", "--prefix", "query: ", "--max-length", "32",
        "--epochs", "2", "--batch-size", "2", "--lr", "1e-3", "--threads", "1", "--device", "cpu",
    ])

    written = json.loads((out / "social_care.json").read_text(encoding="utf-8"))
    assert written["version"] == "0.0.2"
    assert written["runtime"] == {"keyword_categories": True, "backend": "torch"}
    assert "continued from tiny-test" in written["base_model"]
    assert written["training"]["continued_from"] == spec.get("training", {})
    assert written["training"]["steps"] == written["training"]["planned_steps"] > 0
    assert written["training"]["device"] == "cpu"

    def encoder_weights(model_dir: Path) -> dict:
        (weights,) = [p for p in model_dir.glob("*.safetensors") if p.name != "heads.safetensors"]
        return load_file(str(weights))

    before, after = encoder_weights(source), encoder_weights(out)
    assert before.keys() == after.keys()
    assert any(not before[k].float().equal(after[k].float()) for k in before)

    clf = load_classifier(str(out), threads=1)
    assert clf.keyword_categories
    result = clf.classify(["my order never arrived", "adorei!"])
    assert len(result) == 2 and all(0.0 <= r.complaint_score <= 1.0 for r in result)


def test_hand_labelled_texts_replace_their_weak_copy_and_are_repeated(
    tiny_model_dir: Path, data_dir: Path, tmp_path: Path, capsys
) -> None:
    hand = tmp_path / "hand.jsonl"
    hand.write_text(json.dumps({
        "key": "complaints:c3", "intent": "complaint", "categories": ["website_app"],
        "remedy_due": False, "severity": 1, "sentiment": "negative"}) + "\n", encoding="utf-8")
    out = tmp_path / "trained"
    train_main([
        "--data", str(data_dir), "--out", str(out), "--init-from", str(tiny_model_dir),
        "--max-length", "32", "--epochs", "1", "--batch-size", "4", "--threads", "1",
        "--hand-labels", str(hand), "--hand-repeat", "3",
    ])
    assert "hand labels: 1 of 1 texts found, each seen 3x per epoch" in capsys.readouterr().out
    written = json.loads((out / "social_care.json").read_text(encoding="utf-8"))
    # 4 complaints + 3 tweets, minus the weak copy of c3, plus 3 hand copies
    assert written["training"]["examples"] == 7 - 1 + 3


def test_a_broken_line_in_a_data_split_is_an_error_naming_the_file_and_line(data_dir: Path) -> None:
    path = data_dir / "complaints" / "train.jsonl"
    with path.open("a", encoding="utf-8") as handle:
        handle.write('{"id": "c5", "text": "truncated\n')
    lines = len(path.read_text(encoding="utf-8").splitlines())
    with pytest.raises(ValueError, match=rf"complaints/train\.jsonl:{lines}: not JSON"):
        load_split(data_dir, "train")


def test_device_auto_follows_cuda_and_a_missing_gpu_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert pick_device("auto") == torch.device("cpu")
    assert pick_device("cpu") == torch.device("cpu")
    with pytest.raises(SystemExit, match="no CUDA device"):
        pick_device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert pick_device("auto") == torch.device("cuda")
