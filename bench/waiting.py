"""Many waiting clients must not take the web from everyone else: `make bench-waiting`.

    make bench-waiting   (or: python -m bench.waiting [--clients N] [--batch-seconds S]
                                                     [--threads T ...])

For each web thread count given (default: 4, the old default, and the current setting),
starts a Redis, `vertaal serve` (gunicorn, as deployed: VERTAAL_WEB_PROCESSES processes of T
threads) and one deliberately slow short-text worker (tests/slow_backend.py: every batch
takes S seconds, on the test suite's tiny models), all on free loopback ports. It measures
`GET /api/v1/health` idle; then N LibreTranslate clients send a toot each (all different,
as Mastodon sends them; they arrive over --ramp-seconds, and the slow worker keeps most of
them waiting together for N x S seconds) and wait for their answers, while health is
measured again and an article job is polled (`GET /api/v1/jobs/{id}?view=status`) the
whole time.

Per setup it prints health p50/p99 idle and under the wait, how many polls answered, and
the clients' outcomes. The last line reads (for the last setup):
    threads=… idle_p99_ms=… waiting_p99_ms=… p99_ratio=… polls_ok=… polls_failed=… clients_ok=…
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.models import build_tiny_models
from bench.stack import free_port, stopped
from cli.stack import queue_options, start_redis
from workers.settings import Settings

ROOT = Path(__file__).parents[1]


def toot(n: int) -> dict[str, str]:
    text = f"<p>Het kabinet trekt {n} miljoen euro extra uit voor de dijken, zei de minister.</p>"
    return {"q": text, "source": "nl", "target": "en", "format": "html", "api_key": ""}


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


@contextmanager
def slow_service(models: Path, threads: int, batch_seconds: float) -> Iterator[str]:
    """Redis, `vertaal serve` with `threads` threads per process and one slow short-text
    worker; yields the base URL once the web answers and the worker has answered once."""
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        redis_url = f"redis://127.0.0.1:{free_port()}/0"
        redis = start_redis(redis_url, folder / "redis", queue_options("1gb"))
        stack.callback(stopped, redis)
        port = free_port()
        env = {
            **os.environ, "VERTAAL_REDIS_URL": redis_url, "VERTAAL_PORT": str(port),
            "VERTAAL_WEB_THREADS": str(threads),
            "VERTAAL_TRANSLATION_MODEL": str(models / "marian"),
            "VERTAAL_SUMMARY_MODEL": str(models / "bart"), "VERTAAL_THREADS": "1",
            "VERTAAL_SHORT_WAIT": "120", "VERTAAL_RATE_LIMIT": "1000000/minute",
            "VERTAAL_READ_RATE_LIMIT": "1000000/minute", "TEST_BATCH_SECONDS": str(batch_seconds),
            "HF_HUB_OFFLINE": "1",
        }  # fmt: skip
        slow = {**env, "VERTAAL_ENGINE": "slow"}  # the worker's engine only
        for name, args, environment in (
            ("web", ["-m", "cli", "serve"], env),
            ("worker", ["-m", "tests.slow_backend", "worker", "--queues", "vertaal-short"], slow),
        ):
            log = (folder / f"{name}.log").open("wb")
            process = subprocess.Popen(
                [sys.executable, *args], env=environment, cwd=ROOT, stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
            stack.callback(log.close)
            stack.callback(stopped, process)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_for(lambda: httpx.get(f"{base}/api/v1/health", timeout=5).status_code == 200)
            _wait_for(lambda: httpx.post(f"{base}/translate", json=toot(0), timeout=120).is_success)
        except RuntimeError:
            for found in sorted(folder.glob("*.log")):
                print(f"--- {found.name}\n{found.read_text(errors='replace')[-3000:]}")
            raise
        yield base


def _wait_for(condition: object, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():  # type: ignore[operator]
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the service did not come up within {timeout:g} s")


def health_times(base: str, stop: threading.Event, samples: int | None = None) -> list[float]:
    """Milliseconds per `GET /api/v1/health`, one every 20 ms, until `stop` (or `samples`);
    a failed probe (a reset connection, an error status) counts as infinitely slow."""
    times: list[float] = []
    with httpx.Client(base_url=base, timeout=120) as client:
        while not stop.is_set() and (samples is None or len(times) < samples):
            started = time.perf_counter()
            try:
                ok = client.get("/api/v1/health").is_success
            except httpx.HTTPError:
                ok = False
            times.append((time.perf_counter() - started) * 1000 if ok else math.inf)
            time.sleep(0.02)
    return times


def polls(base: str, job_id: str, token: str, stop: threading.Event) -> tuple[int, int]:
    """(answered, failed) polls of a job's status view, every 100 ms, until `stop`; as its
    anonymous sender (the job's token: another sender gets a 404)."""
    answered = failed = 0
    headers = {"X-Job-Token": token}
    with httpx.Client(base_url=base, timeout=10, headers=headers) as client:
        while not stop.is_set():
            try:
                ok = client.get(f"/api/v1/jobs/{job_id}", params={"view": "status"}).is_success
            except httpx.HTTPError:
                ok = False
            answered, failed = answered + ok, failed + (not ok)
            time.sleep(0.1)
    return answered, failed


@dataclass(frozen=True)
class Figures:
    threads: int
    idle: list[float]
    waiting: list[float]
    polls: tuple[int, int]
    clients: list[tuple[int, float]]  # (status, seconds) per client


def measure(base: str, threads: int, clients: int, ramp: float) -> Figures:
    # As many probes idle as the wait will take (about N x S seconds): like with like.
    idle = health_times(base, threading.Event(), samples=600)
    job = httpx.post(f"{base}/api/v1/jobs", json={"text": "De dijken worden versterkt."})
    job_id, token = job.json()["id"], job.json()["token"]  # stays queued: no article worker
    stop = threading.Event()
    with ThreadPoolExecutor(clients + 2) as pool:
        health = pool.submit(health_times, base, stop)
        poller = pool.submit(polls, base, job_id, token, stop)
        time.sleep(0.5)

        def client(n: int) -> tuple[int, float]:
            time.sleep(ramp * n / clients)  # clients arrive over the ramp, then all wait
            started = time.monotonic()
            answer = httpx.post(f"{base}/translate", json=toot(n), timeout=180)
            return answer.status_code, time.monotonic() - started

        outcomes = list(pool.map(client, range(1, clients + 1)))
        stop.set()
        return Figures(threads, idle, health.result(), poller.result(), outcomes)


def report(figures: Figures) -> str:
    idle99, wait99 = percentile(figures.idle, 0.99), percentile(figures.waiting, 0.99)
    ok = sum(status == 200 for status, _ in figures.clients)
    slowest = max(seconds for _, seconds in figures.clients)
    print(
        f"threads={figures.threads}: health idle p50 {statistics.median(figures.idle):.1f} ms "
        f"p95 {percentile(figures.idle, 0.95):.1f} ms p99 {idle99:.1f} ms; while "
        f"{len(figures.clients)} clients wait p50 {statistics.median(figures.waiting):.1f} ms "
        f"p95 {percentile(figures.waiting, 0.95):.1f} ms p99 {wait99:.1f} ms "
        f"({len(figures.waiting)} probes, {figures.waiting.count(math.inf)} failed); "
        f"polls {figures.polls[0]} answered, "
        f"{figures.polls[1]} failed; clients {ok} answered 200, slowest {slowest:.1f} s"
    )
    return (
        f"threads={figures.threads} idle_p99_ms={idle99:.1f} waiting_p99_ms={wait99:.1f} "
        f"p99_ratio={wait99 / idle99:.1f} polls_ok={figures.polls[0]} "
        f"polls_failed={figures.polls[1]} clients_ok={ok}"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--batch-seconds", type=float, default=0.25)
    parser.add_argument("--ramp-seconds", type=float, default=2.0, help="clients arrive over")
    parser.add_argument(
        "--threads", type=int, nargs="+", default=[4, Settings().web_threads],
        help="web threads per process, one setup each",
    )  # fmt: skip
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        build_tiny_models(Path(folder))
        last = ""
        for threads in options.threads:
            with slow_service(Path(folder), threads, options.batch_seconds) as base:
                last = report(measure(base, threads, options.clients, options.ramp_seconds))
    print(last)


if __name__ == "__main__":
    main()
