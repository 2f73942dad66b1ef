"""`vertaal worker-alive`: the liveness probe of a worker's container, read from its heartbeat.

A worker's main process beats into Redis every VERTAAL_HEARTBEAT_SECONDS (what
`/api/v1/ready` counts). The probe fails only when Redis answers and no worker on this host
beat lately: its main process hangs, and a restart helps. When Redis itself does not answer
the probe passes, so a Redis outage or failover restarts no worker.
"""

from __future__ import annotations

import sys
import time

import click

from cli.exits import exits_cleanly, stderr
from workers.connections import RedisUnavailable, new_redis_client
from workers.settings import load_settings


@click.command("worker-alive")
@exits_cleanly
def worker_alive() -> None:
    """Exit 0 while a worker on this host beats (or Redis is away); 1 when its beat is stale."""
    from workers.operations import heartbeats
    from workers.worker import runs_on_this_host

    settings = load_settings()
    cutoff = time.time() - settings.heartbeat_seconds * heartbeats.MISSED_BEATS
    try:
        with new_redis_client(settings.redis_url) as client:
            names = [n.decode() for n in client.zrangebyscore(heartbeats.WORKERS, cutoff, "+inf")]
    except RedisUnavailable as problem:
        click.echo(f"Redis is not answering ({problem}); not the worker's fault")
        return
    alive = [name for name in names if runs_on_this_host(name)]
    if not alive:
        stderr.print("no worker on this host beat lately", highlight=False)
        sys.exit(1)
    click.echo(" ".join(alive))
