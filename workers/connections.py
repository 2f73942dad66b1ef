"""Redis connections that fail fast.

A web request must answer 503 within a couple of seconds when Redis is down, not hang on
retries, so every client gets short socket timeouts and no automatic retry.
"""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

CONNECT_TIMEOUT = 1.0
SOCKET_TIMEOUT = 5.0

# What "Redis is unavailable" looks like to callers.
RedisUnavailable = (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError)


@functools.cache
def redis_client(url: str) -> redis.Redis:
    """One client (with its connection pool) per URL and process; redis-py re-creates the
    pool's connections after a fork, so prefork worker children can share this."""
    return new_redis_client(url)


def new_redis_client(url: str) -> redis.Redis:
    """A client with a pool of its own: for a thread of a worker's main process, whose pool
    its prefork children must never inherit mid-use."""
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=CONNECT_TIMEOUT,
        socket_timeout=SOCKET_TIMEOUT,
        retry=Retry(NoBackoff(), 0),
        health_check_interval=30,
    )


def server_seconds(client: redis.Redis) -> float:
    """The Redis server's clock: what every deadline and heartbeat is measured by, so that
    hosts whose own clocks disagree still agree on which lease lapsed and who is alive."""
    seconds, micros = client.time()
    return int(seconds) + int(micros) / 1_000_000


def redis_location(url: str) -> str:
    """Where a Redis URL points, for messages: host and port, never its password."""
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 6379}"
