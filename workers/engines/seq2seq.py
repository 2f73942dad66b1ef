"""Translator and summarizer, written once on top of any generation backend.

A backend (transformers or CTranslate2) only turns texts into generated texts; everything the
two roles need besides (the tokenizer, the model's own generation defaults, input limits and
the output lengths) comes from the model's files here, so both backends honour the same
settings and give the same result structure.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from workers.engines.loading import ModelSource, load_tokenizer, quiet_transformers, resolve_model

# Room for a translation to come out longer than its source, as English sometimes does.
OUTPUT_LENGTH_FACTOR = 2
OUTPUT_LENGTH_MARGIN = 8
DEFAULT_SUMMARY_MAX = 142


def _generated(length: Any) -> int:
    """A generation-config length (which counts the decoder's start token) in generated tokens."""
    return max(0, int(length) - 1) if length else 0


class Generator(Protocol):
    """A loaded model runtime: generated texts for input texts. Lengths count generated
    tokens (the end-of-sequence token included, the decoder's start token not)."""

    def generate(
        self, texts: Sequence[str], *, num_beams: int, min_length: int, max_length: int
    ) -> list[str]: ...


@dataclass
class ModelFiles:
    """The tokenizer and settings of one model, read from its files (no weights loaded)."""

    source: ModelSource
    tokenizer: Any
    config: dict[str, Any]
    generation: dict[str, Any]

    @classmethod
    def load(cls, model_ref: str, role: str) -> ModelFiles:
        quiet_transformers()
        source = resolve_model(model_ref, role)
        generation_file = source.path / "generation_config.json"
        return cls(
            source=source,
            tokenizer=load_tokenizer(source, role),
            config=json.loads((source.path / "config.json").read_text()),
            generation=json.loads(generation_file.read_text()) if generation_file.is_file() else {},
        )

    @property
    def max_input_tokens(self) -> int:
        positions = int(self.config.get("max_position_embeddings", 512))
        return min(int(self.tokenizer.model_max_length), positions)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        return [len(ids) for ids in self.tokenizer(list(texts))["input_ids"]]


class _Role:
    """What both roles share: their model's files, a generator, beams and input limit."""

    def __init__(
        self, files: ModelFiles, generator: Generator, *, num_beams: int | None, backend: str
    ) -> None:
        self.files = files
        self.generator = generator
        self.backend = backend
        self.model_ref = files.source.public_name  # what results show: never a local path
        self.num_beams = num_beams or int(files.generation.get("num_beams") or 1)
        self.max_input_tokens = files.max_input_tokens

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.files.count_tokens(texts)


class Seq2SeqTranslator(_Role):
    """The Translator protocol on a generator."""

    def __init__(
        self, files: ModelFiles, generator: Generator, *, num_beams: int | None, backend: str
    ) -> None:
        super().__init__(files, generator, num_beams=num_beams, backend=backend)
        positions = int(files.config.get("max_position_embeddings", 512))
        self.max_output_tokens = min(_generated(files.generation.get("max_length")) or positions,
                                     positions - 1)  # fmt: skip

    def output_lengths(self, longest_source: int) -> tuple[int, int]:
        """(min, max) output tokens for a batch whose longest source has this many tokens."""
        longest = OUTPUT_LENGTH_FACTOR * longest_source + OUTPUT_LENGTH_MARGIN
        return 0, min(self.max_output_tokens, longest)

    def translate_batch(self, texts: Sequence[str]) -> list[str]:
        """One translation per text, in order."""
        if not texts:
            return []
        shortest, longest = self.output_lengths(max(self.count_tokens(texts)))
        return self.generator.generate(
            texts, num_beams=self.num_beams, min_length=shortest, max_length=longest
        )


class Seq2SeqSummarizer(_Role):
    """The Summarizer protocol on a generator."""

    def __init__(
        self,
        files: ModelFiles,
        generator: Generator,
        *,
        num_beams: int | None,
        min_tokens: int | None,
        max_tokens: int | None,
        backend: str,
    ) -> None:
        super().__init__(files, generator, num_beams=num_beams, backend=backend)
        self.max_summary_tokens = max_tokens or (
            _generated(files.generation.get("max_length")) or DEFAULT_SUMMARY_MAX
        )
        self.min_summary_tokens = min(
            min_tokens or _generated(files.generation.get("min_length")), self.max_summary_tokens
        )

    def summarize_batch(self, texts: Sequence[str]) -> list[str]:
        """One summary per text, in order."""
        if not texts:
            return []
        # A summary must not be forced to be longer than half of a short input.
        min_length = min(self.min_summary_tokens, min(self.count_tokens(texts)) // 2)
        return self.generator.generate(
            texts, num_beams=self.num_beams, min_length=min_length,
            max_length=self.max_summary_tokens,
        )  # fmt: skip
