"""Scale-out: what a second worker buys.

    make bench-scale      (or: python -m bench.scale [--articles N] [--translation-model DIR
                           --summary-model DIR])

The sustained benchmark of bench/run.py (N distinct articles submitted at once to a live
service, timed from the first submit to the last done), twice on this machine:

  one: one worker process of one CPU thread (on host a);
  two: two worker processes of one thread each, each on a simulated host of its own (a and
       b): its own HOME and XDG cache, its own converted-model cache (VERTAAL_CONVERTED_DIR),
       its own worker name (vertaal@<host>-<pid>; a real second host differs in its hostname
       too).

Each host converts its models before the clock starts, and warm-up jobs run until every
worker has taken one (so every worker loaded its models). Printed: articles per minute of
each, the scaling ratio, each worker's peak RSS, and the closing line
    scale_ratio=… one_articles_per_min=… two_articles_per_min=… per_core=… rss_mb=…
(per_core: articles a minute per CPU thread, from the two-worker run). The models default to
the benchmark's random-weight models of the published architectures (bench/models.py) with
forced output lengths; figures mean something only on a quiet machine.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.models import BenchModels, build_models, distinct_articles
from bench.run import _peak_mb, _wait_all
from bench.stack import running_service
from workers.connections import redis_client
from workers.jobs.layout import KEY_PREFIX

WARM_UP_ROUNDS = 5


@dataclass(frozen=True)
class Run:
    label: str
    articles: int
    seconds: float
    rss_mb: list[float]
    names: list[str]

    @property
    def per_minute(self) -> float:
        return 60 * self.articles / self.seconds


def simulated_host(root: Path, models: BenchModels) -> dict[str, str]:
    """The environment of a host of its own, its models converted already (as `vertaal
    models convert` does, in this process)."""
    from workers.engines.ctranslate2 import convert
    from workers.engines.loading import quiet_transformers, resolve_model

    quiet_transformers()
    for path, role in ((models.translation, "translation"), (models.summary, "summary")):
        convert(resolve_model(str(path), role), root / "ctranslate2", "int8")
    return {
        "HOME": str(root),
        "XDG_CACHE_HOME": str(root / "cache"),
        "VERTAAL_CONVERTED_DIR": str(root / "ctranslate2"),
        "VERTAAL_THREADS": "1",
        "VERTAAL_WORKER_PROCESSES": "1",
    }


def sustained(models: BenchModels, hosts: Sequence[Mapping[str, str]], count: int) -> Run:
    """`count` distinct articles for one worker per host, after a warm-up on every worker."""
    texts = distinct_articles(count + WARM_UP_ROUNDS * len(hosts))
    workers = [("--queues", "vertaal")] * len(hosts)
    with running_service(models, workers, worker_env=hosts) as service:
        with httpx.Client(base_url=service.url, timeout=60) as client:
            names = _warm_up(client, service.redis_url, texts[count:], len(hosts))
            started = time.perf_counter()
            ids = [
                client.post("/api/v1/jobs", json={"text": t}).json()["id"] for t in texts[:count]
            ]
            _wait_all(client, ids)
            seconds = time.perf_counter() - started
        rss = [_peak_mb(worker.pid) for worker in service.workers]
    label = f"{len(hosts)} worker process{'es' if len(hosts) > 1 else ''} of 1 thread"
    return Run(label, count, seconds, rss, names)


def _warm_up(client: httpx.Client, redis_url: str, texts: list[str], workers: int) -> list[str]:
    """Short jobs until each worker has run one; the workers' names."""
    names: set[str] = set()
    for round_ in range(WARM_UP_ROUNDS):
        batch = texts[round_ * workers : (round_ + 1) * workers]
        ids = [
            client.post("/api/v1/jobs", json={"text": t[:400] + "."}).json()["id"] for t in batch
        ]
        _wait_all(client, ids)
        for job_id in ids:
            worker = redis_client(redis_url).hget(KEY_PREFIX + job_id, "worker") or b""
            names.add(worker.decode().split(" ")[0])
        if len(names) >= workers:
            return sorted(names)
    raise RuntimeError(f"only {sorted(names)} of {workers} workers took a warm-up job")


def report(one: Run, two: Run) -> None:
    for run in (one, two):
        rss = ", ".join(f"{mb:,.0f}" for mb in run.rss_mb)
        print(
            f"{run.label}: {run.articles} articles in {run.seconds:.1f} s = "
            f"{run.per_minute:.1f} articles/min; peak RSS {rss} MB; {', '.join(run.names)}"
        )
    ratio = two.per_minute / one.per_minute
    print(
        f"scale_ratio={ratio:.2f} one_articles_per_min={one.per_minute:.1f} "
        f"two_articles_per_min={two.per_minute:.1f} per_core={two.per_minute / 2:.1f} "
        f"rss_mb={max(one.rss_mb + two.rss_mb):.0f}"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=12, help="articles timed per run")
    parser.add_argument("--translation-model", type=Path, help="default: the bench's own")
    parser.add_argument("--summary-model", type=Path, help="default: the bench's own")
    args = parser.parse_args(argv)
    if args.translation_model and args.summary_model:
        models = BenchModels(args.translation_model, args.summary_model)
    else:
        built = build_models()
        models = BenchModels(
            args.translation_model or built.translation, args.summary_model or built.summary
        )
    with tempfile.TemporaryDirectory() as folder:
        hosts = [simulated_host(Path(folder) / f"host-{n}", models) for n in ("a", "b")]
        one = sustained(models, hosts[:1], args.articles)
        two = sustained(models, hosts, args.articles)
    report(one, two)


if __name__ == "__main__":
    main()
