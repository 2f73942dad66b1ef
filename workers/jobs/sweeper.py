"""Finds jobs whose worker is gone and queues them again; one sweeper at a time does it.

Every worker's main process offers to sweep every VERTAAL_SWEEP_SECONDS, but a short lock in
Redis lets only one of them do a round, however many workers there are. A running job whose
lease lapsed lost its worker (a killed child, a killed or crashed worker, a lost host): it is
queued again under a new delivery, or failed as `worker_lost` once it used its last attempt.
Right after the queue's Redis restarted, lapsed leases are left alone for one lease: the
workers were cut off, not dead, and renew as soon as they reconnect.

A queued job is checked after a while for its message: one the broker lost (the web process
died between recording a job and sending it, or a failover lost the last writes) is sent
again. That check reads the one broker structure it must, the queue's Redis list, whose
format (a JSON message with the task id, our delivery id, in `headers.id`) is pinned by a test
against the installed kombu; a message still waiting is checked again later, less often.
"""

from __future__ import annotations

import json
import logging

import redis
from celery import Celery

from workers.celery_app import QUEUE, send_job
from workers.jobs.layout import LEASES, MAX_ATTEMPTS, RUNNING, SWEEP_LOCK
from workers.jobs.store import JobStore, new_delivery, now_iso

log = logging.getLogger(__name__)

# Messages read per round trip while looking through the queue.
PAGE = 500
# A message found waiting is looked for again after this many check intervals, at most.
MAX_BACKOFF = 32


def queued_deliveries(client: redis.Redis, queue: str = QUEUE) -> set[str]:
    """The task ids (delivery ids) of the messages waiting in a queue, read page by page."""
    found: set[str] = set()
    start = 0
    while page := client.lrange(queue, start, start + PAGE - 1):
        for raw in page:
            try:
                found.add(str(json.loads(raw)["headers"]["id"]))
            except (ValueError, KeyError, TypeError):
                continue
        start += PAGE
    return found


def worker_lost_message(worker: str, attempts: int) -> str:
    where = f" (the last time on {worker})" if worker else ""
    return (
        f"the worker running this article stopped before finishing it, {attempts} times"
        f"{where}: its process was killed or its host was lost; it will not be tried again"
    )


class Sweeper:
    def __init__(
        self, store: JobStore, app: Celery, *, check_after: float, every: float, name: str
    ) -> None:
        self.store = store
        self.app = app
        self.check_after = check_after
        self.every = every
        self.name = name

    def sweep(self) -> int | None:
        """One round over the due jobs, if no other sweeper holds this round: the number
        queued again or failed, or None when another sweeper did the round."""
        lock = self.store.redis.set(SWEEP_LOCK, self.name, nx=True, px=int(self.every * 1000))
        if not lock:
            return None
        grace = int(self.store.redis.info("server")["uptime_in_seconds"]) < self.check_after
        acted = 0
        waiting: set[str] | None = None
        due = self.store.scripts.run("DUE", [LEASES], [100])
        for job_id in (j.decode() for j in due):
            outcome, *details = self.store.run(
                "EXPIRE", job_id, job_id, new_delivery(), int(self.check_after * 1000),
                MAX_ATTEMPTS, now_iso(), int(grace), keys=(LEASES, RUNNING),
            )  # fmt: skip
            outcome = outcome.decode()
            if outcome == "requeue":
                delivery, worker = (d.decode() for d in details)
                log.warning("job %s lost its worker %s; queued again", job_id, worker)
                send_job(self.app, job_id, delivery)
                acted += 1
            elif outcome == "exhausted":
                worker, attempts = details[0].decode(), int(details[1])
                self.store.fail(job_id, "worker_lost", worker_lost_message(worker, attempts))
                acted += 1
            elif outcome == "check":
                waiting = waiting if waiting is not None else queued_deliveries(self.store.redis)
                acted += self._check(job_id, details[0].decode(), waiting)
        return acted

    def _check(self, job_id: str, delivery: str, waiting: set[str]) -> int:
        """A queued job due for a look at its message: still waiting (look again later,
        backing off), or lost (sent again under a new delivery)."""
        if delivery in waiting:
            check = int(self.check_after * 1000)
            self.store.run("RECHECK", job_id, job_id, check, MAX_BACKOFF, keys=(LEASES,))
            return 0
        fresh = new_delivery()
        moved = self.store.run(
            "REDELIVER", job_id, delivery, fresh, int(self.check_after * 1000), job_id, now_iso(),
            keys=(LEASES,),
        )  # fmt: skip
        if not moved:
            return 0
        log.warning("job %s: its message was lost; sent again", job_id)
        send_job(self.app, job_id, fresh)
        return 1
