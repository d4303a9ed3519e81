"""Benchmark the classifier on CPU: texts/s at batch 32, single-text latency, peak RSS, and the
speed ratio against a randomly-initialised XLM-R-base-sized encoder run on the same token ids.

    python bench/bench_classifier.py [--model models/NAME] [--texts FILE.jsonl] [--threads 2]

Without --texts it uses built-in mention-like texts (EN/PT, 10-40 words). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

_OPENERS = [
    "@loja meu pedido ainda não chegou",
    "Comprei um fone e veio com defeito",
    "@brand my order never arrived",
    "Loved the new app update",
    "Why was I charged twice",
    "Atendimento péssimo, ninguém responde",
    "Produto excelente, chegou antes do prazo",
    "I have been on hold for an hour",
    "Quero cancelar minha compra",
    "Thanks for the quick help",
]
_TAILS = [
    "já faz duas semanas e o rastreio não atualiza, alguém pode me ajudar?",
    "and nobody answers my emails. This is really frustrating, please fix it.",
    "recomendo a todos, a qualidade é ótima e o preço justo 😍",
    "what is going on with your customer service? I want a refund now!",
    "vou abrir reclamação no Procon se não resolverem até amanhã.",
    "everything works great, keep it up 👍",
]


def synthetic_texts(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [f"{rng.choice(_OPENERS)} {rng.choice(_TAILS)}" for _ in range(n)]


def load_texts(path: Path, n: int) -> list[str]:
    with path.open(encoding="utf-8") as handle:
        texts = [json.loads(line).get("text", "") for line in handle if line.strip()]
    texts = [t for t in texts if t]
    random.Random(0).shuffle(texts)
    return (texts * (n // max(len(texts), 1) + 1))[:n]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(ROOT / "models" / "social-care-e5s-l6"))
    parser.add_argument("--texts", type=Path, default=None, help="JSONL with a text field")
    parser.add_argument("--n", type=int, default=512, help="texts per throughput run")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-reference", action="store_true", help="skip the XLM-R-base run")
    parser.add_argument(
        "--runtime", choices=["auto", "torch", "torch-int8", "onnx", "onnx-int8"], default="auto"
    )
    args = parser.parse_args()

    import torch

    from social_care.classifier.inference import load_classifier_with_options

    torch.set_num_threads(args.threads)
    rss_before_load = peak_rss_mb()
    clf = load_classifier_with_options(args.model, threads=args.threads, runtime=args.runtime)
    texts = load_texts(args.texts, args.n) if args.texts else synthetic_texts(args.n)
    clf.classify(texts[: args.batch_size])  # warm-up

    runs = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        clf.classify(texts, batch_size=args.batch_size)
        runs.append(len(texts) / (time.perf_counter() - start))
    latencies = []
    for text in texts[:50]:
        start = time.perf_counter()
        clf.classify([text])
        latencies.append((time.perf_counter() - start) * 1000)
    tokenizer = clf._tokenizer  # same token ids for the reference encoder
    lengths = [
        len(ids)
        for ids in tokenizer(
            [clf.spec.text_prefix + t for t in texts],
            truncation=True,
            max_length=clf.spec.max_length,
        )["input_ids"]
    ]
    result: dict[str, object] = {
        "model": f"{clf.name} {clf.version}",
        "runtime": clf.runtime,
        "threads": args.threads,
        "batch_size": args.batch_size,
        "texts": len(texts),
        "mean_tokens": round(statistics.mean(lengths), 1),
        "texts_per_second": round(statistics.median(runs), 1),
        "single_text_latency_ms_median": round(statistics.median(latencies), 1),
        "single_text_latency_ms_p90": round(sorted(latencies)[int(0.9 * len(latencies))], 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "rss_before_model_load_mb": round(rss_before_load, 1),
    }
    if not args.no_reference:
        result.update(reference_speed(lengths, args.batch_size, args.repeats))
        result["speed_ratio_vs_xlmr_base"] = round(
            result["texts_per_second"] / result["xlmr_base_random_texts_per_second"],
            2,  # type: ignore[operator]
        )
    print(json.dumps(result, indent=2))


def reference_speed(lengths: list[int], batch_size: int, repeats: int) -> dict[str, float]:
    """Encoder-only forward passes of an XLM-R-base shape (12 x 768, FFN 3072) on equal lengths.

    The vocabulary is cut to 32k rows: lookup cost does not depend on vocabulary size, and the
    full 250k x 768 embedding would add ~770 MB of RSS that says nothing about speed.
    """
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaModel

    torch.manual_seed(0)
    config = XLMRobertaConfig(
        vocab_size=32000,
        hidden_size=768,
        num_hidden_layers=12,
        num_attention_heads=12,
        intermediate_size=3072,
        max_position_embeddings=514,
    )
    model = XLMRobertaModel(config, add_pooling_layer=False).eval()
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])

    def run() -> float:
        start = time.perf_counter()
        with torch.inference_mode():
            for s in range(0, len(order), batch_size):
                chunk = [lengths[i] for i in order[s : s + batch_size]]
                width = max(chunk)
                ids = torch.randint(5, 32000, (len(chunk), width))
                mask = torch.tensor([[1] * n + [0] * (width - n) for n in chunk])
                model(input_ids=ids, attention_mask=mask)
        return len(lengths) / (time.perf_counter() - start)

    run()
    return {
        "xlmr_base_random_texts_per_second": round(
            statistics.median(run() for _ in range(repeats)), 1
        )
    }


if __name__ == "__main__":
    main()
