"""The summarizer alone, in batches of 1, 2, 4 and 8 texts: what batching summaries across
articles can gain at most.

    python -m bench.summary_batches [--texts N] [--tokens T]

On the full-size random distilbart-cnn-12-6 of bench/models.py, CTranslate2 int8, the model's
own beams, every summary forced to 80 tokens, as in `make bench`. The texts are the example
articles in turn, each cut to T input tokens (default 800, a long article's chunk). Each batch
size runs in a process of its own, so its peak memory is its own. Prints, per batch size:
seconds per text, the ratio to one at a time, the process's peak resident memory, and what a
batch adds to it per input token and beam (the figure workers/engines/memory.py starts from).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable, Sequence

from bench.models import build_models, distinct_articles
from bench.run import forced_engines, prepare


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=8, help="texts summarized per batch size")
    parser.add_argument("--tokens", type=int, default=800, help="input tokens per text")
    parser.add_argument("--sizes", default="1,2,4,8", help="batch sizes, comma-separated")
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)  # one size, in this process
    options = parser.parse_args(argv)
    if options.size:
        print(json.dumps(_one_size(options.size, options.texts, options.tokens)))
        return
    prepare()
    alone = None
    for size in (int(s) for s in options.sizes.split(",")):
        command = [sys.executable, "-m", "bench.summary_batches", "--size", str(size),
                   "--texts", str(options.texts), "--tokens", str(options.tokens)]  # fmt: skip
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        figures = json.loads(output.strip().splitlines()[-1])
        per_text = figures["seconds_per_text"]
        alone = alone or per_text
        print(
            f"batches of {size}: {per_text:.2f} s per text, {alone / per_text:.2f}x, "
            f"peak {figures['peak_mb']:.0f} MB, {figures['kb_per_token_beam']:.1f} KB per input "
            "token and beam",
            flush=True,
        )


def _one_size(size: int, count: int, tokens: int) -> dict[str, float]:
    from workers.engines.memory import MB, reset_peak, resident_bytes

    summarizer = forced_engines(build_models(), "ctranslate2").summarizer
    texts = [_cut(text, tokens, summarizer.count_tokens) for text in distinct_articles(count)]
    summarizer.summarize_batch([texts[0][:200]])  # warm up, on a short text
    held = resident_bytes()
    reset_peak()  # loading the models peaked higher than a small batch does
    started = time.perf_counter()
    for first in range(0, len(texts), size):
        summarizer.summarize_batch(texts[first : first + size])
    seconds = (time.perf_counter() - started) / len(texts)
    peak = resident_bytes("VmHWM")
    units = tokens * size * summarizer.num_beams
    return {
        "seconds_per_text": seconds,
        "peak_mb": peak / MB,
        "kb_per_token_beam": (peak - held) / units / 1024,
    }


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
