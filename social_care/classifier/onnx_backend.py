"""ONNX Runtime backend: the same network (encoder, mean pooling, heads) exported once to ONNX.

The export is architecture-agnostic (`torch.onnx.export` of the loaded `MultiTaskModel`), so
it works for any encoder a user points the config at. It is written once per model and kind
into a cache directory, keyed by the sha256 of the model's files, and reused afterwards:

    $SOCIAL_CARE_CACHE (default $XDG_CACHE_HOME/social-care, else ~/.cache/social-care)
        onnx/<name>-<version>-<digest>-<fp32|int8>.onnx

`int8` applies onnxruntime's dynamic quantisation (int8 weights per output channel,
activations quantised on the fly), which is ~1.5x faster on CPU and costs some accuracy:
the model card gives the measured figures for both.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from social_care.classifier.artifacts import ModelLoadError

KINDS = ("fp32", "int8")
# Files whose bytes define the exported graph (weights, heads, shapes); the digest covers them.
_DIGEST_FILES = ("config.json", "model.safetensors", "heads.safetensors", "social_care.json")


def cache_root() -> Path:
    explicit = os.environ.get("SOCIAL_CARE_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "social-care"


def model_digest(model_dir: Path) -> str:
    """sha256 over the files that define the network (16 hex digits are plenty for a cache key)."""
    digest = hashlib.sha256()
    for name in _DIGEST_FILES:
        path = model_dir / name
        if path.is_file():
            digest.update(name.encode())
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()[:16]


class _Outputs(torch.nn.Module):
    """Tuple-returning wrapper: ONNX export needs positional outputs, in a fixed order."""

    def __init__(self, net: torch.nn.Module, names: Sequence[str]) -> None:
        super().__init__()
        self.net = net
        self.names = list(names)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[Any, ...]:
        out = self.net(input_ids, attention_mask)
        return tuple(out[name] for name in self.names)


def export(net: torch.nn.Module, tokenizer: Any, head_names: Sequence[str], out: Path, *, kind: str) -> Path:
    """Write `net` as an ONNX graph (dynamic batch and length) to `out`; int8 quantises it."""
    if kind not in KINDS:
        raise ValueError(f"ONNX kind must be one of {KINDS}, not {kind!r}")
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:  # pragma: no cover - both are dependencies of social-care
        raise ModelLoadError(f"the onnx runtime needs onnx and onnxruntime installed: {exc}") from exc
    out.parent.mkdir(parents=True, exist_ok=True)
    sample = tokenizer(["a b", "a"], padding=True, return_tensors="pt")
    wrapper = _Outputs(net.eval(), head_names).eval()
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}}
    axes.update({name: {0: "batch"} for name in head_names})
    # Write next to the target and rename at the end, so a crash never leaves a half file that
    # a later start would take for a finished export.
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                wrapper,
                (sample["input_ids"], sample["attention_mask"]),
                str(fp32),
                dynamo=False,
                input_names=["input_ids", "attention_mask"],
                output_names=list(head_names),
                dynamic_axes=axes,
                opset_version=17,
            )
        final = fp32
        if kind == "int8":
            final = Path(tmp) / "int8.onnx"
            # quantize_dynamic logs a generic "consider pre-processing" hint on the root logger
            logging.disable(logging.WARNING)
            try:
                quantize_dynamic(
                str(fp32),
                str(final),
                    weight_type=QuantType.QInt8,
                    per_channel=True,
                    # the exporter leaves some intermediate types to shape inference: fp32
                    extra_options={"DefaultTensorType": 1},
                )
            finally:
                logging.disable(logging.NOTSET)
        os.replace(final, out)
    return out


class OnnxNetwork:
    """Drop-in for `MultiTaskModel` at inference: (input_ids, attention_mask) -> logits per head."""

    def __init__(self, path: Path, head_names: Sequence[str], *, threads: int | None) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.path = path
        self.head_names = list(head_names)
        try:
            self._session = ort.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own untyped errors on bad files
            raise ModelLoadError(f"cannot load the ONNX export {path}: {exc}") from exc

    def eval(self) -> OnnxNetwork:
        return self

    def __call__(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> dict[str, torch.Tensor]:
        outputs = self._session.run(
            self.head_names,
            {"input_ids": input_ids.numpy(), "attention_mask": attention_mask.numpy()},
        )
        return {name: torch.from_numpy(value) for name, value in zip(self.head_names, outputs, strict=True)}


def export_path(model_dir: Path, *, name: str, version: str, kind: str) -> Path:
    """Where the export of this model (its exact files) and kind lives in the cache."""
    safe_name = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in f"{name}-{version}")
    return cache_root() / "onnx" / f"{safe_name}-{model_digest(model_dir)}-{kind}.onnx"


def onnx_network(
    net: torch.nn.Module | None,
    tokenizer: Any,
    *,
    path: Path,
    head_names: Sequence[str],
    kind: str,
    threads: int | None,
) -> OnnxNetwork:
    """The cached export at `path` (written from `net` first if missing), in ONNX Runtime."""
    if not path.is_file():
        if net is None:
            raise ModelLoadError(f"{path} is missing and there is no network to export")
        try:
            export(net, tokenizer, head_names, path, kind=kind)
        except OSError as exc:
            raise ModelLoadError(
                f"cannot write the ONNX export to {path.parent} ({exc}); set SOCIAL_CARE_CACHE "
                "to a writable directory or use classifier.runtime: torch"
            ) from exc
        except Exception as exc:  # the exporter raises untyped errors on graphs it cannot trace
            raise ModelLoadError(f"cannot export the network to ONNX: {exc}") from exc
    return OnnxNetwork(path, head_names, threads=threads)
