"""The summarizer alone, in batches of 1, 2, 4 and 8 texts: what batching summaries across
articles can gain at most.

    python -m bench.summary_batches [--texts N] [--tokens T]

On the full-size random distilbart-cnn-12-6 of bench/models.py, CTranslate2 int8, the model's
own beams, every summary forced to 80 tokens, as in `make bench`. The texts are the example
articles in turn, each cut to T input tokens (default 800, a long article's chunk). Prints
seconds per text for each batch size, and the ratio to one at a time.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence

from bench.models import build_models, distinct_articles
from bench.run import forced_engines, prepare


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=8, help="texts summarized per batch size")
    parser.add_argument("--tokens", type=int, default=800, help="input tokens per text")
    parser.add_argument("--sizes", default="1,2,4,8", help="batch sizes, comma-separated")
    options = parser.parse_args(argv)
    prepare()
    summarizer = forced_engines(build_models(), "ctranslate2").summarizer
    texts = [
        _cut(text, options.tokens, summarizer.count_tokens)
        for text in distinct_articles(options.texts)
    ]
    summarizer.summarize_batch(texts[:1])  # warm up
    alone = None
    for size in (int(s) for s in options.sizes.split(",")):
        started = time.perf_counter()
        for first in range(0, len(texts), size):
            summarizer.summarize_batch(texts[first : first + size])
        per_text = (time.perf_counter() - started) / len(texts)
        alone = alone or per_text
        print(f"batches of {size}: {per_text:.2f} s per text, {alone / per_text:.2f}x", flush=True)


def _cut(text: str, tokens: int, count: Callable[[list[str]], list[int]]) -> str:
    """The longest run of the text's words that fits in `tokens` of the summarizer's."""
    words = text.split()
    low, high = 1, len(words)
    while low < high:  # the most words whose count fits: a binary search
        middle = (low + high + 1) // 2
        if count([" ".join(words[:middle])])[0] <= tokens:
            low = middle
        else:
            high = middle - 1
    return " ".join(words[:low])


if __name__ == "__main__":
    main()
