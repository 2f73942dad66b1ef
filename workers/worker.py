"""Worker start-up, for `vertaal worker`: check the models, tell the web process what this
worker produces, then run Celery's prefork worker on the job queue.

The main process also keeps two threads of upkeep, each with Redis and Celery clients of its
own (the prefork children never inherit a connection in use): one beats the heartbeat (what
`/api/v1/ready` reads), offers to sweep (`jobs/sweeper.py`; one worker at a time does a
round) and trims the job-ends stream; the other consumes that stream (`operations/ends.py`):
webhooks, metrics, usage and the log line of every job's end. On a warm shutdown (SIGTERM)
the jobs this worker runs go back to the queue at once, their attempts not counted, so a
deploy or a scale-in never costs a job an attempt or waits for a long batch.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
import warnings
from typing import Any

from celery import Celery
from celery.exceptions import SecurityWarning
from celery.signals import worker_ready, worker_shutdown, worker_shutting_down

from workers.cache import publish_signature
from workers.celery_app import QUEUE, SHORT_QUEUE, WEBHOOK_QUEUE, create_celery
from workers.connections import RedisUnavailable, new_redis_client, redis_client
from workers.engines.signature import worker_signature
from workers.errors import ConfigurationError
from workers.jobs.leases import Leases, hand_back_all
from workers.jobs.store import JobStore
from workers.jobs.sweeper import Sweeper
from workers.operations import ends, heartbeats
from workers.operations.logs import connect_celery_logging
from workers.settings import Settings

log = logging.getLogger(__name__)


def consequences(app: Celery) -> list[ends.Consequence]:
    """Everything that follows a job's end, each a consumer group of the job-ends stream."""
    return [ends.LogLine(), ends.Metrics(), ends.Usage(), ends.Webhook(app.send_task)]


class Upkeep(threading.Thread):
    """Heartbeats, sweeps, trimming and, while stopping, handing jobs back; a Redis outage
    only skips a round."""

    def __init__(self, settings: Settings, name: str, *, translating: bool = True) -> None:
        super().__init__(name="vertaal-upkeep", daemon=True)
        self.settings = settings
        self.worker_name = name
        # Only workers that translate count for /ready; a callbacks-only one still sweeps.
        self.translating = translating
        self.stopping = threading.Event()
        self.draining = threading.Event()
        self.client = new_redis_client(settings.redis_url)
        self.app = create_celery(settings)
        store = JobStore(self.client, settings.job_ttl)
        self.leases = Leases(store)
        self.sweeper = Sweeper(
            store, self.app, check_after=settings.lease_seconds, every=settings.sweep_seconds,
            name=name,
        )  # fmt: skip
        self.groups = [c.group for c in consequences(self.app)]

    def run(self) -> None:
        every = self.settings.heartbeat_seconds
        info = {"pid": os.getpid(), "processes": self.settings.worker_processes}
        next_sweep = 0.0
        while not self.stopping.is_set():
            try:
                if self.draining.is_set():
                    self._hand_back()
                elif self.translating:
                    heartbeats.beat(self.client, self.worker_name, info, every)
                if time.monotonic() >= next_sweep:
                    next_sweep = time.monotonic() + self.settings.sweep_seconds
                    if self.sweeper.sweep() is not None:
                        ends.trim(self.client, self.groups, self.settings.ends_retention)
            except RedisUnavailable as error:
                log.warning("upkeep skipped a round: Redis is not answering (%s)", error)
            except Exception:  # upkeep must outlive any one bad round
                log.exception("upkeep round failed")
            wait = 0.5 if self.draining.is_set() else min(every, self.settings.sweep_seconds)
            self.stopping.wait(wait)
        with contextlib.suppress(*RedisUnavailable):
            heartbeats.depart(self.client, self.worker_name)

    def _hand_back(self) -> None:
        """While stopping, give back whatever this worker still runs (a batch may claim one
        more article in between: it goes back at the next round)."""
        heartbeats.depart(self.client, self.worker_name)
        prefix = f"{self.worker_name} pid "
        hand_back_all(self.leases, self.app, prefix, check_after=self.settings.lease_seconds)


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


def _quiet_options(loglevel: str) -> list[str]:
    """Above INFO (`vertaal up` without -v runs three workers on one console), no start-up
    banner, and no SecurityWarning about running as root: it warns of pickled messages, and
    this app accepts JSON alone (workers/celery_app.py)."""
    if logging.getLevelNamesMapping().get(loglevel.upper(), logging.INFO) <= logging.INFO:
        return []
    warnings.filterwarnings("ignore", category=SecurityWarning)
    return ["--quiet"]


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
    consumer = ends.EndConsumer(
        new_redis_client(settings.redis_url), name, consequences(upkeep.app),
        claim_idle=settings.lease_seconds,
    )  # fmt: skip
    listening = ends.EndsThread(consumer)

    def start_upkeep(**_: Any) -> None:
        upkeep.start()
        listening.start()

    def drain(**_: Any) -> None:
        upkeep.draining.set()

    def stop_upkeep(**_: Any) -> None:
        for thread in (upkeep, listening):
            thread.stopping.set()
        for thread in (upkeep, listening):
            thread.join(timeout=10)

    worker_ready.connect(start_upkeep, weak=False)
    worker_shutting_down.connect(drain, weak=False)
    worker_shutdown.connect(stop_upkeep, weak=False)
    app.worker_main(
        [
            *_quiet_options(loglevel),
            "worker",
            f"--hostname={name}",
            f"--concurrency={settings.worker_processes}",
            "--pool=prefork",
            f"--loglevel={loglevel}",
            f"--queues={','.join(queues)}",
            f"--hostname={name}",
            "--without-gossip",
            "--without-mingle",
        ]
    )
