"""Build a randomly-initialised BERT with a WordPiece vocabulary trained on given texts.

Used for the interim shipped model (then trained by `train.py`) and for the tiny test model.
Case and accents are kept: "não" and "nao", "NEVER" and "never" carry different signal here.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tokenizers import (
    Tokenizer,
    decoders,
    models,
    normalizers,
    pre_tokenizers,
    processors,
    trainers,
)

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def train_wordpiece(texts: Iterable[str], vocab_size: int) -> Tokenizer:
    """WordPiece tokenizer (BERT-style pre-tokenisation, NFC, no lower-casing, accents kept)."""
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=50))
    tok.normalizer = normalizers.Sequence([normalizers.NFC(), normalizers.Replace("\u00a0", " ")])
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    trainer = trainers.WordPieceTrainer(
        vocab_size=vocab_size, min_frequency=2, special_tokens=SPECIAL_TOKENS
    )
    tok.train_from_iterator(texts, trainer=trainer)
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)]
    )
    return tok


def build_scratch_encoder(
    texts: Iterable[str],
    out_dir: Path,
    *,
    vocab_size: int = 16000,
    layers: int = 4,
    hidden: int = 256,
    heads: int = 4,
    max_positions: int = 256,
    seed: int = 0,
) -> None:
    """Write a random-init `BertModel` + tokenizer directory loadable by AutoModel/AutoTokenizer."""
    import torch
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    torch.manual_seed(seed)
    tok = train_wordpiece(texts, vocab_size)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )
    config = BertConfig(
        vocab_size=tok.get_vocab_size(),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=4 * hidden,
        max_position_embeddings=max_positions,
        pad_token_id=tok.token_to_id("[PAD]"),
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    BertModel(config, add_pooling_layer=False).save_pretrained(out_dir)
    fast.save_pretrained(out_dir)
