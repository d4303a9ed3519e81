"""A lexical sentiment model (hashed word and character n-grams, one linear layer) that is
averaged with the transformer's sentiment head.

    python -m social_care.classifier.lexical --model models/social-care-e5s-l6 --data DATA_DIR

trains it on the sentiment train splits, fits its temperature and the mixing weight on the dev
splits, and writes `lexical.safetensors` plus a "lexical" entry in the model's social_care.json.
A model directory without that entry runs on the transformer alone.
`train --init-from` and `average` write models without it: run this command on their output.

Why: the TF-IDF baselines of issue 4 make different mistakes from the small encoder (they see
every word of a long review, which the encoder cuts at max_length, and rare words the pruned
vocabulary splits into characters), so the average of the two beats either on the dev splits.
The features are the classic ones (word 1-2-grams and within-word character 2-5-grams,
log-scaled counts, each group L2-normalised), hashed with CRC32 into a fixed number of
buckets, so no vocabulary has to be stored and the file is a plain tensor, not a pickle.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import re
import shlex
import sys
import time
import zlib
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from social_care.classifier.labels import SENTIMENTS

LEXICAL_FILE = "lexical.safetensors"
DEFAULT_BUCKETS = 1 << 20
# the sets whose human labels are sentiment; b2w and tweetsentbr carry negative/positive only
SENTIMENT_SETS = ("b2w", "tweeteval_sentiment_en", "xlmt_sentiment_pt", "tweetsentbr_pt_binary")

_URL = re.compile(r"https?://\S+|www\.\S+")
_USER = re.compile(r"@\w+")
_WORD = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def features(text: str, buckets: int) -> tuple[list[int], list[float]]:
    """Hashed n-gram ids and weights of one text (each feature group has unit L2 norm)."""
    text = _USER.sub("@user", _URL.sub("http", text.lower()))
    tokens = _WORD.findall(text)
    words = Counter(f"w {t}" for t in tokens)
    words.update(f"b {a} {b}" for a, b in itertools.pairwise(tokens))
    chars: Counter[str] = Counter()
    for token in tokens:
        padded = f" {token} "
        for n in range(2, 6):
            chars.update(f"c{padded[i:i + n]}" for i in range(len(padded) - n + 1))
    ids: list[int] = []
    weights: list[float] = []
    for group in (words, chars):
        values = {}
        for gram, count in group.items():
            bucket = zlib.crc32(gram.encode("utf-8")) % buckets
            values[bucket] = values.get(bucket, 0.0) + 1.0 + math.log(count)
        norm = math.sqrt(sum(v * v for v in values.values())) or 1.0
        ids.extend(values)
        weights.extend(v / norm for v in values.values())
    return ids, weights


def _bags(texts: Sequence[str], buckets: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """EmbeddingBag inputs (flat ids, offsets, per-sample weights) for a batch of texts."""
    ids: list[int] = []
    weights: list[float] = []
    offsets: list[int] = []
    for text in texts:
        offsets.append(len(ids))
        i, w = features(text, buckets)
        ids.extend(i)
        weights.extend(w)
    return (
        torch.tensor(ids, dtype=torch.long),
        torch.tensor(offsets, dtype=torch.long),
        torch.tensor(weights, dtype=torch.float32),
    )


class LexicalModel(torch.nn.Module):
    """Logistic regression over hashed n-grams: one weight row per bucket, plus a bias."""

    def __init__(self, buckets: int = DEFAULT_BUCKETS, classes: int = len(SENTIMENTS)):
        super().__init__()
        self.buckets = buckets
        self.weight = torch.nn.EmbeddingBag(buckets, classes, mode="sum")
        torch.nn.init.zeros_(self.weight.weight)
        self.bias = torch.nn.Parameter(torch.zeros(classes))

    def forward(self, texts: Sequence[str]) -> torch.Tensor:
        ids, offsets, weights = _bags(texts, self.buckets)
        return self.weight(ids, offsets, per_sample_weights=weights) + self.bias

    def state(self) -> dict[str, torch.Tensor]:
        return {"weight": self.weight.weight.detach().half().contiguous(),
                "bias": self.bias.detach().float().contiguous()}

    @classmethod
    def from_file(cls, path: Path) -> LexicalModel:
        state = load_file(str(path))
        buckets, classes = state["weight"].shape
        model = cls(int(buckets), int(classes))
        with torch.no_grad():
            model.weight.weight.copy_(state["weight"].float())
            model.bias.copy_(state["bias"].float())
        return model.eval()


class LexicalMixer:
    """Replaces the transformer's sentiment probabilities by their mix with the lexical model's."""

    def __init__(self, model: LexicalModel, *, temperature: float, mix: float):
        self.model = model
        self.temperature = temperature
        self.mix = mix

    @torch.inference_mode()
    def probabilities(self, texts: Sequence[str]) -> torch.Tensor:
        return torch.softmax(self.model(texts) / self.temperature, dim=-1)

    def apply(self, texts: Sequence[str], sentiment: list[list[float]]) -> list[list[float]]:
        lexical = self.probabilities(texts)
        encoder = torch.tensor(sentiment, dtype=torch.float32)
        return ((1.0 - self.mix) * encoder + self.mix * lexical).tolist()


def load_mixer(path: Path, entry: dict[str, Any]) -> LexicalMixer:
    """The mixer of social_care.json's "lexical" entry, weights read from `path`."""
    if list(entry.get("labels", [])) != list(SENTIMENTS):
        raise ValueError(f"lexical labels must be {list(SENTIMENTS)}, got {entry.get('labels')!r}")
    mix = float(entry["mix"])
    temperature = float(entry["temperature"])
    if not 0.0 <= mix <= 1.0 or temperature <= 0:
        raise ValueError(f"lexical mix must be in [0, 1] and temperature > 0 (got {mix}, {temperature})")
    return LexicalMixer(LexicalModel.from_file(path), temperature=temperature, mix=mix)


# ---------------------------------------------------------------- training


def sentiment_examples(data_dir: Path, split: str, limit: int | None = None) -> list[tuple[str, int]]:
    """(text, sentiment index) pairs from the sentiment sets' human labels."""
    from social_care.classifier.corpus import read_jsonl

    out: list[tuple[str, int]] = []
    for name in SENTIMENT_SETS:
        path = data_dir / name / f"{split}.jsonl"
        if not path.is_file():
            continue
        rows = list(read_jsonl(path))
        if limit is not None:
            rows = rows[:limit]
        for row in rows:
            label = row.get("label", row.get("polarity"))
            if label in SENTIMENTS and str(row.get("text", "")).strip():
                out.append((str(row["text"]), SENTIMENTS.index(label)))
    return out


def fit(
    examples: Sequence[tuple[str, int]],
    *,
    buckets: int = DEFAULT_BUCKETS,
    epochs: int = 4,
    weight_decay: float = 1e-6,
    lr: float = 0.2,
    batch_size: int = 256,
    seed: int = 0,
) -> LexicalModel:
    """Minibatch Adagrad on the cross-entropy with L2 (per-feature steps suit sparse n-grams)."""
    generator = torch.Generator().manual_seed(seed)
    model = LexicalModel(buckets)
    # the features of a text never change: compute them once
    bags = [features(t, buckets) for t, _ in examples]
    labels = torch.tensor([y for _, y in examples])
    opt = torch.optim.Adagrad(model.parameters(), lr=lr, weight_decay=weight_decay)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(examples), generator=generator).tolist()
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            ids: list[int] = []
            weights: list[float] = []
            offsets: list[int] = []
            for i in chunk:
                offsets.append(len(ids))
                ids.extend(bags[i][0])
                weights.extend(bags[i][1])
            logits = model.weight(
                torch.tensor(ids, dtype=torch.long),
                torch.tensor(offsets, dtype=torch.long),
                per_sample_weights=torch.tensor(weights, dtype=torch.float32),
            ) + model.bias
            loss = torch.nn.functional.cross_entropy(logits, labels[chunk])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model.eval()


def _nll(p: torch.Tensor, y: torch.Tensor) -> float:
    return float(torch.nn.functional.nll_loss(p.clamp_min(1e-9).log(), y))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", type=Path, required=True, help="social-care model dir to extend")
    p.add_argument("--data", type=Path, required=True, help="data directory (shared layout)")
    p.add_argument("--buckets", type=int, default=DEFAULT_BUCKETS)
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--weight-decay", type=float, default=1e-6)
    p.add_argument("--lr", type=float, default=0.2)
    p.add_argument("--mix", type=float, default=None, help="fixed mixing weight (default: fitted)")
    p.add_argument("--dev-limit", type=int, default=2000, help="dev records per set")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--version", default=None, help="new model version (default: unchanged)")
    return p


def main(argv: list[str] | None = None) -> None:
    from social_care.classifier.artifacts import SPEC_FILE
    from social_care.classifier.inference import load_classifier_with_options

    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    started = time.time()
    train = sentiment_examples(args.data, "train")
    dev = sentiment_examples(args.data, "dev", limit=args.dev_limit)
    if not train or not dev:
        raise SystemExit(f"no sentiment train/dev records under {args.data} ({', '.join(SENTIMENT_SETS)})")
    print(f"{len(train)} train and {len(dev)} dev texts", flush=True)
    model = fit(train, buckets=args.buckets, epochs=args.epochs, weight_decay=args.weight_decay,
                lr=args.lr, seed=args.seed)
    y = torch.tensor([label for _, label in dev])
    texts = [t for t, _ in dev]
    with torch.inference_mode():
        logits = torch.cat([model(texts[i : i + 512]) for i in range(0, len(texts), 512)])
    temperature = min((float(t) for t in torch.logspace(-0.7, 1.0, 69)),
                      key=lambda t: _nll(torch.softmax(logits / t, -1), y))
    lexical = torch.softmax(logits / temperature, -1)
    # the transformer alone, without any lexical entry the model may already have
    spec_path = args.model / SPEC_FILE
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    spec.pop("lexical", None)
    clf = load_classifier_with_options(str(args.model))
    clf.lexical = None
    encoder = torch.tensor([c.sentiment_scores[s] for c in clf.classify(texts) for s in SENTIMENTS])
    encoder = encoder.view(-1, len(SENTIMENTS))
    grid = [i / 20 for i in range(21)]
    scores = {m: _nll((1 - m) * encoder + m * lexical, y) for m in grid}
    mix = args.mix if args.mix is not None else min(scores, key=lambda m: scores[m])
    print(f"temperature {temperature:.3f}; dev NLL by mix: "
          + " ".join(f"{m:.2f}={v:.4f}" for m, v in scores.items()), flush=True)
    save_file(model.state(), str(args.model / LEXICAL_FILE))
    if args.version:
        spec["version"] = args.version
    spec["lexical"] = {
        "file": LEXICAL_FILE,
        "labels": list(SENTIMENTS),
        "buckets": args.buckets,
        "temperature": round(temperature, 4),
        "mix": mix,
        "training": {
            "command": "python -m social_care.classifier.lexical " + shlex.join(argv),
            "train_texts": len(train),
            "dev_texts": len(dev),
            "dev_nll_encoder": round(scores[0.0], 4),
            "dev_nll_mixed": round(scores[mix] if mix in scores else _nll(
                (1 - mix) * encoder + mix * lexical, y), 4),
            "seconds": round(time.time() - started, 1),
        },
    }
    spec_path.write_text(json.dumps(spec, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"mix {mix}; wrote {args.model / LEXICAL_FILE} and the lexical entry of {spec_path}")


if __name__ == "__main__":
    main()
