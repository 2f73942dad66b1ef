"""The web under 200 clients at once: `make bench-load`.

    make bench-load     (or: python -m bench.load [--users N] [--seconds S])

Starts a Redis, `vertaal serve` (gunicorn, as deployed) and a worker of its own on free
loopback ports, with the test suite's tiny models (the load is on the web, not the models).
The worker translates one article, whose result is then cached, and stops: what is measured
is the web alone. One more job is kept running by this script, its progress moved once a
second as a worker's is. Then locust (headless, in its own virtual environment,
.venv-load, which `make bench-load` creates) runs N users for S seconds, each one polling the
running job's status view and the finished job, both with If-None-Match, checking health,
and now and then submitting an article, new or cached (bench/locustfile.py). Rate limits are
lifted for the run: the capacity is measured, not the limits.

It prints p50 and p99 per kind of request, the failures, and the web's requests per second.
The last line reads:
    poll_p99_ms=… health_p99_ms=… poll_vs_health=… errors=… requests_per_s=…
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from bench.models import build_tiny_models, distinct_articles
from bench.stack import running_service

ROOT = Path(__file__).parents[1]
LOCUST = ROOT / ".venv-load" / "bin" / "locust"


def percentile(histogram: dict[str, int], share: float) -> float:
    """The response time (ms) below which `share` of the requests fell."""
    times = sorted((float(ms), count) for ms, count in histogram.items())
    wanted, seen = share * sum(count for _, count in times), 0
    for ms, count in times:
        seen += count
        if seen >= wanted:
            return ms
    return times[-1][0] if times else 0.0


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--locust", type=Path, default=LOCUST, help="the locust to run")
    options = parser.parse_args(argv)
    if not options.locust.exists():
        sys.exit(
            f"{options.locust} is missing: run `make bench-load`, which installs locust in "
            ".venv-load (apart from Vertaal: locust patches the standard library)"
        )
    with tempfile.TemporaryDirectory() as folder:
        models = build_tiny_models(Path(folder) / "models")
        env = {"VERTAAL_CONVERTED_DIR": str(Path(folder) / "converted")}
        with running_service(models, [("--queues", "vertaal")], env) as service:
            stats = _load(service.url, service.redis_url, service.workers[0], options, folder)
    report(stats)


def _load(url: str, redis_url: str, worker: subprocess.Popen[bytes], options: argparse.Namespace,
          folder: str) -> list[dict]:  # type: ignore[type-arg]  # fmt: skip
    from workers.connections import redis_client
    from workers.jobs.leases import Leases
    from workers.jobs.record import Progress
    from workers.jobs.store import JobStore

    cached, running = distinct_articles(2)
    with httpx.Client(base_url=url, timeout=60) as client:
        submitted = client.post("/api/v1/jobs", json={"text": cached}).json()
        done, token = submitted["id"], submitted["token"]  # both jobs: this client's session
        while client.get(f"/api/v1/jobs/{done}?view=status").json()["status"] != "done":
            time.sleep(0.2)
        worker.terminate()  # from here on, the web alone
        worker.wait(timeout=60)
        moving = client.post("/api/v1/jobs", json={"text": running}).json()["id"]
    store = JobStore(redis_client(redis_url), ttl=3600)
    job = store.get(moving)
    assert job is not None and job.delivery is not None
    leases = Leases(store)
    leases.start(moving, job.delivery, "bench.load", lease=600, cap=3)
    stop = threading.Event()

    def progress() -> None:  # as a worker's progress moves: once a second
        done_sentences = 0
        while not stop.wait(1.0):
            done_sentences += 1
            leases.renew(moving, job.delivery or "", lease=600,
                        progress=Progress(done_sentences, 10_000, "translate", 1))  # fmt: skip

    mover = threading.Thread(target=progress, daemon=True)
    mover.start()
    out = Path(folder) / "locust"
    command = [
        str(options.locust), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
        "-u", str(options.users), "-r", str(max(1, options.users // 4)),
        "-t", f"{options.seconds}s", "--host", url, "--only-summary", "--reset-stats",
        "--json-file", str(out), "--loglevel", "WARNING",
    ]  # fmt: skip
    environment = {**os.environ, "VERTAAL_LOAD_RUNNING": moving, "VERTAAL_LOAD_DONE": done,
                   "VERTAAL_LOAD_CACHED": cached, "VERTAAL_LOAD_TOKEN": token}  # fmt: skip
    print(f"locust: {options.users} users for {options.seconds} s against {url} ...", flush=True)
    finished = subprocess.run(command, env=environment, capture_output=True, text=True)
    stop.set()
    mover.join()
    if not (out.with_suffix(".json")).exists():
        sys.exit(f"locust failed ({finished.returncode}):\n{finished.stderr[-3000:]}")
    errors = [line for line in finished.stdout.splitlines() + finished.stderr.splitlines()
              if "Error" in line or "failure" in line.lower()]  # fmt: skip
    for line in errors[:20]:
        print("  " + line)
    stats: list[dict] = json.loads(out.with_suffix(".json").read_text())  # type: ignore[type-arg]
    return stats


def report(stats: list[dict]) -> None:  # type: ignore[type-arg]
    print(f"{'request':<30}{'count':>8}{'failed':>8}{'p50 ms':>9}{'p99 ms':>9}{'req/s':>8}")
    rows = {}
    total = failed = 0
    first = min(s["start_time"] for s in stats)
    last = max(s["last_request_timestamp"] or s["start_time"] for s in stats)
    for entry in sorted(stats, key=lambda s: s["name"]):
        seconds = max(1e-9, (entry["last_request_timestamp"] or 0) - entry["start_time"])
        p50, p99 = (percentile(entry["response_times"], q) for q in (0.5, 0.99))
        rows[entry["name"]] = (p50, p99)
        total += entry["num_requests"]
        failed += entry["num_failures"]
        print(f"{entry['name']:<30}{entry['num_requests']:>8}{entry['num_failures']:>8}"
              f"{p50:>9.0f}{p99:>9.0f}{entry['num_requests'] / seconds:>8.1f}")  # fmt: skip
    poll = max(p99 for name, (_, p99) in rows.items() if name.startswith("poll"))
    health = rows["health"][1]
    print(
        f"poll_p99_ms={poll:.0f} health_p99_ms={health:.0f} "
        f"poll_vs_health={poll / max(health, 1):.1f} errors={failed} "
        f"requests_per_s={total / max(1e-9, last - first):.0f}"
    )


if __name__ == "__main__":
    main()
