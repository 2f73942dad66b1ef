"""`python -m bench.forced ...`: the `vertaal` command with the translator's output lengths
forced as the speed benchmark forces them, so that workers on random-weight
models do the work real models would. Summary lengths are forced through the settings
(VERTAAL_SUMMARY_MIN_TOKENS = VERTAAL_SUMMARY_MAX_TOKENS, see `forced_env`)."""

from __future__ import annotations

import math

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
    from workers.engines.seq2seq import Seq2SeqTranslator

    def output_lengths(self: Seq2SeqTranslator, longest_source: int) -> tuple[int, int]:
        return forced(longest_source), forced(longest_source)

    Seq2SeqTranslator.output_lengths = output_lengths  # type: ignore[method-assign]


if __name__ == "__main__":
    force_translation_lengths()
    from cli.main import main

    main()
