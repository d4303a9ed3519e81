"""Layout of a social-care model directory: the spec file, the head weights, and how to find them.

A model directory is a `save_pretrained` encoder + tokenizer, plus
`heads.safetensors` (one linear layer per task) and `social_care.json`:

    {"format": "social-care-classifier", "format_version": 1, "name": ..., "version": ...,
     "base_model": ..., "text_prefix": "query: ", "max_length": 128,
     "heads": {"sentiment": {"kind": "softmax", "labels": [...]}, ...},
     "temperatures": {"sentiment": 1.3, ...}, "training": {"command": ..., ...}}

The same files may live in a Hugging Face repo; they are then fetched through huggingface_hub,
which honours HF_HUB_OFFLINE and HF_HOME.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SPEC_FILE = "social_care.json"
HEADS_FILE = "heads.safetensors"
FORMAT = "social-care-classifier"
FORMAT_VERSION = 1


class ModelLoadError(Exception):
    """The model could not be loaded; the message says why and what to do."""


@dataclass
class ModelSpec:
    """Contents of social_care.json."""

    name: str
    version: str
    base_model: str
    text_prefix: str
    max_length: int
    heads: dict[str, dict[str, Any]]
    temperatures: dict[str, float] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    # Inference options: {"backend": "onnx"} picks the engine; {"int8_dynamic": true} quantises
    # the encoder's Linear layers to int8 at load time; {"keyword_categories": true} adds the
    # categories whose keyword rule fires (weak_labels.categories_for) to a complaint's own.
    runtime: dict[str, Any] = field(default_factory=dict)
    # Optional lexical sentiment model mixed into the sentiment head (classifier.lexical):
    # {"file": "lexical.safetensors", "labels": [...], "temperature": T, "mix": m, ...}.
    lexical: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "name": self.name,
            "version": self.version,
            "base_model": self.base_model,
            "text_prefix": self.text_prefix,
            "max_length": self.max_length,
            "heads": self.heads,
            "temperatures": self.temperatures,
            "training": self.training,
            "runtime": self.runtime,
            **({"lexical": self.lexical} if self.lexical else {}),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], where: str) -> ModelSpec:
        if data.get("format") != FORMAT:
            raise ModelLoadError(f"{where} is not a social-care classifier spec (format field)")
        if data.get("format_version") != FORMAT_VERSION:
            raise ModelLoadError(
                f"{where} has format_version {data.get('format_version')!r}; this social-care "
                f"reads version {FORMAT_VERSION}. Upgrade social-care or retrain the model."
            )
        try:
            return cls(
                name=str(data["name"]),
                version=str(data["version"]),
                base_model=str(data.get("base_model", "")),
                text_prefix=str(data.get("text_prefix", "")),
                max_length=int(data["max_length"]),
                heads=dict(data["heads"]),
                temperatures={k: float(v) for k, v in data.get("temperatures", {}).items()},
                training=dict(data.get("training", {})),
                runtime=dict(data.get("runtime", {})),
                lexical=dict(data.get("lexical") or {}),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelLoadError(f"{where} is malformed: {exc!r}") from exc

    def save(self, directory: Path) -> None:
        (directory / SPEC_FILE).write_text(
            json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )


def _looks_like_path(model: str) -> bool:
    # Hub ids are "name" or "owner/name"; anything else that does not exist is a missing path.
    return (
        model.startswith((".", "/", "~"))
        or "\\" in model
        or model.count("/") > 1
        or model.endswith("/")
    )


def resolve_file(model: str, filename: str) -> Path:
    """Local path of `filename` for a model directory or Hugging Face repo id."""
    local = Path(model).expanduser()
    if local.exists():
        if not local.is_dir():
            raise ModelLoadError(f"model path {model!r} is a file; expected a model directory")
        candidate = local / filename
        if not candidate.is_file():
            raise ModelLoadError(
                f"{model!r} is not a social-care model directory: it has no {filename}. "
                "Point the model setting at a directory written by "
                "`python -m social_care.classifier.train` (e.g. models/social-care-interim)."
            )
        return candidate
    if not model or _looks_like_path(model):
        raise ModelLoadError(f"model directory {model!r} does not exist")
    return _hub_file(model, filename)


def _hub_file(repo_id: str, filename: str) -> Path:
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import (
        EntryNotFoundError,
        HFValidationError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
    )

    try:
        return Path(hf_hub_download(repo_id=repo_id, filename=filename))
    except HFValidationError as exc:
        raise ModelLoadError(
            f"model {repo_id!r} is neither an existing directory nor a valid Hugging Face id"
        ) from exc
    # LocalEntryNotFoundError subclasses EntryNotFoundError, so it must be caught first
    except LocalEntryNotFoundError as exc:
        raise ModelLoadError(
            f"model {repo_id!r} is not a local directory and the Hugging Face hub is unreachable "
            "(offline, or HF_HUB_OFFLINE=1) with no cached copy in HF_HOME. Download it on a "
            "connected machine (`hf download <id> --local-dir DIR`) and point the setting at DIR."
        ) from exc
    except EntryNotFoundError as exc:
        raise ModelLoadError(
            f"Hugging Face repo {repo_id!r} is not a social-care model: it has no {filename}"
        ) from exc
    except RepositoryNotFoundError as exc:
        raise ModelLoadError(
            f"model {repo_id!r} is not a local directory and no such Hugging Face repo exists"
        ) from exc
    except OSError as exc:
        raise ModelLoadError(f"could not fetch {filename} of {repo_id!r}: {exc}") from exc


def load_spec(model: str) -> ModelSpec:
    path = resolve_file(model, SPEC_FILE)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ModelLoadError(f"{path} is not a JSON object")
    return ModelSpec.from_json(data, str(path))
