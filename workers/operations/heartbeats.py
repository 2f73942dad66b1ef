"""Worker heartbeats in Redis: which workers are alive, answered in one round trip.

Each worker's main process beats every VERTAAL_HEARTBEAT_SECONDS; a worker that missed three
beats counts as gone. Beats are stamped with the Redis server's clock, never a host's.
`/api/v1/ready` reads this instead of pinging the workers over the broker (which waits a
second for replies that may never come).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import redis

from workers.connections import server_seconds

WORKERS = "vertaal:workers"
WORKER_INFO = "vertaal:worker:"
MISSED_BEATS = 3


def beat(client: redis.Redis, name: str, info: Mapping[str, Any], every: float) -> None:
    now = server_seconds(client)
    with client.pipeline() as pipe:
        pipe.zadd(WORKERS, {name: now})
        pipe.set(WORKER_INFO + name, json.dumps(dict(info)), ex=max(1, int(every * MISSED_BEATS)))
        pipe.execute()


def depart(client: redis.Redis, name: str) -> None:
    """A worker stopping cleanly leaves at once."""
    with client.pipeline() as pipe:
        pipe.zrem(WORKERS, name)
        pipe.delete(WORKER_INFO + name)
        pipe.execute()


def live_workers(client: redis.Redis, every: float) -> int:
    """Workers that beat within the last three beats (older entries are dropped)."""
    cutoff = server_seconds(client) - every * MISSED_BEATS
    with client.pipeline() as pipe:
        pipe.zremrangebyscore(WORKERS, "-inf", cutoff)
        pipe.zcard(WORKERS)
        return int(pipe.execute()[1])


def live_processes(client: redis.Redis, every: float) -> int:
    """Worker processes that take articles, over the live workers (each beats its own
    count); at least 1, for the worker that asks."""
    cutoff = server_seconds(client) - every * MISSED_BEATS
    names = client.zrangebyscore(WORKERS, cutoff, "+inf")
    if not names:
        return 1
    infos = client.mget([WORKER_INFO + name.decode() for name in names])
    processes = 0
    for info in infos:
        try:
            processes += max(1, int(json.loads(info or "{}").get("processes", 1)))
        except (ValueError, TypeError, AttributeError):
            processes += 1
    return max(1, processes)
