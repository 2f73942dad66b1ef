"""What would close the gap to 12 articles a minute: Vertaal on CTranslate2 (variant (c) of
bench/run.py), measured the same way under settings that trade quality or hardware for speed.

    python -m bench.what_if

Each line runs the example articles once. The last one runs two worker-like processes of one
thread each side by side (throughput, not the time of one article).
"""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

from bench.models import build_models
from bench.run import VertaalPipeline, load_articles, warm_up


def seconds_per_article(pipeline: VertaalPipeline) -> tuple[float, str]:
    """Mean seconds per article, and how they split between translating and summarizing."""
    articles = load_articles()
    warm_up(pipeline)
    stages = {"translate": 0.0, "summarize": 0.0}
    start = time.perf_counter()
    for article in articles:
        timings = pipeline(article).timings
        for stage in stages:
            stages[stage] += timings[stage]
    split = ", ".join(
        f"{stage} {seconds / len(articles):.2f} s" for stage, seconds in stages.items()
    )
    return (time.perf_counter() - start) / len(articles), split


def line(label: str, seconds: float, split: str = "") -> None:
    print(f"{label:<46}{seconds:6.2f} s/article {60 / seconds:5.1f}/min  {split}", flush=True)


def one_process(cores: str) -> None:
    """Child of the two-process measurement: one pass, prints its wall time."""
    models = build_models(log=lambda _: None)
    pipeline = VertaalPipeline(models, "ctranslate2", cores=int(cores))
    print(seconds_per_article(pipeline)[0] * len(load_articles()))


def main() -> None:
    from workers.engines.loading import quiet_transformers

    quiet_transformers()
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        return one_process(sys.argv[2])
    models = build_models()
    settings: list[tuple[str, dict[str, Any], Any]] = [
        ("default: translation beam 6, summary beam 4", {}, models),
        ("translation beam 4", {"num_beams": 4}, models),
        ("translation greedy (beam 1)", {"num_beams": 1}, models),
        ("summary by distilbart-cnn-6-6", {}, build_models(summary="distilbart-cnn-6-6")),
    ]
    for label, options, chosen in settings:
        line(label, *seconds_per_article(VertaalPipeline(chosen, "ctranslate2", **options)))
    start = time.perf_counter()
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "bench.what_if", "--child", "1"],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for child in children:
        child.communicate()
    articles = 2 * len(load_articles())
    line("two processes of one thread each (throughput)", (time.perf_counter() - start) / articles)


if __name__ == "__main__":
    main()
