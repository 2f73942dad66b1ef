"""What the pipeline sees of the models: a Translator, a Summarizer, and the pair of them.

Backends (transformers, CTranslate2, ...) hide behind these; nothing here imports one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from workers.engines.memory import MemoryBudget


class Translator(Protocol):
    """Translates batches of sentences; knows its input limit and how to count tokens."""

    # The model as results name it (`hub-id@revision`, never a path on the server).
    model_ref: str
    # The backend actually running the model (after any fallback), e.g. "ctranslate2".
    backend: str
    num_beams: int
    max_input_tokens: int

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...

    def translate_batch(self, texts: Sequence[str]) -> list[str]: ...


class Summarizer(Protocol):
    """Summarizes batches of texts that each fit `max_input_tokens`."""

    model_ref: str
    backend: str
    num_beams: int
    max_input_tokens: int
    max_summary_tokens: int

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...

    def summarize_batch(self, texts: Sequence[str]) -> list[str]: ...


@dataclass(frozen=True)
class Engines:
    translator: Translator
    summarizer: Summarizer | None
    # The backend the output signature names (what cache keys promise); None: unchecked.
    signed_backend: str | None = None
    # This process's memory budget, which sizes summary batches; None: a fixed size.
    memory: MemoryBudget | None = None

    @property
    def as_signed(self) -> bool:
        """False when a model runs on another backend than the signature names (`auto` fell
        back to transformers): its results are then not what cache keys promise."""
        built = [e for e in (self.translator, self.summarizer) if e is not None]
        return self.signed_backend is None or all(e.backend == self.signed_backend for e in built)
