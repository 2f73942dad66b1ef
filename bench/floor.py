"""The stage floor of a sustained run: the same articles through the same stages, in the same
batches the live worker ran, timed alone in a fresh process.

    python -m bench.floor --articles N --sizes 8,8,5,...   (bench/run.py runs it)

The process loads the engines exactly as a worker process does (`load_engines` on the
settings of the environment: the same models, threads, forced lengths and memory budget) and
holds nothing else, so the summary batches its budget allows are the worker's. Each batch is
read, cleaned, split, translated (`draft_article`, per article) and summarized together
(`finish_articles`), as `translate_jobs` does in a worker, without Celery, Redis, leases or
the web. Prints one JSON line: seconds, articles per minute, peak resident MB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bench.forced import force_translation_lengths, forced_env
from bench.models import BenchModels, distinct_articles


@dataclass(frozen=True)
class Floor:
    seconds: float
    articles: int
    peak_mb: float
    stages: dict[str, float]  # seconds in read, translate and summarize, as the timeline counts

    @property
    def per_minute(self) -> float:
        return 60 * self.articles / self.seconds


def stage_floor(
    models: BenchModels, texts: Sequence[str], sizes: Sequence[int], env: Mapping[str, str]
) -> Floor:
    """`texts` in batches of `sizes` (in order) through the stages in a fresh process with
    the worker's environment (`env` on top of this one's)."""
    assert sum(sizes) <= len(texts), (sizes, len(texts))
    environment = {
        **os.environ,
        "VERTAAL_TRANSLATION_MODEL": str(models.translation),
        "VERTAAL_SUMMARY_MODEL": str(models.summary),
        "HF_HUB_OFFLINE": "1",
        **forced_env(),
        **env,
    }
    command = [
        sys.executable, "-m", "bench.floor", "--articles", str(sum(sizes)),
        "--sizes", ",".join(map(str, sizes)),
    ]  # fmt: skip
    answer = subprocess.run(command, env=environment, check=True, capture_output=True, text=True)
    figures = json.loads(answer.stdout.strip().splitlines()[-1])
    return Floor(figures["seconds"], figures["articles"], figures["peak_mb"], figures["stages"])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, required=True)
    parser.add_argument("--sizes", required=True, help="articles per batch, comma-separated")
    options = parser.parse_args(argv)
    force_translation_lengths()
    from workers.engines.factory import load_engines
    from workers.engines.loading import quiet_transformers
    from workers.engines.memory import MB, peak_bytes
    from workers.pipeline.article import SourceFile
    from workers.pipeline.reading import read_source
    from workers.pipeline.run import RunOptions, draft_article, finish_articles, translate_article
    from workers.settings import Settings

    quiet_transformers()
    settings = Settings()
    engines = load_engines(settings)
    run = RunOptions.from_settings(settings)
    texts = distinct_articles(options.articles + 1)
    # A warm-up article, as the live worker's run starts with one.
    translate_article(read_source(SourceFile.pasted(texts[-1][:300] + ".")), engines, run)
    sizes = [int(size) for size in options.sizes.split(",")]
    started = time.perf_counter()
    first = 0
    stages = dict.fromkeys(("read", "translate", "summarize"), 0.0)
    for size in sizes:
        batch = texts[first : first + size]
        first += size
        drafts = [draft_article(read_source(SourceFile.pasted(t)), engines, run) for t in batch]
        for draft in drafts:
            stages["read"] += draft.result.timings["clean"] + draft.result.timings["split"]
            stages["translate"] += draft.result.timings["translate"]
        summarizing = time.perf_counter()
        for outcome in finish_articles(drafts, engines):
            if isinstance(outcome, Exception):
                raise outcome
        stages["summarize"] += time.perf_counter() - summarizing
    seconds = time.perf_counter() - started
    print(json.dumps({
        "seconds": seconds, "articles": first, "peak_mb": peak_bytes() / MB,
        "stages": stages,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
