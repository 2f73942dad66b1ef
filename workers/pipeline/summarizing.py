"""Summarize a translated article, map-reduce style when it exceeds the model's input limit.

Whole sentences are packed into chunks that fit the summarizer; each chunk is summarized, then
the summaries are summarized in turn until one text remains. No article text is truncated.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from workers.engines.protocols import Summarizer
from workers.pipeline.splitting import fit_sentences

log = logging.getLogger(__name__)

# Chunks summarized per model call: long inputs make big batches slow rather than faster.
SUMMARY_BATCH_SIZE = 4

StepCallback = Callable[[int, int], None]


def pack_chunks(sentences: Sequence[str], summarizer: Summarizer) -> list[str]:
    """Consecutive sentences joined into as few texts as fit the summarizer's input limit."""
    limit = summarizer.max_input_tokens
    overhead = summarizer.count_tokens([""])[0]  # special tokens every input carries
    fitted = fit_sentences(list(sentences), summarizer.count_tokens, limit)
    counts = summarizer.count_tokens(fitted)
    chunks: list[list[str]] = []
    size = 0
    for sentence, count in zip(fitted, counts, strict=True):
        # +1: joining with a space can add a token at the seam.
        cost = count - overhead + 1
        if chunks and size + cost <= limit - overhead:
            chunks[-1].append(sentence)
            size += cost
        else:
            chunks.append([sentence])
            size = cost
    return [" ".join(chunk) for chunk in chunks]


def summarize_sentences(
    sentences: Sequence[str], summarizer: Summarizer, on_step: StepCallback | None = None
) -> str:
    """One summary of all `sentences`."""
    texts = pack_chunks(sentences, summarizer)
    done, total = 0, len(texts) + (1 if len(texts) > 1 else 0)
    while True:
        summaries: list[str] = []
        for start in range(0, len(texts), SUMMARY_BATCH_SIZE):
            summaries += summarizer.summarize_batch(texts[start : start + SUMMARY_BATCH_SIZE])
            done += len(texts[start : start + SUMMARY_BATCH_SIZE])
            if on_step:
                on_step(done, max(total, done))
        if len(summaries) == 1:
            return summaries[0]
        next_texts = pack_chunks(summaries, summarizer)
        if len(next_texts) >= len(texts):
            # Summaries too long to pair up (only when they are longer than half the model's
            # input, which real summaries of at most 142 tokens in 1,024 never are): summarize
            # what fits of them together rather than loop.
            log.warning("partial summaries do not fit together; the last one is cut short")
            return summarizer.summarize_batch([" ".join(summaries)])[0]
        texts = next_texts
        total = done + len(texts)
