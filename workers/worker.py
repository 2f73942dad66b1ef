"""Worker start-up, for `vertaal worker`: check the models, tell the web process what this
worker produces, then run Celery's prefork worker on the job queue.

The main process also keeps a thread for upkeep: a heartbeat (what `/api/v1/ready` reads) and
the sweeper that queues again the jobs whose worker died. It uses Redis and Celery clients of
its own, so the prefork children never inherit a connection in use.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from typing import Any

from celery.signals import worker_ready, worker_shutdown

from workers import heartbeats
from workers.cache import publish_signature
from workers.celery_app import QUEUE, SHORT_QUEUE, WEBHOOK_QUEUE, create_celery
from workers.connections import RedisUnavailable, new_redis_client, redis_client
from workers.engines.signature import worker_signature
from workers.errors import ConfigurationError
from workers.jobs import JobStore
from workers.logs import connect_celery_logging
from workers.settings import Settings
from workers.sweeper import Sweeper

log = logging.getLogger(__name__)


class Upkeep(threading.Thread):
    """Heartbeats and sweeps until stopped; a Redis outage only skips a round."""

    def __init__(self, settings: Settings, name: str, *, translating: bool = True) -> None:
        super().__init__(name="vertaal-upkeep", daemon=True)
        self.settings = settings
        self.worker_name = name
        # Only workers that translate count for /ready; a callbacks-only one still sweeps.
        self.translating = translating
        self.stopping = threading.Event()
        self.client = new_redis_client(settings.redis_url)
        store = JobStore(self.client, settings.job_ttl)
        self.sweeper = Sweeper(store, create_celery(settings), check_after=settings.lease_seconds)

    def run(self) -> None:
        every = self.settings.heartbeat_seconds
        info = {"pid": os.getpid(), "processes": self.settings.worker_processes}
        next_sweep = 0.0
        while not self.stopping.is_set():
            try:
                if self.translating:
                    heartbeats.beat(self.client, self.worker_name, info, every)
                if time.monotonic() >= next_sweep:
                    self.sweeper.sweep()
                    next_sweep = time.monotonic() + self.settings.sweep_seconds
            except RedisUnavailable as error:
                log.warning("upkeep skipped a round: Redis is not answering (%s)", error)
            except Exception:  # upkeep must outlive any one bad round
                log.exception("upkeep round failed")
            self.stopping.wait(min(every, self.settings.sweep_seconds))
        with contextlib.suppress(*RedisUnavailable):
            heartbeats.depart(self.client, self.worker_name)


QUEUES = (QUEUE, SHORT_QUEUE, WEBHOOK_QUEUE)


def worker_name() -> str:
    """This worker's name: its Celery node name and its heartbeat's. The pid makes it unique
    per process, so two workers on one host (or two pods with the same hostname) count as
    two for `/api/v1/ready`, Flower and the batch shares, instead of one `celery@<host>`."""
    return f"{_host_prefix()}{os.getpid()}"


def runs_on_this_host(name: str) -> bool:
    """Whether the worker `name` (a heartbeat's) runs on this host: a container's probe."""
    return name.startswith(_host_prefix())


def _host_prefix() -> str:
    return f"vertaal@{socket.gethostname()}-"


def run_worker(
    settings: Settings, loglevel: str = "INFO", queues: tuple[str, ...] = QUEUES
) -> None:
    """Runs until the worker is stopped. Models load later, in each process on its first job:
    Celery kills slow process-init handlers, and torch must not be touched before the fork.
    A worker for callbacks alone (`queues=("vertaal-webhooks",)`) needs no model at all."""
    unknown = set(queues) - set(QUEUES)
    if unknown or not queues:
        raise ConfigurationError(f"a worker takes the queues {', '.join(QUEUES)}, not {unknown}")
    connect_celery_logging(settings.log_format, loglevel)
    app = create_celery(settings)
    if {QUEUE, SHORT_QUEUE} & set(queues):
        publish_signature(redis_client(settings.redis_url), worker_signature(settings))
    name = worker_name()
    upkeep = Upkeep(settings, name, translating=QUEUE in queues)

    def start_upkeep(**_: Any) -> None:
        upkeep.start()

    def stop_upkeep(**_: Any) -> None:
        upkeep.stopping.set()
        upkeep.join(timeout=10)

    worker_ready.connect(start_upkeep, weak=False)
    worker_shutdown.connect(stop_upkeep, weak=False)
    app.worker_main(
        [
            "worker",
            f"--concurrency={settings.worker_processes}",
            "--pool=prefork",
            f"--loglevel={loglevel}",
            f"--queues={','.join(queues)}",
            f"--hostname={name}",
            "--without-gossip",
            "--without-mingle",
        ]
    )
