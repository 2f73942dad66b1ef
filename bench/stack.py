"""A whole Vertaal service for a benchmark, as deployed: a Redis, `vertaal serve` (gunicorn)
and the given workers, all on free ports of their own, with the workers' output lengths
forced (bench/forced.py) when they run on random-weight models."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from bench.forced import forced_env
from cli.stack import queue_options, start_redis

if TYPE_CHECKING:
    from bench.models import BenchModels


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Service:
    url: str
    redis_url: str
    workers: list[subprocess.Popen[bytes]]


def stopped(process: subprocess.Popen[bytes]) -> None:
    """Stopped politely, and killed after a minute."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def running_service(
    models: BenchModels | None,
    workers: Sequence[Sequence[str]] = (),
    env: Mapping[str, str] | None = None,
    worker_env: Sequence[Mapping[str, str]] = (),
) -> Iterator[Service]:
    """Yields the service (its base URL, its worker processes) once the web answers and every
    worker (each given as its `vertaal worker` arguments, and the n-th with `worker_env[n]`
    on top of `env` when given) is up; stops everything on the way out."""
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        redis_url = f"redis://127.0.0.1:{free_port()}/0"
        redis = start_redis(redis_url, folder / "redis", queue_options("2gb"))
        stack.callback(stopped, redis)
        port = free_port()
        environment = {
            **os.environ,
            "VERTAAL_REDIS_URL": redis_url,
            "VERTAAL_PORT": str(port),
            "VERTAAL_RATE_LIMIT": "1000000/minute",
            "VERTAAL_READ_RATE_LIMIT": "1000000/minute",
            "HF_HUB_OFFLINE": "1",
            **forced_env(),
            **(env or {}),
        }
        if models is not None:
            environment["VERTAAL_TRANSLATION_MODEL"] = str(models.translation)
            environment["VERTAAL_SUMMARY_MODEL"] = str(models.summary)

        def start(name: str, *args: str, own: Mapping[str, str]) -> subprocess.Popen[bytes]:
            log = (folder / f"{name}.log").open("wb")
            process = subprocess.Popen(
                [sys.executable, "-m", "bench.forced", *args],
                env={**environment, **own}, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            stack.callback(log.close)
            stack.callback(stopped, process)
            return process

        start("web", "serve", own={})
        started = [
            start(f"worker{n}", "worker", *args, own=worker_env[n] if worker_env else {})
            for n, args in enumerate(workers)
        ]
        base = f"http://127.0.0.1:{port}"
        # /ready counts the workers that take articles (the `vertaal` queue); the others
        # (short texts, callbacks) are ready when their first piece of work is answered.
        articles = sum(1 for w in workers if "--queues" not in w or "vertaal" in _queues(w))
        try:
            _wait_until_ready(base, articles)
        except RuntimeError:
            for log in sorted(folder.glob("*.log")):
                print(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}", file=sys.stderr)
            raise
        yield Service(base, redis_url, started)


def _queues(arguments: Sequence[str]) -> list[str]:
    return arguments[list(arguments).index("--queues") + 1].split(",")


def _wait_until_ready(base: str, workers: int, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    path = "/api/v1/ready" if workers else "/api/v1/health"
    while time.monotonic() < deadline:
        try:
            answer = httpx.get(base + path, timeout=5)
            if answer.status_code == 200 and answer.json().get("workers", 0) >= workers:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the service at {base} was not ready within {timeout:g} s")
