"""Articles per minute through `vertaal translate` on a folder, in this process.

    make bench-folder   (or: python -m bench.folder [--articles N] [--sustained] [--tiny])

N articles (default 48: the example articles, each copy's sentences marked so that none
repeats) are written to a folder and translated by `vertaal translate DIR --out OUT` in this
process, on random-weight models of the published architectures with forced output lengths
(as `make bench`; `--tiny`: the test suite's tiny models, for a smoke run), after a warm-up
article that loads the models. The CLI groups files as a worker groups queued articles
(VERTAAL_BATCH_ARTICLES at a time, summaries batched), so its rate should be within 10% of a
live worker's sustained figure: with --sustained, the same articles are then also queued at
once for a live worker (bench/run.py's sustained run) on the same models. The last line reads:
    folder_articles_per_min=… [sustained_articles_per_min=… ratio=…]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from bench.forced import force_translation_lengths, forced_env
from bench.models import BenchModels, build_models, build_tiny_models, distinct_articles


@contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """The CLI reads its settings from the environment, as a user's shell gives them."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def vertaal_translate(folder: Path, out: Path) -> float:
    """Seconds `vertaal translate folder --out out` takes in this process."""
    from cli.main import main

    started = time.perf_counter()
    try:
        main(["translate", str(folder), "--out", str(out)], standalone_mode=False)
    except SystemExit as stop:
        raise RuntimeError(f"vertaal translate exited with {stop.code}") from None
    return time.perf_counter() - started


def translated(out: Path) -> int:
    lines = (out / "index.jsonl").read_text().splitlines()
    return sum(json.loads(line)["status"] == "translated" for line in lines)


def folder_rate(models: BenchModels, count: int, root: Path, env: Mapping[str, str]) -> float:
    """Articles per minute of one folder run over `count` distinct articles."""
    texts = distinct_articles(count + 1)
    warm_up, folder = root / "warm-up", root / "articles"
    for place, chosen in ((warm_up, texts[-1:]), (folder, texts[:count])):
        place.mkdir()
        for number, text in enumerate(chosen):
            (place / f"article-{number:03}.txt").write_text(text)
    settings = {
        "VERTAAL_TRANSLATION_MODEL": str(models.translation),
        "VERTAAL_SUMMARY_MODEL": str(models.summary),
        "HF_HUB_OFFLINE": "1",
        **forced_env(),
        **env,
    }
    force_translation_lengths()
    with environment(settings):
        vertaal_translate(warm_up, root / "warm-up-out")  # loads (and converts) the models
        seconds = vertaal_translate(folder, root / "out")
    if translated(root / "out") != count:
        raise RuntimeError(f"only {translated(root / 'out')} of {count} articles translated")
    return 60 * count / seconds


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=48, help="articles in the folder")
    parser.add_argument(
        "--sustained", action="store_true",
        help="also queue them at once for a live worker on the same models, and compare",
    )  # fmt: skip
    parser.add_argument("--tiny", action="store_true", help="the test suite's tiny models")
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    options = parser().parse_args(argv)
    from workers.engines.loading import quiet_transformers

    quiet_transformers()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        env: dict[str, str] = {}
        if options.tiny:
            models = build_tiny_models(root / "models")
            env["VERTAAL_CONVERTED_DIR"] = str(root / "converted")
        else:
            # As `make bench`: built and converted in a process of its own, once.
            prepare = "import bench.run; bench.run.prepare()"
            subprocess.run([sys.executable, "-c", prepare], check=True)
            models = build_models()
        rate = folder_rate(models, options.articles, root, env)
        print(f"folder, {options.articles} articles in process: {rate:.1f} articles/min")
        line = f"folder_articles_per_min={rate:.1f}"
        if options.sustained:
            from bench.run import sustained
            from workers.settings import Settings

            with environment(env):
                defaults = Settings()
                live = sustained(
                    models, options.articles, defaults.batch_articles, defaults.worker_memory_mb
                )
            print(f"{live.label}: {live.per_minute:.1f} articles/min")
            line += f" sustained_articles_per_min={live.per_minute:.1f}"
            line += f" ratio={rate / live.per_minute:.2f}"
    print(line)


if __name__ == "__main__":
    main()
