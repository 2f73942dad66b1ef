"""Build randomly initialised MarianMT and BART models that load like the real ones.

No model hub is reachable, so tests (tiny sizes) and the benchmark (published sizes) build their
own models: a tokenizer trained on sample text with the vocabulary laid out like the published
one, a random model of the requested architecture, and a generation config, all written with
`save_pretrained` so the product loads them through its normal code path. Random weights give
gibberish: use these models for structure, counts and speed, never for wording.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

# Architectures small enough to build in a second and run in milliseconds.
TINY_MARIAN: dict[str, Any] = {
    "d_model": 32,
    "encoder_layers": 1,
    "decoder_layers": 1,
    "encoder_attention_heads": 2,
    "decoder_attention_heads": 2,
    "encoder_ffn_dim": 64,
    "decoder_ffn_dim": 64,
}
TINY_BART: dict[str, Any] = {
    "d_model": 32,
    "encoder_layers": 1,
    "decoder_layers": 1,
    "encoder_attention_heads": 2,
    "decoder_attention_heads": 2,
    "encoder_ffn_dim": 64,
    "decoder_ffn_dim": 64,
    # A small input limit makes the sample articles exercise map-reduce summarization.
    "max_position_embeddings": 256,
}

# Keys that the published BART configs carry and CTranslate2's converter reads.
BART_LEGACY_KEYS: dict[str, Any] = {
    "normalize_before": False,
    "normalize_embedding": True,
    "add_final_layer_norm": False,
    "static_position_embeddings": False,
    "extra_pos_embeddings": 2,
}


def _never_generate(model: Any, token_ids: list[int]) -> None:
    """Filler tokens only pad the vocabulary to its published size; a random model that emitted
    them would write `<filler_123>` strings, far longer than real text. A large negative output
    bias (which CTranslate2's converter carries over) keeps them out, at no change in compute."""
    if token_ids:
        import torch

        with torch.no_grad():
            model.final_logits_bias[0, token_ids] = -1e4


def build_marian(
    out_dir: Path,
    corpus: Iterable[str],
    *,
    config: dict[str, Any] | None = None,
    generation: dict[str, Any] | None = None,
    spm_vocab_size: int = 300,
    spm_model_type: str = "unigram",
    vocab_size: int | None = None,
    generate_only: Callable[[str], bool] | None = None,
    seed: int = 0,
) -> Path:
    """Write a MarianMT model + tokenizer to `out_dir`.

    The vocabulary is laid out like opus-mt's: `</s>`=0, `<unk>`=1, the sentencepiece pieces,
    optional filler pieces up to `vocab_size`, and `<pad>` last (also the decoder start).
    `generate_only` limits which pieces the random model ever outputs (fillers never are).
    """
    import sentencepiece as spm
    import torch
    from transformers import GenerationConfig, MarianConfig, MarianMTModel, MarianTokenizer

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        spm_prefix = Path(tmp) / "spm"
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(list(corpus)),
            model_prefix=str(spm_prefix),
            vocab_size=spm_vocab_size,
            model_type=spm_model_type,
            character_coverage=1.0,
            hard_vocab_limit=False,
            minloglevel=2,
        )
        processor = spm.SentencePieceProcessor(model_file=f"{spm_prefix}.model")
        pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
        vocab = ["</s>", "<unk>"] + [p for p in pieces if p not in {"<unk>", "<s>", "</s>"}]
        if vocab_size is not None:
            vocab += [f"<filler_{i}>" for i in range(vocab_size - 1 - len(vocab))]
        vocab.append("<pad>")
        vocab_file = Path(tmp) / "vocab.json"
        vocab_file.write_text(json.dumps({piece: i for i, piece in enumerate(vocab)}))
        tokenizer = MarianTokenizer(
            source_spm=f"{spm_prefix}.model",
            target_spm=f"{spm_prefix}.model",
            vocab=str(vocab_file),
        )
        tokenizer.save_pretrained(out_dir)

    size = len(tokenizer)
    pad = size - 1
    model_config = MarianConfig(
        **{
            **TINY_MARIAN,
            "vocab_size": size,
            "decoder_vocab_size": size,
            "max_position_embeddings": 512,
            "activation_function": "swish",
            "scale_embedding": True,
            "share_encoder_decoder_embeddings": True,
            "pad_token_id": pad,
            "decoder_start_token_id": pad,
            "eos_token_id": 0,
            "bos_token_id": 0,
            "forced_eos_token_id": 0,
            **(config or {}),
        }
    )
    torch.manual_seed(seed)
    model = MarianMTModel(model_config)
    allowed = generate_only or (lambda piece: True)
    _never_generate(
        model,
        [
            i for i, piece in enumerate(vocab)
            if piece.startswith("<filler_") or (i > 1 and piece != "<pad>" and not allowed(piece))
        ],
    )  # fmt: skip
    model.generation_config = GenerationConfig(
        **{
            "bad_words_ids": [[pad]],
            "bos_token_id": 0,
            "decoder_start_token_id": pad,
            "eos_token_id": 0,
            "forced_eos_token_id": 0,
            "max_length": 512,
            "num_beams": 2,
            "pad_token_id": pad,
            **(generation or {}),
        }
    )
    model.save_pretrained(out_dir)
    return out_dir


def build_bart(
    out_dir: Path,
    corpus: Iterable[str],
    *,
    config: dict[str, Any] | None = None,
    generation: dict[str, Any] | None = None,
    bpe_vocab_size: int = 400,
    vocab_size: int | None = None,
    seed: int = 0,
) -> Path:
    """Write a BART summarizer + byte-level BPE tokenizer to `out_dir`.

    Special tokens sit where BART has them (`<s>`=0, `<pad>`=1, `</s>`=2, `<unk>`=3); `<mask>`
    is last. With `vocab_size`, filler tokens pad the vocabulary to the published size.
    """
    import torch
    from tokenizers import ByteLevelBPETokenizer
    from transformers import (
        BartConfig,
        BartForConditionalGeneration,
        BartTokenizer,
        GenerationConfig,
    )

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        bpe = ByteLevelBPETokenizer()
        bpe.train_from_iterator(
            list(corpus),
            vocab_size=bpe_vocab_size,
            special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
            show_progress=False,
        )
        bpe.save_model(tmp)
        vocab = json.loads((Path(tmp) / "vocab.json").read_text())
        if vocab_size is not None:
            for i in range(vocab_size - 1 - len(vocab)):
                vocab[f"<filler_{i}>"] = len(vocab)
        vocab["<mask>"] = len(vocab)
        (Path(tmp) / "vocab.json").write_text(json.dumps(vocab))
        tokenizer = BartTokenizer(
            vocab=str(Path(tmp) / "vocab.json"), merges=str(Path(tmp) / "merges.txt")
        )
        tokenizer.save_pretrained(out_dir)

    model_config = BartConfig(
        **{
            **TINY_BART,
            **BART_LEGACY_KEYS,
            "vocab_size": len(tokenizer),
            "activation_function": "gelu",
            "scale_embedding": False,
            "pad_token_id": 1,
            "bos_token_id": 0,
            "eos_token_id": 2,
            "decoder_start_token_id": 2,
            "forced_bos_token_id": 0,
            "forced_eos_token_id": 2,
            **(config or {}),
        }
    )
    torch.manual_seed(seed)
    model = BartForConditionalGeneration(model_config)
    _never_generate(model, [i for piece, i in vocab.items() if piece.startswith("<filler_")])
    model.generation_config = GenerationConfig(
        **{
            "bos_token_id": 0,
            "decoder_start_token_id": 2,
            "early_stopping": True,
            "eos_token_id": 2,
            "forced_bos_token_id": 0,
            "forced_eos_token_id": 2,
            "length_penalty": 2.0,
            "max_length": 24,
            "min_length": 6,
            "no_repeat_ngram_size": 3,
            "num_beams": 2,
            "pad_token_id": 1,
            **(generation or {}),
        }
    )
    model.save_pretrained(out_dir)
    return out_dir
