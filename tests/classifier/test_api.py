"""Behaviour of load_classifier / Classifier.classify on a tiny random model."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest

import social_care.classifier as clf
from social_care.classifier import (
    CATEGORIES,
    INTENTS,
    SENTIMENTS,
    Classification,
    ModelLoadError,
    Thresholds,
    load_classifier,
)


@pytest.fixture(scope="module")
def classifier(tiny_model_dir: Path) -> clf.Classifier:
    return load_classifier(str(tiny_model_dir), threads=1)


def _check_consistent(c: Classification, th: Thresholds) -> None:
    assert c.language in ("pt", "en", "es", "other")
    assert c.sentiment in SENTIMENTS and c.intent in INTENTS
    assert math.isclose(sum(c.sentiment_scores.values()), 1.0, rel_tol=1e-5)
    assert math.isclose(sum(c.intent_scores.values()), 1.0, rel_tol=1e-5)
    assert c.complaint == (c.complaint_score >= th.complaint)
    assert c.complaint == (c.intent == "complaint")
    assert c.intent_scores["complaint"] == c.complaint_score
    assert set(c.category_scores) == set(CATEGORIES)
    assert len(c.severity_scores) == 5
    if c.complaint:
        assert c.categories and 1 <= c.severity <= 4
    else:
        assert c.severity == 0 and not c.remedy_due
        if c.intent != "question":
            assert c.categories == []
    assert c.remedy_due == (c.complaint and c.remedy_score >= th.remedy_due)
    json.dumps(c.as_dict())


def test_public_api_names() -> None:
    assert set(clf.__all__) >= {
        "Classification",
        "Classifier",
        "ModelLoadError",
        "Thresholds",
        "load_classifier",
    }


def test_name_and_version_come_from_the_model_dir(classifier: clf.Classifier) -> None:
    assert (classifier.name, classifier.version) == ("tiny-test", "0.0.1")


def test_batches_keep_order_and_match_single_calls(classifier: clf.Classifier) -> None:
    texts = [
        "Meu pedido não chegou e ninguém responde, quero reembolso!",
        "ok",
        "Love it " * 30,
        "Where is my parcel?",
        "Produto chegou quebrado",
    ]
    batched = classifier.classify(texts, batch_size=2)
    single = [classifier.classify([t])[0] for t in texts]
    assert len(batched) == len(texts)
    for a, b in zip(batched, single, strict=True):
        assert a.intent == b.intent
        assert math.isclose(a.complaint_score, b.complaint_score, abs_tol=1e-5)
        _check_consistent(a, classifier.thresholds)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        "\x00\x00",
        "😡😡😡🙏",
        "x" * 100_000,
        "palavra " * 20_000,
        "a\x00b\ud800c\u200b\ufeff",
        "Ｆｕｌｌｗｉｄｔｈ ＴＥＸＴ ﷽ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
        "My order não chegou, muy mal servicio",
    ],
)
def test_odd_inputs_do_not_crash(classifier: clf.Classifier, text: str) -> None:
    (result,) = classifier.classify([text])
    _check_consistent(result, classifier.thresholds)


def test_empty_text_is_other(classifier: clf.Classifier) -> None:
    (result,) = classifier.classify([""])
    assert (result.language, result.intent, result.complaint) == ("other", "other", False)


def test_no_texts(classifier: clf.Classifier) -> None:
    assert classifier.classify([]) == []


def test_a_bare_string_is_refused(classifier: clf.Classifier) -> None:
    with pytest.raises(TypeError):
        classifier.classify("not a list")  # type: ignore[arg-type]


def test_language_detection(classifier: clf.Classifier) -> None:
    results = classifier.classify(
        [
            "Meu pedido não chegou e ninguém responde, quero reembolso!",
            "My order never arrived and nobody answers my emails",
            "¿Dónde está mi pedido? Nadie me responde desde hace una semana",
            "🙏🙏",
        ]
    )
    assert [r.language for r in results] == ["pt", "en", "es", "other"]


def test_thresholds_drive_the_flags(tiny_model_dir: Path) -> None:
    texts = ["Produto chegou quebrado", "Love it", "Where is my order?"]
    always = load_classifier(
        str(tiny_model_dir), thresholds=Thresholds(complaint=0.0, category=0.0, remedy_due=0.0)
    )
    never = load_classifier(
        str(tiny_model_dir), thresholds=Thresholds(complaint=1.0, category=1.0, remedy_due=1.0)
    )
    for c in always.classify(texts):
        assert c.complaint and c.intent == "complaint" and c.remedy_due
        assert c.categories == list(CATEGORIES)
        _check_consistent(c, always.thresholds)
    for c in never.classify(texts):
        # sigmoid outputs of a random model are strictly below 1.0
        assert not c.complaint and c.intent != "complaint" and not c.remedy_due
        _check_consistent(c, never.thresholds)


def test_keyword_categories_add_the_rules_that_fire_and_only_when_the_model_asks(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "model"
    shutil.copytree(tiny_model_dir, copy)
    spec = json.loads((copy / "social_care.json").read_text())
    spec["runtime"] = {"keyword_categories": True}
    (copy / "social_care.json").write_text(json.dumps(spec))
    # every text a complaint, no category from the (random) head: only the rules remain
    th = Thresholds(complaint=0.0, category=1.0)
    texts = [
        "Meu pedido não chegou e a embalagem veio amassada",
        "Wrong size delivered, I want a refund",
        "ok",
    ]
    with_rules = load_classifier(str(copy), thresholds=th)
    assert with_rules.keyword_categories
    late, wrong, plain = with_rules.classify(texts)
    assert late.categories == ["delivery", "damaged_defective"]
    assert wrong.categories == ["delivery", "wrong_item", "refund_return"]
    # no rule fires: the complaint still gets the head's single best category
    assert len(plain.categories) == 1
    assert plain.categories == [max(plain.category_scores, key=plain.category_scores.__getitem__)]
    for c in (late, wrong, plain):
        _check_consistent(c, th)
    without = load_classifier(str(tiny_model_dir), thresholds=th)
    assert not without.keyword_categories
    assert all(len(c.categories) == 1 for c in without.classify(texts))
    # non-complaints get no keyword categories
    none = load_classifier(str(copy), thresholds=Thresholds(complaint=1.0, category=1.0))
    assert all(c.categories == [] for c in none.classify(texts) if c.intent != "question")


def test_threshold_out_of_range() -> None:
    with pytest.raises(ValueError):
        Thresholds(complaint=1.5)


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="does not exist"):
        load_classifier(str(tmp_path / "nope"))


def test_directory_without_spec(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="not a social-care model directory"):
        load_classifier(str(tmp_path))


def test_file_instead_of_directory(tmp_path: Path) -> None:
    f = tmp_path / "model.bin"
    f.write_bytes(b"x")
    with pytest.raises(ModelLoadError, match="is a file"):
        load_classifier(str(f))


def test_unreachable_hub_id_offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    import huggingface_hub.constants as hub_constants

    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(ModelLoadError, match="unreachable|no cached copy|not a local directory"):
        load_classifier("social-care-org/no-such-model")


def test_mismatched_heads_are_reported(tiny_model_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(tiny_model_dir, broken)
    spec = json.loads((broken / "social_care.json").read_text())
    spec["heads"]["intent"]["labels"] = ["a", "b"]
    (broken / "social_care.json").write_text(json.dumps(spec))
    with pytest.raises(ModelLoadError, match="intent"):
        load_classifier(str(broken))


def test_as_dict_is_json_ready(classifier: clf.Classifier) -> None:
    (c,) = classifier.classify(["Wrong size delivered, I want a refund"])
    data = json.loads(json.dumps(c.as_dict()))
    assert data["intent"] == c.intent and data["severity_scores"] == c.severity_scores


def test_int8_runtime_gives_close_scores(tiny_model_dir: Path) -> None:
    from social_care.classifier.inference import load_classifier_with_options

    texts = ["Produto chegou quebrado", "Love it, thanks!"]
    fp32 = load_classifier_with_options(str(tiny_model_dir), int8=False).classify(texts)
    int8 = load_classifier_with_options(str(tiny_model_dir), int8=True).classify(texts)
    for a, b in zip(fp32, int8, strict=True):
        assert abs(a.complaint_score - b.complaint_score) < 0.1
        _check_consistent(b, Thresholds())


@pytest.mark.parametrize("runtime", ["onnx", "onnx-int8"])
def test_onnx_runtime_matches_torch_and_is_cached(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runtime: str
) -> None:
    from social_care.classifier.inference import load_classifier_with_options

    monkeypatch.setenv("SOCIAL_CARE_CACHE", str(tmp_path / "cache"))
    texts = ["Produto chegou quebrado", "Love it, thanks!", "", "🙂" * 40, "x " * 5000]
    reference = load_classifier_with_options(str(tiny_model_dir), runtime="torch").classify(texts)
    onnx = load_classifier_with_options(str(tiny_model_dir), runtime=runtime)
    assert onnx.runtime == runtime
    exported = list((tmp_path / "cache" / "onnx").glob("*.onnx"))
    suffix = "-int8.onnx" if runtime == "onnx-int8" else "-fp32.onnx"
    assert len(exported) == 1 and exported[0].name.endswith(suffix)
    tolerance = 1e-4 if runtime == "onnx" else 0.1
    for a, b in zip(reference, onnx.classify(texts, batch_size=2), strict=True):
        assert abs(a.complaint_score - b.complaint_score) < tolerance
        assert all(abs(a.sentiment_scores[k] - b.sentiment_scores[k]) < tolerance for k in SENTIMENTS)
        _check_consistent(b, Thresholds())
    # a second load reuses the export instead of writing it again
    stamp = exported[0].stat().st_mtime_ns
    load_classifier_with_options(str(tiny_model_dir), runtime=runtime)
    assert exported[0].stat().st_mtime_ns == stamp


def test_runtime_follows_the_model_directory_and_rejects_unknown_names(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from social_care.classifier.inference import load_classifier_with_options

    monkeypatch.setenv("SOCIAL_CARE_CACHE", str(tmp_path / "cache"))
    copy = tmp_path / "model"
    shutil.copytree(tiny_model_dir, copy)
    spec = json.loads((copy / "social_care.json").read_text())
    spec["runtime"] = {"backend": "onnx"}
    (copy / "social_care.json").write_text(json.dumps(spec))
    assert load_classifier_with_options(str(copy)).runtime == "onnx"
    assert load_classifier_with_options(str(copy), runtime="torch").runtime == "torch"
    with pytest.raises(ValueError, match="runtime"):
        load_classifier_with_options(str(copy), runtime="tensorrt")
    spec["runtime"] = {"backend": "gpu-magic"}
    (copy / "social_care.json").write_text(json.dumps(spec))
    with pytest.raises(ModelLoadError, match="gpu-magic"):
        load_classifier_with_options(str(copy))


def test_unwritable_onnx_cache_is_a_clear_error(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from social_care.classifier.inference import load_classifier_with_options

    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("SOCIAL_CARE_CACHE", str(blocker))
    with pytest.raises(ModelLoadError, match="SOCIAL_CARE_CACHE"):
        load_classifier_with_options(str(tiny_model_dir), runtime="onnx")


def test_auto_runtime_falls_back_to_torch_when_the_onnx_export_cannot_be_written(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A model that asks for ONNX still classifies where the cache is read-only, with a warning."""
    import shutil

    from social_care.classifier.inference import load_classifier_with_options

    copy = tmp_path / "model"
    shutil.copytree(tiny_model_dir, copy)
    spec = json.loads((copy / "social_care.json").read_text())
    spec["runtime"] = {"backend": "onnx"}
    (copy / "social_care.json").write_text(json.dumps(spec))
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("SOCIAL_CARE_CACHE", str(blocker))
    texts = ["my order never arrived", "😀"]
    with caplog.at_level("WARNING"):
        clf = load_classifier_with_options(str(copy))
    assert clf.runtime == "torch"
    assert "SOCIAL_CARE_CACHE" in caplog.text
    reference = load_classifier_with_options(str(copy), runtime="torch").classify(texts)
    got = clf.classify(texts)
    assert [r.as_dict() for r in got] == [r.as_dict() for r in reference]
    with pytest.raises(ModelLoadError, match="SOCIAL_CARE_CACHE"):
        load_classifier_with_options(str(copy), runtime="onnx")
