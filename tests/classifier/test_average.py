"""Weight averaging of models: the weighted mean of every tensor, loadable, recalibrated."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from social_care.classifier import load_classifier
from social_care.classifier.average import average_state
from social_care.classifier.average import main as average_main


def _shifted_copy(src: Path, dst: Path, shift: float) -> Path:
    """A copy of the model whose floating tensors are all moved by `shift`."""
    shutil.copytree(src, dst)
    for name in ("model.safetensors", "heads.safetensors"):
        state = load_file(str(dst / name))
        save_file({k: v + shift if v.is_floating_point() else v for k, v in state.items()},
                  str(dst / name))
    return dst


def test_average_writes_the_weighted_mean_and_refits_temperatures(
    tiny_model_dir: Path, data_dir: Path, tmp_path: Path
) -> None:
    other = _shifted_copy(tiny_model_dir, tmp_path / "other", 0.4)
    out = tmp_path / "soup"
    average_main(["--models", str(tiny_model_dir), str(other), "--weights", "3", "1",
                  "--data", str(data_dir), "--out", str(out), "--version", "9.9.9",
                  "--max-length", "48"])
    for name in ("model.safetensors", "heads.safetensors"):
        a, b, soup = (load_file(str(d / name)) for d in (tiny_model_dir, other, out))
        assert soup.keys() == a.keys()
        for key, value in soup.items():
            if value.is_floating_point():
                torch.testing.assert_close(value, 0.75 * a[key] + 0.25 * b[key])
    spec = json.loads((out / "social_care.json").read_text(encoding="utf-8"))
    assert spec["version"] == "9.9.9"
    assert spec["max_length"] == 48
    assert [m["weight"] for m in spec["training"]["averaged"]] == [0.75, 0.25]
    assert spec["training"]["command"].startswith("python -m social_care.classifier.average")
    # the tiny fixture has only a sentiment temperature; the dev data give one to every head
    assert set(spec["temperatures"]) >= {"sentiment", "complaint", "intent", "categories"}
    (result,) = load_classifier(str(out)).classify(["Meu pedido não chegou"])
    assert 0.0 <= result.complaint_score <= 1.0


def test_average_of_a_model_with_itself_keeps_every_weight(
    tiny_model_dir: Path, data_dir: Path, tmp_path: Path
) -> None:
    twin = tmp_path / "twin"
    shutil.copytree(tiny_model_dir, twin)
    out = tmp_path / "soup"
    average_main(["--models", str(tiny_model_dir), str(twin), "--data", str(data_dir),
                  "--out", str(out)])
    for name in ("model.safetensors", "heads.safetensors"):
        before, after = load_file(str(tiny_model_dir / name)), load_file(str(out / name))
        assert before.keys() == after.keys()
        assert all(before[k].equal(after[k]) for k in before)
    spec = json.loads((out / "social_care.json").read_text(encoding="utf-8"))
    assert spec["max_length"] == 32 and spec["text_prefix"] == "query: "


def test_average_state_refuses_models_that_do_not_match() -> None:
    a = {"w": torch.zeros(2, 3)}
    with pytest.raises(ValueError, match="different shapes"):
        average_state([a, {"w": torch.zeros(3, 2)}], [0.5, 0.5])
    with pytest.raises(ValueError, match="different tensors"):
        average_state([a, {"v": torch.zeros(2, 3)}], [0.5, 0.5])


def test_average_refuses_a_different_tokenizer(
    tiny_model_dir: Path, data_dir: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    shutil.copytree(tiny_model_dir, other)
    tok = json.loads((other / "tokenizer.json").read_text(encoding="utf-8"))
    tok["added_tokens"] = [*tok.get("added_tokens", []), {"id": 9999, "content": "[X]"}]
    (other / "tokenizer.json").write_text(json.dumps(tok), encoding="utf-8")
    with pytest.raises(SystemExit, match="different tokenizer"):
        average_main(["--models", str(tiny_model_dir), str(other), "--data", str(data_dir),
                      "--out", str(tmp_path / "soup")])
