"""Loading a model directory and turning texts into `Classification`s."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from safetensors.torch import load_file

from social_care.classifier.artifacts import (
    HEADS_FILE,
    ModelLoadError,
    ModelSpec,
    load_spec,
    resolve_file,
)
from social_care.classifier.labels import CATEGORIES, HEAD_SPECS, INTENTS, SENTIMENTS, SEVERITIES
from social_care.classifier.language import detect_language
from social_care.classifier.model import MultiTaskModel, quiet_transformers
from social_care.classifier.onnx_backend import OnnxNetwork, export_path, onnx_network
from social_care.classifier.result import Classification, Thresholds
from social_care.classifier.textprep import clean_text
from social_care.classifier.weak_labels import categories_for

if TYPE_CHECKING:
    # imported where a model has a lexical entry, not at package import: importing it here
    # made `python -m social_care.classifier.lexical` warn that runpy found it already loaded
    from social_care.classifier.lexical import LexicalMixer

log = logging.getLogger(__name__)

# Thresholds is frozen, so one shared default instance is safe.
DEFAULT_THRESHOLDS = Thresholds()


class Classifier:
    """A loaded multi-task model; `name` and `version` are stored with each classification."""

    def __init__(
        self,
        *,
        spec: ModelSpec,
        model: MultiTaskModel | OnnxNetwork,
        tokenizer: object,
        thresholds: Thresholds,
    ) -> None:
        self.name = spec.name
        self.version = spec.version
        self.spec = spec
        self.thresholds = thresholds
        # Model-level decision rule (social_care.json "runtime": {"keyword_categories": true}):
        # a complaint also gets every category whose EN/pt-BR keyword rule fires on its text.
        self.keyword_categories = bool(spec.runtime.get("keyword_categories", False))
        self._model = model.eval()
        self.runtime = "torch"
        self._tokenizer = tokenizer
        # Lexical sentiment model averaged into the sentiment head (see classifier.lexical);
        # None when the model directory has none.
        self.lexical: LexicalMixer | None = None

    def classify(self, texts: Sequence[str], batch_size: int = 32) -> list[Classification]:
        """Classify each text; output order matches input order."""
        if isinstance(texts, str):
            raise TypeError("classify() takes a sequence of texts; wrap a single text in a list")
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        cleaned = [clean_text(t) for t in texts]
        results: list[Classification | None] = [None] * len(cleaned)
        todo = [i for i, t in enumerate(cleaned) if t]
        for i, t in enumerate(cleaned):
            if not t:
                results[i] = _empty_result()
        # Sorting by length keeps padding (and so wasted compute) small inside each batch.
        todo.sort(key=lambda i: len(cleaned[i]))
        for start in range(0, len(todo), batch_size):
            chunk = todo[start : start + batch_size]
            probs = self.predict_proba([cleaned[i] for i in chunk])
            for row, i in enumerate(chunk):
                results[i] = self._decide(cleaned[i], {k: v[row] for k, v in probs.items()})
        return [r for r in results if r is not None]

    @torch.inference_mode()
    def predict_proba(self, texts: Sequence[str]) -> dict[str, list[list[float]]]:
        """Calibrated per-head probabilities for already-cleaned, non-empty texts."""
        batch = self._tokenizer(
            [self.spec.text_prefix + t for t in texts],
            padding=True,
            truncation=True,
            max_length=self.spec.max_length,
            return_tensors="pt",
        )
        probs = calibrated_probabilities(
            self._model(batch["input_ids"], batch["attention_mask"]), self.spec
        )
        if self.lexical is not None:
            probs["sentiment"] = self.lexical.apply(texts, probs["sentiment"])
        return probs

    def _decide(self, text: str, p: dict[str, list[float]]) -> Classification:
        th = self.thresholds
        complaint_score = p["complaint"][0]
        is_complaint = complaint_score >= th.complaint
        # The complaint head alone decides "complaint"; the intent head splits the rest of the
        # probability mass between question / praise / other, so the two never disagree.
        rest = {lab: p["intent"][INTENTS.index(lab)] for lab in INTENTS if lab != "complaint"}
        rest_total = sum(rest.values()) or 1.0
        intent_scores = {"complaint": complaint_score}
        intent_scores.update({k: (1.0 - complaint_score) * v / rest_total for k, v in rest.items()})
        intent = "complaint" if is_complaint else max(rest, key=lambda k: rest[k])

        category_scores = dict(zip(CATEGORIES, p["categories"], strict=True))
        categories: list[str] = []
        if is_complaint or intent == "question":
            chosen = {c for c in CATEGORIES if category_scores[c] >= th.category}
            if self.keyword_categories:
                chosen.update(categories_for(text))
            categories = [c for c in CATEGORIES if c in chosen]
            if is_complaint and not categories:
                # every complaint has at least one category (care_gold convention)
                categories = [max(category_scores, key=lambda c: category_scores[c])]

        severity_scores = list(p["severity"])
        severity = 0
        if is_complaint:
            severity = max(SEVERITIES[1:], key=lambda s: severity_scores[s])

        remedy_score = p["remedy_due"][0]
        sentiment_scores = dict(zip(SENTIMENTS, p["sentiment"], strict=True))
        return Classification(
            language=detect_language(text),
            sentiment=max(sentiment_scores, key=lambda k: sentiment_scores[k]),
            sentiment_scores=sentiment_scores,
            intent=intent,
            intent_scores=intent_scores,
            complaint=is_complaint,
            complaint_score=complaint_score,
            categories=categories,
            category_scores=category_scores,
            severity=severity,
            severity_scores=severity_scores,
            remedy_due=is_complaint and remedy_score >= th.remedy_due,
            remedy_score=remedy_score,
        )


def calibrated_probabilities(
    logits: dict[str, torch.Tensor], spec: ModelSpec
) -> dict[str, list[list[float]]]:
    """Per-head logits -> temperature-scaled probabilities (softmax or sigmoid by head kind)."""
    out: dict[str, list[list[float]]] = {}
    for name, value in logits.items():
        scaled = value.float() / spec.temperatures.get(name, 1.0)
        kind = spec.heads[name]["kind"]
        p = torch.softmax(scaled, dim=-1) if kind == "softmax" else torch.sigmoid(scaled)
        out[name] = p.tolist()
    return out


def _empty_result() -> Classification:
    """Fixed answer for texts with nothing to read (empty or whitespace/control characters only)."""
    return Classification(
        language="other",
        sentiment="neutral",
        sentiment_scores={s: float(s == "neutral") for s in SENTIMENTS},
        intent="other",
        intent_scores={i: float(i == "other") for i in INTENTS},
        complaint=False,
        complaint_score=0.0,
        categories=[],
        category_scores={c: 0.0 for c in CATEGORIES},
        severity=0,
        severity_scores=[1.0, 0.0, 0.0, 0.0, 0.0],
        remedy_due=False,
        remedy_score=0.0,
    )


def load_classifier(
    model: str | Path,
    *,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    threads: int | None = None,
    runtime: str | None = None,
) -> Classifier:
    """Load a social-care model from a local directory or a Hugging Face repo id.

    Raises ModelLoadError when the path is missing, is not a social-care model directory,
    or names a hub repo that cannot be reached (offline) and is not cached.
    """
    return load_classifier_with_options(
        model, thresholds=thresholds, threads=threads, runtime=runtime
    )


RUNTIMES = ("torch", "torch-int8", "onnx", "onnx-int8")


def runtime_of(spec: ModelSpec) -> str:
    """The runtime a model directory asks for in social_care.json ("runtime": {"backend": ...})."""
    backend = spec.runtime.get("backend")
    if backend is None:
        return "torch-int8" if spec.runtime.get("int8_dynamic") else "torch"
    if backend not in RUNTIMES:
        raise ModelLoadError(f"{spec.name}: runtime backend {backend!r} is not one of {RUNTIMES}")
    return str(backend)


def load_classifier_with_options(
    model: str | Path,
    *,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    threads: int | None = None,
    int8: bool | None = None,
    runtime: str | None = None,
) -> Classifier:
    """load_classifier plus overrides used by evaluation and benchmarks.

    runtime: "torch", "torch-int8" (torch dynamic quantisation), "onnx" or "onnx-int8" (ONNX
    Runtime, exported once into a cache directory); None or "auto" follows the model's
    social_care.json, and falls back to torch (with a warning) when that asks for ONNX but the
    export cannot be written or loaded; an explicit ONNX runtime fails instead. int8 (older
    option): True/False forces torch-int8/torch.
    """
    from transformers import AutoTokenizer

    if threads is not None:
        if threads < 1:
            raise ValueError("threads must be >= 1")
        torch.set_num_threads(threads)
    if runtime not in (None, "auto", *RUNTIMES):
        raise ValueError(f"runtime must be one of auto, {', '.join(RUNTIMES)}; got {runtime!r}")
    model_id = str(model)
    spec = load_spec(model_id)
    _check_heads(spec, model_id)
    heads_path = resolve_file(model_id, HEADS_FILE)
    automatic = runtime in (None, "auto") and int8 is None
    chosen = runtime_of(spec) if runtime in (None, "auto") else runtime
    if int8 is not None:
        chosen = "torch-int8" if int8 else "torch"
    onnx_path = None
    kind = "int8" if chosen == "onnx-int8" else "fp32"
    if chosen in ("onnx", "onnx-int8"):
        onnx_path = export_path(heads_path.parent, name=spec.name, version=spec.version, kind=kind)
    try:
        with quiet_transformers():
            tokenizer = AutoTokenizer.from_pretrained(model_id)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot load the tokenizer of {model_id!r}: {exc}") from exc
    net: MultiTaskModel | None = None
    network: MultiTaskModel | OnnxNetwork | None = None
    if onnx_path is not None:
        try:
            if onnx_path.is_file():
                # A finished export needs no torch encoder: saves its load time and its memory.
                network = onnx_network(
                    None, tokenizer, path=onnx_path, head_names=list(spec.heads), kind=kind,
                    threads=threads,
                )
            else:
                net = _load_network(model_id, spec, heads_path)
                network = onnx_network(
                    net.eval(), tokenizer, path=onnx_path, head_names=list(spec.heads), kind=kind,
                    threads=threads,
                )
        except ModelLoadError as exc:
            if not automatic:
                raise
            log.warning("classifier: %s; running on torch instead", exc)
            chosen = "torch"
    if network is None:
        if net is None:
            net = _load_network(model_id, spec, heads_path)
        network = _quantize_int8(net) if chosen == "torch-int8" else net.eval()
    classifier = Classifier(spec=spec, model=network, tokenizer=tokenizer, thresholds=thresholds)
    classifier.runtime = chosen
    if spec.lexical:
        from social_care.classifier.lexical import LEXICAL_FILE, load_mixer

        try:
            lexical_path = resolve_file(model_id, str(spec.lexical.get("file", LEXICAL_FILE)))
            classifier.lexical = load_mixer(lexical_path, spec.lexical)
        except (KeyError, TypeError, ValueError, OSError, RuntimeError) as exc:
            raise ModelLoadError(
                f"{model_id!r}: the lexical sentiment model in social_care.json cannot be "
                f"loaded ({exc!r}); re-run `python -m social_care.classifier.lexical` or "
                "delete the \"lexical\" entry"
            ) from exc
    return classifier


def _load_network(model_id: str, spec: ModelSpec, heads_path: Path) -> MultiTaskModel:
    from transformers import AutoModel

    try:
        with quiet_transformers():
            # fp32 explicitly: weights may be stored as fp16 to save disk; CPU fp16 is slow
            encoder = AutoModel.from_pretrained(model_id, dtype=torch.float32)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot load the encoder of {model_id!r}: {exc}") from exc
    net = MultiTaskModel(encoder, {n: len(h["labels"]) for n, h in spec.heads.items()})
    try:
        net.heads.load_state_dict(load_file(str(heads_path)))
    except (RuntimeError, OSError) as exc:
        raise ModelLoadError(f"{heads_path} does not match social_care.json: {exc}") from exc
    return net


def _quantize_int8(net: MultiTaskModel) -> MultiTaskModel:
    """int8 weights for every Linear layer, activations quantised on the fly (CPU, ~1.5-2x)."""
    import warnings

    from torch.ao.quantization import quantize_dynamic

    with warnings.catch_warnings():
        # torch marks torch.ao.quantization as deprecated in favour of torchao; the eager
        # dynamic path still works in the pinned torch and needs no extra package.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        quantized: MultiTaskModel = quantize_dynamic(
            net.eval(), {torch.nn.Linear}, dtype=torch.qint8
        )
    return quantized


def _check_heads(spec: ModelSpec, where: str) -> None:
    for name, (kind, labels) in HEAD_SPECS.items():
        head = spec.heads.get(name)
        if head is None or head.get("kind") != kind or tuple(head.get("labels", ())) != labels:
            raise ModelLoadError(
                f"{where}: head {name!r} is missing or has other labels than this social-care "
                f"expects ({kind}, {list(labels)})"
            )
    for name, temperature in spec.temperatures.items():
        if not (math.isfinite(temperature) and temperature > 0):
            raise ModelLoadError(f"{where}: temperature of {name!r} must be a positive number")
