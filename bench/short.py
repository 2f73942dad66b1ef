"""How long a LibreTranslate or DeepL text waits for its answer while long articles are being
translated: the short-text queue's reason to exist.

    make bench-short   (or: python -m bench.short [--requests N] [--shared-requests M]
                                                [--articles K] [--tiny])

On the published architectures with random weights and forced output lengths (as `make
bench`; `--tiny`: the test suite's tiny models), two services of its own are started one
after the other, each with its Redis, `vertaal serve` and workers:

  deployed  as `vertaal up` and docker-compose run it: a worker for articles (`vertaal`) and
            one for short texts (`vertaal-short`);
  shared    one worker taking every queue (`vertaal worker` with its defaults).

In each, K long articles (the example articles, made distinct so no cache or join helps) are
queued with summaries, and then N toots, each different, are sent one after another to
`POST /translate` as Mastodon sends them (JSON, HTML), timing each answer. The last line reads:
    short_p50_ms=… short_p99_ms=… shared_p50_ms=… shared_p99_ms=… p50_ratio=…
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from bench.models import BenchModels, build_models, build_tiny_models, distinct_articles
from bench.stack import running_service

SETUPS = {
    "deployed": (("--queues", "vertaal"), ("--queues", "vertaal-short")),
    "shared": ((),),
}


def toot(n: int) -> str:
    return (
        f"<p>Het kabinet trekt {n} miljoen euro extra uit voor de dijken langs de rivieren, "
        f'zei de minister dinsdag. <a href="https://example.nl/{n}">Lees meer</a></p>'
    )


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def measure(base: str, requests: int, long_articles: list[str], first: int) -> list[float]:
    """Milliseconds for each of `requests` toots sent while the articles are in the queue."""
    with httpx.Client(base_url=base, timeout=300) as client:
        # Warm-up: each worker loads its models on its first piece of work.
        answer = client.post("/translate", json=_toot_request(first - 1))
        answer.raise_for_status()
        job = client.post("/api/v1/jobs", json={"text": long_articles[0][:400] + "."}).json()
        _wait_done(client, [job["id"]])
        ids = [client.post("/api/v1/jobs", json={"text": text}).json()["id"]
               for text in long_articles]  # fmt: skip
        time.sleep(1)  # the article worker has taken its first article
        times = []
        for n in range(first, first + requests):
            started = time.perf_counter()
            answer = client.post("/translate", json=_toot_request(n))
            times.append((time.perf_counter() - started) * 1000)
            if answer.status_code != 200:
                raise RuntimeError(f"toot {n}: {answer.status_code} {answer.text[:200]}")
        busy = sum(client.get(f"/api/v1/jobs/{i}").json()["status"] != "done" for i in ids)
        if not busy:
            print("  warning: the articles were all done before the last toot; queue more")
        _cancel(client, ids)
    return times


def _toot_request(n: int) -> dict[str, str]:
    return {"q": toot(n), "source": "nl", "target": "en", "format": "html", "api_key": ""}


def _wait_done(client: httpx.Client, ids: list[str]) -> None:
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if all(client.get(f"/api/v1/jobs/{i}").json()["status"] == "done" for i in ids):
            return
        time.sleep(0.5)
    raise RuntimeError("the warm-up job did not finish")


def _cancel(client: httpx.Client, ids: list[str]) -> None:
    for job_id in ids:
        client.delete(f"/api/v1/jobs/{job_id}")


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=40, help="toots, deployed set-up")
    parser.add_argument(
        "--shared-requests", type=int, default=10,
        help="toots, shared set-up (each waits for an article: fewer fit in the queue's time)",
    )  # fmt: skip
    parser.add_argument("--articles", type=int, default=12, help="long articles queued")
    parser.add_argument("--tiny", action="store_true", help="the test suite's tiny models")
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    options = parser().parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        models = build_tiny_models(Path(folder)) if options.tiny else build_models()
        run(models, options)


def run(
    models: BenchModels, options: argparse.Namespace, env: dict[str, str] | None = None
) -> None:
    long_articles = distinct_articles(options.articles)
    results: dict[str, list[float]] = {}
    requests = {"deployed": options.requests, "shared": options.shared_requests}
    for number, (name, workers) in enumerate(SETUPS.items()):
        print(f"{name}: {len(workers)} worker(s), {options.articles} articles queued ...")
        # A generous wait: a toot stuck behind an article is measured, not refused.
        settings = {"VERTAAL_SHORT_WAIT": "300", **(env or {})}
        with running_service(models, workers, settings) as service:
            results[name] = measure(
                service.url, requests[name], long_articles, first=1000 * (number + 1)
            )
    report(results)


def report(results: dict[str, list[float]]) -> None:
    print(f"{'set-up':<10}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'toots':>7}")
    figures = {}
    for name, times in results.items():
        figures[name] = (statistics.median(times), percentile(times, 0.99))
        print(f"{name:<10}{figures[name][0]:>9.0f}{figures[name][1]:>9.0f}{max(times):>9.0f}"
              f"{len(times):>7}")  # fmt: skip
    (p50, p99), (shared50, shared99) = figures["deployed"], figures["shared"]
    print(
        f"short_p50_ms={p50:.0f} short_p99_ms={p99:.0f} shared_p50_ms={shared50:.0f} "
        f"shared_p99_ms={shared99:.0f} p50_ratio={shared50 / p50:.1f}"
    )


if __name__ == "__main__":
    main()
