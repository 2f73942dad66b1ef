"""Speed benchmark: plain transformers, Vertaal on each engine, and raw CTranslate2.

    make bench        (or: python -m bench.run [--rounds N])

On the example articles (cleaned), with random models of the published architectures
(bench/models.py) and forced output lengths, it times, interleaved in one process:

  (a) plain transformers fp32 as a typical user writes it: the model's default beams, one
      generate() for all of an article's sentences, the summary input truncated at 1,024 tokens;
  (b) the Vertaal pipeline on the transformers engine;
  (c) the Vertaal pipeline on the CTranslate2 engine (int8);
  (d) raw CTranslate2 translate_batch calls with exactly the inputs and settings (c) sends to
      the model: the floor for (c).

(c) and (d) then run --pairs more rounds (default 2), each article on both back to back;
overhead_vs_raw compares each article's fastest time on each, so the drift of a shared
machine between rounds hardly reaches it.

Then, sustained: N articles (default 48, distinct) are queued at once for a live `vertaal
worker` (bench/stack.py: a Redis, `vertaal serve` and the worker, on the same models with the
same forced lengths), timed from the first submit to the last done: at the default memory
budget (VERTAAL_WORKER_MEMORY_MB) with the articles' summaries batched, again at a second
budget (--budgets), and with 12 of them one by one (VERTAAL_BATCH_ARTICLES=1). For the first
run it prints the worker's own timeline (workers/operations/timeline.py: where every second
of every batch went) and the stage floor (bench/floor.py: the same articles in the same
batches through the same stages, alone in a fresh process with the worker's settings).

Peak resident memory is exact for (c), measured before anything else is loaded, and for the
live worker's model process; estimated for the others. The last line reads:
    speedup_vs_plain=… overhead_vs_raw=… articles_per_min=… sustained_articles_per_min=…
    rss_mb=… stage_floor_per_min=…
(rss_mb: the live worker's at the default budget, batches included; (c)'s with
--sustained 0). With --sustained-only, (a) to (d) are skipped and the line starts at
sustained_articles_per_min.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.floor import Floor, stage_floor
from bench.forced import SUMMARY_TOKENS, forced, names_carried
from bench.models import EXAMPLES, BenchModels, build_models

BATCH_SIZE = 8  # Vertaal's default
VARIANTS = ("a", "b", "c", "d")
LABELS = {
    "a": "(a) plain transformers fp32",
    "b": "(b) Vertaal, transformers engine",
    "c": "(c) Vertaal, CTranslate2 int8",
    "d": "(d) raw CTranslate2 int8",
}


def threads() -> int:
    return len(os.sched_getaffinity(0))


@dataclass
class Article:
    name: str
    document: Any  # RawDocument
    sentences: list[str]  # title and body, cleaned: what plain transformers is given


def load_articles() -> list[Article]:
    from workers.pipeline.reading import read_path
    from workers.pipeline.run import prepare_article

    articles = []
    for path in sorted(EXAMPLES.glob("*.txt")):
        document = read_path(path)
        clean = prepare_article(document)
        sentences = ([clean.title] if clean.title else []) + [
            s for p in clean.paragraphs for s in p
        ]
        articles.append(Article(path.name, document, sentences))
    return articles


# --- (a) plain transformers ---------------------------------------------------------------


class PlainTransformers:
    """What a typical user writes: two models, two generate() calls, model defaults."""

    def __init__(self, models: BenchModels) -> None:
        import torch
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        torch.set_num_threads(threads())
        self.torch = torch
        self.mt_tokenizer = AutoTokenizer.from_pretrained(models.translation)
        self.mt = AutoModelForSeq2SeqLM.from_pretrained(models.translation).eval()
        self.sum_tokenizer = AutoTokenizer.from_pretrained(models.summary)
        self.summarizer = AutoModelForSeq2SeqLM.from_pretrained(models.summary).eval()
        self.summary_limit = self.summarizer.config.max_position_embeddings  # 1,024: distilbart

    def __call__(self, article: Article) -> None:
        with self.torch.inference_mode():
            batch = self.mt_tokenizer(article.sentences, return_tensors="pt", padding=True)
            length = forced(int(batch["attention_mask"].sum(dim=1).max()))
            output = self.mt.generate(**batch, min_new_tokens=length, max_new_tokens=length)
            english = " ".join(self.mt_tokenizer.batch_decode(output, skip_special_tokens=True))
            text = self.sum_tokenizer(
                english, return_tensors="pt", truncation=True, max_length=self.summary_limit
            )
            self.summarizer.generate(
                **text, min_new_tokens=SUMMARY_TOKENS, max_new_tokens=SUMMARY_TOKENS
            )


# --- (b), (c) the Vertaal pipeline ---------------------------------------------------------


def forced_engines(
    models: BenchModels, engine: str, *, num_beams: int | None = None, cores: int | None = None
) -> Any:
    """Vertaal's engines with the output lengths forced; everything else is the product's."""
    from workers.engines.factory import build_generator
    from workers.engines.protocols import Engines
    from workers.engines.runtime import Runtime
    from workers.engines.seq2seq import Seq2SeqSummarizer, Seq2SeqTranslator
    from workers.settings import Settings

    class ForcedTranslator(Seq2SeqTranslator):
        def output_lengths(self, longest_source: int) -> tuple[int, int]:
            return forced(longest_source), forced(longest_source)

        translate_batch = names_carried(Seq2SeqTranslator.translate_batch)

    chosen = Runtime(engine, "cpu", "int8", cores or threads(), required=True)
    root = Settings().converted_root()
    files, generator, used = build_generator(str(models.translation), "translation", chosen, root)
    translator = ForcedTranslator(files, generator, num_beams=num_beams, backend=used)
    files, generator, used = build_generator(str(models.summary), "summary", chosen, root)
    summarizer = Seq2SeqSummarizer(
        files, generator, num_beams=None, min_tokens=SUMMARY_TOKENS, max_tokens=SUMMARY_TOKENS,
        backend=used,
    )  # fmt: skip
    return Engines(translator=translator, summarizer=summarizer)


class VertaalPipeline:
    def __init__(self, models: BenchModels, engine: str, **engine_options: Any) -> None:
        from workers.pipeline.run import RunOptions
        from workers.settings import Settings

        self.engines = forced_engines(models, engine, **engine_options)
        # The product's own options: the names list enforced, every sentence checked.
        self.options = RunOptions.from_settings(Settings(batch_size=BATCH_SIZE))

    def __call__(self, article: Article) -> Any:
        from workers.pipeline.run import translate_article

        # No sentence cache: every round must do the full work.
        return translate_article(article.document, self.engines, self.options)


# --- (d) raw CTranslate2 -------------------------------------------------------------------


@dataclass
class ModelCall:
    role: str
    tokens: list[list[str]]
    options: dict[str, Any]


@dataclass
class Recorder:
    """Sits between (c)'s engines and CTranslate2: keeps the calls made for each article, and
    times them, so (c)'s own time inside CTranslate2 is known exactly."""

    calls: dict[str, list[ModelCall]] = field(default_factory=dict)
    article: str = ""
    recording: bool = True
    seconds_inside: float = 0.0

    def attach(self, pipeline: VertaalPipeline) -> VertaalPipeline:
        for role, engine in (
            ("translation", pipeline.engines.translator),
            ("summary", pipeline.engines.summarizer),
        ):
            engine.generator.translator = self._wrap(role, engine.generator.translator)
        return pipeline

    def _wrap(self, role: str, translator: Any) -> Any:
        recorder = self

        class Recording:
            def translate_batch(self, tokens: list[list[str]], **options: Any) -> Any:
                if recorder.recording:
                    recorder.calls.setdefault(recorder.article, []).append(
                        ModelCall(role, [list(t) for t in tokens], dict(options))
                    )
                start = time.perf_counter()
                try:
                    return translator.translate_batch(tokens, **options)
                finally:
                    recorder.seconds_inside += time.perf_counter() - start

        return Recording()


class RawCTranslate2:
    """The model calls of (c), replayed straight into CTranslate2: the floor."""

    def __init__(self, models: BenchModels, calls: dict[str, list[ModelCall]]) -> None:
        import ctranslate2

        from workers.engines.ctranslate2 import converted_dir
        from workers.engines.loading import resolve_model
        from workers.settings import Settings

        root = Settings().converted_root()
        n = threads()

        def load(ref: Path, role: str, inter: int) -> Any:
            path = converted_dir(root, resolve_model(str(ref), role), "int8")
            return ctranslate2.Translator(
                str(path), device="cpu", compute_type="int8", inter_threads=inter,
                intra_threads=n // inter,
            )  # fmt: skip

        # The same thread layout as Vertaal's engine uses, so only the pipeline differs.
        self.translators = {
            "translation": load(models.translation, "translation", n),
            "summary": load(models.summary, "summary", 1),
        }
        self.calls = calls

    def __call__(self, article: Article) -> None:
        for call in self.calls[article.name]:
            self.translators[call.role].translate_batch(call.tokens, **call.options)


def make_variant(name: str, models: BenchModels) -> Callable[[Article], Any]:
    if name == "a":
        return PlainTransformers(models)
    if name == "b":
        return VertaalPipeline(models, "transformers")
    if name == "c":
        return VertaalPipeline(models, "ctranslate2")
    raise ValueError(name)


WARM_UP = "De minister zei dinsdag dat het overleg met de buurlanden goed is verlopen."


def warm_up(variant: Callable[[Article], Any]) -> None:
    """One short article, so the timed runs start with warm caches and allocators."""
    from workers.pipeline.article import RawDocument

    if isinstance(variant, RawCTranslate2):
        for translator in variant.translators.values():
            translator.translate_batch([["▁De", "</s>"]], max_decoding_length=4)
    else:
        variant(Article("warm-up", RawDocument(WARM_UP), [WARM_UP]))


# --- measuring ------------------------------------------------------------------------------


def resident_mb(field: str = "VmRSS") -> float:
    """This process's resident memory now (VmRSS) or at its peak so far (VmHWM)."""
    from workers.engines.memory import MB, resident_bytes

    return resident_bytes(field) / MB


class PeakSampler:
    """How far resident memory rose above its starting point while the block ran."""

    def __init__(self) -> None:
        self.start = self.peak = resident_mb()
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while self.running:
            self.peak = max(self.peak, resident_mb())
            time.sleep(0.01)

    @property
    def rise(self) -> float:
        return max(0.0, self.peak - self.start)

    def __enter__(self) -> PeakSampler:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.running = False
        self.thread.join()


def prepare() -> None:
    """Build the random models and convert them to CTranslate2 int8 if not done yet."""
    from workers.engines.ctranslate2 import convert
    from workers.engines.loading import quiet_transformers, resolve_model
    from workers.settings import Settings

    quiet_transformers()
    models = build_models()
    for path, role in ((models.translation, "translation"), (models.summary, "summary")):
        convert(resolve_model(str(path), role), Settings().converted_root(), "int8")


# --- sustained: a live worker with a full queue ------------------------------------------


@dataclass
class Sustained:
    label: str
    articles: int
    seconds: float
    worker_rss_mb: float
    budget_mb: int
    texts: list[str]
    batches: list[dict[str, Any]]  # the worker's timeline, one entry per batch

    @property
    def per_minute(self) -> float:
        return 60 * self.articles / self.seconds


def sustained(models: BenchModels, count: int, batch_articles: int, budget_mb: int) -> Sustained:
    """`count` distinct articles submitted at once to a live `vertaal worker` (one process,
    as deployed by default): articles per minute from the first submit to the last done,
    the worker's peak resident memory, and its timeline of the run."""
    import httpx
    import redis

    from bench.models import distinct_articles
    from bench.stack import running_service
    from workers.operations.timeline import read_timeline

    texts = distinct_articles(count + 1)
    env = {
        "VERTAAL_BATCH_ARTICLES": str(batch_articles),
        "VERTAAL_WORKER_MEMORY_MB": str(budget_mb),
    }
    with running_service(models, [("--queues", "vertaal")], env) as service:
        with httpx.Client(base_url=service.url, timeout=60) as client:
            _wait_all(client, [client.post("/api/v1/jobs", json={"text": texts[-1][:300] + "."})
                               .json()["id"]])  # fmt: skip
            since = time.time()
            started = time.perf_counter()
            ids = [
                client.post("/api/v1/jobs", json={"text": t}).json()["id"] for t in texts[:count]
            ]
            _wait_all(client, ids)
            seconds = time.perf_counter() - started
        batches = read_timeline(redis.Redis.from_url(service.redis_url), since)
        # VmHWM alone would miss what came before the last summary batch reset it.
        peaks = [float(b["peak_mb"]) for b in batches]
        rss = max([_peak_mb(service.workers[0].pid), *peaks])
    label = f"sustained, {count} queued, batches of {batch_articles}, {budget_mb} MB"
    return Sustained(label, count, seconds, rss, budget_mb, texts[:count], batches)


# How often the benchmark's client polls a job: the web page's own interval (app.js).
POLL_SECONDS = 0.6


def _wait_all(client: Any, ids: list[str]) -> None:
    """Until every job is done (polling the light view, as a client should)."""
    import httpx

    deadline = time.monotonic() + 1800
    waiting = list(ids)
    while waiting and time.monotonic() < deadline:
        try:
            job = client.get(f"/api/v1/jobs/{waiting[0]}", params={"view": "status"}).json()
        except httpx.TransportError:  # a web process recycled under a kept-alive connection
            time.sleep(0.1)
            continue
        if job["status"] == "done":
            waiting.pop(0)
            continue
        if job["status"] in ("failed", "cancelled"):
            raise RuntimeError(f"job {job['id']} {job['status']}: {job.get('error')}")
        time.sleep(POLL_SECONDS)
    if waiting:
        raise RuntimeError(f"{len(waiting)} jobs not done in time")


def _peak_mb(pid: int) -> float:
    """The largest peak resident memory of a process and its children (a worker's children
    hold the models), in MB."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    peaks = []
    for each in [pid, *map(int, children)]:
        for line in Path(f"/proc/{each}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)
    return max(peaks, default=0.0)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=1, help="timed rounds per variant")
    parser.add_argument(
        "--pairs", type=int, default=2,
        help="extra rounds of (c) and (d) alone, each article timed on both back to back",
    )  # fmt: skip
    parser.add_argument(
        "--sustained", type=int, default=48, metavar="N",
        help="articles queued at once for a live worker, batched, at each budget (0: skip)",
    )  # fmt: skip
    parser.add_argument(
        "--budgets", default=None, metavar="MB,MB",
        help="worker memory budgets of the batched runs (default: the setting's, and 1024)",
    )  # fmt: skip
    parser.add_argument(
        "--sustained-only", action="store_true", help="skip (a) to (d): the live worker only"
    )
    args = parser.parse_args(argv)
    from workers.engines.loading import quiet_transformers

    quiet_transformers()
    started = time.perf_counter()
    # In a process of its own: building and converting peak far above a worker, and (c)'s
    # peak memory is measured in this one.
    subprocess.run([sys.executable, "-c", "import bench.run; bench.run.prepare()"], check=True)
    models = build_models()
    if args.sustained_only:
        runs, floor = sustained_runs(models, args.sustained, args.budgets)
        print(sustained_line(runs, floor) + f" rss_mb={runs[0].worker_rss_mb:.0f}")
        return
    articles = load_articles()
    print(f"{threads()} CPU threads; articles: " + ", ".join(
        f"{a.name} ({len(a.sentences)} sentences)" for a in articles
    ))  # fmt: skip
    base = resident_mb()
    recorder = Recorder()
    variants: dict[str, Callable[[Article], Any]] = {}
    loaded: dict[str, float] = {}
    rise: dict[str, float] = dict.fromkeys(VARIANTS, 0.0)
    exact_c = 0.0
    times: dict[str, list[float]] = {name: [] for name in VARIANTS}
    stages: dict[str, list[float]] = {"translate": [], "summarize": []}
    inside: list[float] = []  # per round: seconds (c) spent inside CTranslate2

    def load(name: str) -> None:
        before = resident_mb()
        if name == "c":
            variant: Callable[[Article], Any] = recorder.attach(
                VertaalPipeline(models, "ctranslate2")
            )
        elif name == "d":
            variant = RawCTranslate2(models, recorder.calls)
        else:
            variant = make_variant(name, models)
        loaded[name] = resident_mb() - before
        warm_up(variant)
        variants[name] = variant

    # Round 1 loads each variant just before its first run, (c) first: its peak memory is then
    # exactly that of a worker, since the process holds nothing else yet. (c) also records the
    # calls it makes to CTranslate2, which (d) replays.
    for round_number in range(args.rounds):
        order = ("c", "d", "b", "a") if round_number % 2 == 0 else ("a", "b", "d", "c")
        for name in order:
            if name not in variants:
                load(name)
            recorder.seconds_inside = 0.0
            for article in articles:
                recorder.article = article.name
                start = time.perf_counter()
                with PeakSampler() as sampler:
                    result = variants[name](article)
                times[name].append(time.perf_counter() - start)
                rise[name] = max(rise[name], sampler.rise)
                if name == "c":
                    for stage in stages:
                        stages[stage].append(result.timings[stage])
            if name == "c":
                inside.append(recorder.seconds_inside)
            if name == "c" and round_number == 0:
                exact_c = resident_mb("VmHWM")
                recorder.recording = False  # (d) replays the first round's calls
            per_round = sum(times[name][-len(articles) :])
            print(f"round {round_number + 1}: {LABELS[name]:<34} {per_round:7.1f} s", flush=True)

    # (c) against (d) a few rounds more, article by article back to back, so that the drift of
    # a shared machine between their rounds above hardly reaches their ratio.
    for pair in range(args.pairs):
        recorder.seconds_inside = 0.0
        for article in articles:
            for name in ("c", "d"):
                recorder.article = article.name
                start = time.perf_counter()
                variants[name](article)
                times[name].append(time.perf_counter() - start)
        inside.append(recorder.seconds_inside)
        print(f"pair {pair + 1}: (c) {sum(times['c'][-len(articles):]):.1f} s, "
              f"(d) {sum(times['d'][-len(articles):]):.1f} s", flush=True)  # fmt: skip

    rss = {name: base + loaded[name] + rise[name] for name in VARIANTS}
    rss["c"] = exact_c
    runs: list[Sustained] = []
    floor = None
    if args.sustained:
        runs, floor = sustained_runs(models, args.sustained, args.budgets)
    report(times, rss, articles, stages, inside, runs, floor)
    print(f"benchmark took {time.perf_counter() - started:.0f} s", file=sys.stderr)


def sustained_runs(
    models: BenchModels, count: int, budgets: str | None
) -> tuple[list[Sustained], Floor]:
    """The batched runs at each budget, then 12 one by one; the first run's timeline and
    stage floor printed."""
    from workers.settings import Settings

    default = Settings()
    chosen = [int(b) for b in budgets.split(",")] if budgets else [default.worker_memory_mb, 1024]
    plans = [(count, default.batch_articles, b) for b in chosen]
    plans.append((min(count, 12), 1, chosen[0]))
    runs = []
    for articles, batch, budget in plans:
        runs.append(sustained(models, articles, batch, budget))
        print(f"{runs[-1].label}: {runs[-1].seconds:.1f} s", flush=True)
    first = runs[0]
    sizes = [int(b["articles"]) for b in first.batches]
    floor = stage_floor(
        models, first.texts, sizes, {"VERTAAL_WORKER_MEMORY_MB": str(first.budget_mb)}
    )
    print_timeline(first, floor)
    print()
    print(f"{'run':<52}{'peak MB of budget':>18}{'articles/min':>14}")
    for run in runs:
        peak = f"{run.worker_rss_mb:.0f} of {run.budget_mb}"
        print(f"{run.label:<52}{peak:>18}{run.per_minute:>14.1f}")
    return runs, floor


def print_timeline(run: Sustained, floor: Floor) -> None:
    """Where the live worker's seconds went, batch by batch summed, against the stage
    floor of the same batches."""
    from workers.operations.timeline import STAGES

    totals = {stage: sum(float(b[stage]) for b in run.batches) for stage in STAGES}
    explained = sum(totals.values())
    sizes = ",".join(str(b["articles"]) for b in run.batches)
    print()
    print(f"timeline of {run.label}: {len(run.batches)} batches ({sizes})")
    print(f"{'stage':<12}{'seconds':>9}{'share':>8}{'s/article':>11}{'floor s':>9}")
    for stage, seconds in totals.items():
        alone = f"{floor.stages[stage]:>9.1f}" if stage in floor.stages else ""
        print(f"{stage:<12}{seconds:>9.1f}{seconds / run.seconds:>8.1%}"
              f"{seconds / run.articles:>11.2f}{alone}")  # fmt: skip
    outside = run.seconds - explained
    print(f"{'outside':<12}{outside:>9.1f}{outside / run.seconds:>8.1%}"
          "   (before the first batch: the submits)")  # fmt: skip
    print(f"{'wall':<12}{run.seconds:>9.1f}")
    print(
        f"stage floor: the same {floor.articles} articles in the same batches, alone in a fresh "
        f"process: {floor.seconds:.1f} s, {floor.per_minute:.1f} articles/min, peak "
        f"{floor.peak_mb:.0f} MB; the live worker reached {run.per_minute / floor.per_minute:.0%}"
    )


def sustained_line(runs: Sequence[Sustained], floor: Floor) -> str:
    return (
        f"sustained_articles_per_min={runs[0].per_minute:.1f} "
        f"stage_floor_per_min={floor.per_minute:.1f}"
    )


def report(
    times: dict[str, list[float]],
    rss: dict[str, float],
    articles: list[Article],
    stages: dict[str, list[float]],
    inside: list[float],
    runs: Sequence[Sustained] = (),
    floor: Floor | None = None,
) -> None:
    per_article = {name: statistics.mean(values) for name, values in times.items()}
    print()
    print(f"{'variant':<36}{'s/article':>10}{'articles/min':>14}{'vs (a)':>8}{'peak RSS MB':>13}")
    for name in VARIANTS:
        seconds = per_article[name]
        print(
            f"{LABELS[name]:<36}{seconds:>10.2f}{60 / seconds:>14.1f}"
            f"{per_article['a'] / seconds:>7.1f}x{rss[name]:>13.0f}"
        )
    for run in runs:
        seconds = run.seconds / run.articles
        print(
            f"{run.label:<36}{seconds:>10.2f}{run.per_minute:>14.1f}"
            f"{per_article['a'] / seconds:>7.1f}x{run.worker_rss_mb:>13.0f}"
        )
    print("peak RSS: exact for (c), a fresh process, and for the live worker's model process;")
    print("the others estimated in the shared process")
    print()
    for index, article in enumerate(articles):
        row = "  ".join(
            f"{name}={statistics.mean(times[name][index :: len(articles)]):6.2f}s"
            for name in VARIANTS
        )
        print(f"{article.name:<42}{row}")
    shares = {stage: statistics.mean(values) for stage, values in stages.items()}
    print(
        f"(c) per article: translate {shares['translate']:.2f} s, "
        f"summarize {shares['summarize']:.2f} s"
    )
    model_share = statistics.mean(inside) / (per_article["c"] * len(articles))
    print(
        f"(c) spent {model_share:.1%} of its time inside CTranslate2 in the same run: "
        f"pipeline overhead {1 / model_share - 1:.1%}"
    )
    overhead = _overhead(times, len(articles))
    print(
        f"overhead_vs_raw {overhead:.2f}: per article, the fastest time of (c) over the fastest "
        f"of (d), {len(times['c']) // len(articles)} timings each"
    )
    sustained_runs = {run.label: round(run.per_minute, 2) for run in runs}
    print(json.dumps({"seconds_per_article": per_article, "peak_rss_mb": rss, "c_stages": shares,
                      "sustained_articles_per_min": sustained_runs}))  # fmt: skip
    # The worker as deployed, when measured: its model process's peak, batches included.
    worker_rss = runs[0].worker_rss_mb if runs else rss["c"]
    line = (
        f"speedup_vs_plain={per_article['a'] / per_article['c']:.1f} "
        f"overhead_vs_raw={overhead:.2f} "
        f"articles_per_min={60 / per_article['c']:.1f} "
    )
    if runs:
        line += f"sustained_articles_per_min={runs[0].per_minute:.1f} "
    line += f"rss_mb={worker_rss:.0f}"
    if floor is not None:
        line += f" stage_floor_per_min={floor.per_minute:.1f}"
    print(line)


def _overhead(times: dict[str, list[float]], articles: int) -> float:
    """(c) over (d), each article at its fastest: the least disturbed timing of each is the
    nearest to what the code costs."""
    fastest = {
        name: sum(min(times[name][index::articles]) for index in range(articles))
        for name in ("c", "d")
    }
    return fastest["c"] / fastest["d"]


if __name__ == "__main__":
    main()
