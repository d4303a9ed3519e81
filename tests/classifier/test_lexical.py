"""The lexical sentiment model: hashed n-gram features, training, and its mix into a classifier."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from social_care.classifier import load_classifier
from social_care.classifier.artifacts import ModelLoadError
from social_care.classifier.inference import load_classifier_with_options
from social_care.classifier.labels import SENTIMENTS
from social_care.classifier.lexical import LEXICAL_FILE, features, fit
from social_care.classifier.lexical import main as lexical_main


def _norms(ids: list[int], weights: list[float]) -> float:
    return math.sqrt(sum(w * w for w in weights))


def test_features_are_stable_hashed_and_normalised() -> None:
    ids, weights = features("Adorei o produto! 😍 https://x.co/a @loja", 1 << 16)
    assert ids == features("adorei o produto! 😍 https://other.link @outra", 1 << 16)[0]
    assert all(0 <= i < 1 << 16 for i in ids)
    # two groups (words, characters), each of unit L2 norm
    assert _norms(ids, weights) == pytest.approx(math.sqrt(2), rel=1e-6)
    assert features("", 1024) == ([], [])
    ids, _ = features("x" * 100_000 + " \u200b\U0001f937\u200d\u2640\ufe0f", 1024)
    assert ids and max(ids) < 1024


def test_fit_learns_which_words_are_positive() -> None:
    pos = [f"adorei, ótimo produto {i}" for i in range(30)] + [f"love it, great {i}" for i in range(30)]
    neg = [f"péssimo, nunca chegou {i}" for i in range(30)] + [f"awful, never arrived {i}" for i in range(30)]
    examples = [(t, 2) for t in pos] + [(t, 0) for t in neg]
    model = fit(examples, buckets=1 << 14, epochs=5, seed=1)
    probs = model(["ótimo, adorei", "nunca chegou, péssimo", "great, love it", "never arrived"])
    best = probs.argmax(-1).tolist()
    assert best == [2, 0, 2, 0]


def _with_lexical(tiny_model_dir: Path, data_dir: Path, tmp_path: Path, *extra: str) -> Path:
    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    lexical_main(["--model", str(model), "--data", str(data_dir), "--buckets", "4096",
                  "--epochs", "3", "--version", "0.0.2", *extra])
    return model


def test_lexical_command_adds_a_model_that_the_classifier_mixes_in(
    tiny_model_dir: Path, data_dir: Path, tmp_path: Path
) -> None:
    model = _with_lexical(tiny_model_dir, data_dir, tmp_path, "--mix", "0.5")
    spec = json.loads((model / "social_care.json").read_text(encoding="utf-8"))
    entry = spec["lexical"]
    assert spec["version"] == "0.0.2"
    assert (model / LEXICAL_FILE).is_file() and entry["file"] == LEXICAL_FILE
    assert entry["mix"] == 0.5 and entry["temperature"] > 0 and entry["labels"] == list(SENTIMENTS)
    # xlmt_sentiment_pt is the only sentiment set in the fixture: 3 train and 3 dev texts
    assert entry["training"]["train_texts"] == 3 and entry["training"]["dev_texts"] == 3

    texts = ["odeio segunda-feira", "que dia lindo 😍"]
    mixed = load_classifier(str(model))
    assert mixed.lexical is not None
    plain = load_classifier(str(tiny_model_dir))
    lexical = mixed.lexical.probabilities(texts).tolist()
    for m, p, lex in zip(mixed.classify(texts), plain.classify(texts), lexical, strict=True):
        for k, label in enumerate(SENTIMENTS):
            expected = 0.5 * p.sentiment_scores[label] + 0.5 * lex[k]
            assert m.sentiment_scores[label] == pytest.approx(expected, abs=1e-5)
        assert m.complaint_score == pytest.approx(p.complaint_score, abs=1e-6)
        assert sum(m.sentiment_scores.values()) == pytest.approx(1.0, abs=1e-5)
    assert mixed.classify([""])[0].sentiment == "neutral"


def test_a_broken_lexical_entry_is_a_clear_load_error(
    tiny_model_dir: Path, data_dir: Path, tmp_path: Path
) -> None:
    model = _with_lexical(tiny_model_dir, data_dir, tmp_path)
    spec_path = model / "social_care.json"
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    spec["lexical"]["mix"] = 3
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    with pytest.raises(ModelLoadError, match="lexical"):
        load_classifier_with_options(str(model), runtime="torch")
    spec["lexical"]["mix"] = 0.5
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    (model / LEXICAL_FILE).unlink()
    with pytest.raises(ModelLoadError, match=LEXICAL_FILE):
        load_classifier_with_options(str(model), runtime="torch")


def test_the_documented_command_starts_without_a_runpy_warning() -> None:
    # `python -m social_care.classifier.lexical` warned "found in sys.modules ... prior to
    # execution" while the package's import chain loaded the module before runpy ran it
    run = subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", "-m", "social_care.classifier.lexical",
         "--help"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "--mix" in run.stdout and "sys.modules" not in run.stderr
