"""`python -m bench.forced ...`: the `vertaal` command with the translator's output lengths
forced as the speed benchmark forces them, so that workers on random-weight
models do the work real models would. Summary lengths are forced through the settings
(VERTAAL_SUMMARY_MIN_TOKENS = VERTAAL_SUMMARY_MAX_TOKENS, see `forced_env`)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Any

# Forced output lengths, so random weights cannot change the amount of work. A translation is
# as long as its source's longest sentence in the batch (opus-mt's English is not longer in
# pieces than its Dutch source: English splits fewer compounds); a summary is 80 tokens, about
# the mean length distilbart-cnn writes.
FORCE_RATIO = 1.0
SUMMARY_TOKENS = 80


def forced(longest_source: int) -> int:
    return math.ceil(FORCE_RATIO * longest_source)


def forced_env() -> dict[str, str]:
    return {
        "VERTAAL_SUMMARY_MIN_TOKENS": str(SUMMARY_TOKENS),
        "VERTAAL_SUMMARY_MAX_TOKENS": str(SUMMARY_TOKENS),
    }


def force_translation_lengths() -> None:
    """The translator's output lengths forced, and the names it was given carried over
    (`names_carried`), in every translator this process builds."""
    from workers.engines.seq2seq import Seq2SeqTranslator

    def output_lengths(self: Seq2SeqTranslator, longest_source: int) -> tuple[int, int]:
        return forced(longest_source), forced(longest_source)

    Seq2SeqTranslator.output_lengths = output_lengths  # type: ignore[method-assign]
    Seq2SeqTranslator.translate_batch = names_carried(Seq2SeqTranslator.translate_batch)  # type: ignore[method-assign]


def names_carried(translate_batch: Callable[[Any, Sequence[str]], list[str]]) -> Any:
    """`translate_batch` with every English name of the built-in list that its input holds
    appended to its output. The pipeline puts a name in English before the model reads the
    sentence (Poetin -> Putin) and translates a sentence once more when the output lacks it
    (workers/pipeline/terms/retry.py). A real model copies the name; random weights never
    do, so without this every sentence with a name would be translated twice in a benchmark
    (32 more sentences on top of 91 for the three examples, measured 2026-12-05)."""
    from workers.pipeline.terms.names import builtin_names

    names = builtin_names()
    terms = {e.english for e in names.entries} | {
        e.english + e.english_plural for e in names.entries if e.english_plural
    }
    pattern = re.compile(
        r"(?<!\w)(" + "|".join(map(re.escape, sorted(terms, key=len, reverse=True))) + r")(?!\w)",
        re.IGNORECASE,
    )

    def carrying(self: Any, texts: Sequence[str]) -> list[str]:
        out = translate_batch(self, texts)
        return [
            " ".join([made, *dict.fromkeys(pattern.findall(text))])
            for made, text in zip(out, texts, strict=True)
        ]

    return carrying


if __name__ == "__main__":
    force_translation_lengths()
    from cli.main import main

    main()
