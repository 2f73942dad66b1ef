"""Finds jobs whose worker is gone and queues them again; every worker's main process runs it.

A running job whose lease lapsed lost its worker (a killed child, a killed or crashed worker,
a lost host, a broker restart that stopped it): it is queued again under a new delivery, its
attempt counted, or failed as `worker_lost` once it used its last attempt. A queued job is
checked after a while for its message: one the broker lost (or handed to a worker that died
before starting it) is sent again. Several sweepers may run at once: each move is atomic.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field

import redis
from celery import Celery

from workers.celery_app import QUEUE, send_job
from workers.jobs.store import MAX_ATTEMPTS, JobStore

log = logging.getLogger(__name__)

# kombu's Redis transport: the queue is a list; reserved, unacknowledged messages sit in a
# hash, with the time they were reserved in a sorted set.
UNACKED, UNACKED_INDEX = "unacked", "unacked_index"


@dataclass
class BrokerSnapshot:
    """Which deliveries the broker holds: waiting in the queue, or reserved (and when)."""

    waiting: set[str] = field(default_factory=set)
    reserved: dict[str, float] = field(default_factory=dict)

    @classmethod
    def take(cls, client: redis.Redis, queue: str = QUEUE) -> BrokerSnapshot:
        snapshot = cls()
        for raw in client.lrange(queue, 0, -1):
            snapshot.waiting.add(_task_id(raw, reserved=False))
        index = client.zrange(UNACKED_INDEX, 0, -1, withscores=True)
        since = {tag.decode(): float(score) for tag, score in index}
        for tag, raw in client.hgetall(UNACKED).items():
            snapshot.reserved[_task_id(raw, reserved=True)] = since.get(tag.decode(), 0.0)
        return snapshot

    def holds(self, delivery: str, reserved_after: float) -> bool:
        return delivery in self.waiting or self.reserved.get(delivery, 0.0) > reserved_after


def _task_id(raw: bytes, *, reserved: bool) -> str:
    """The task id (our delivery id) in a queued message, or a reserved one's record (a list
    whose first item is the message)."""
    try:
        message = json.loads(raw)
        return str((message[0] if reserved else message)["headers"]["id"])
    except (ValueError, KeyError, TypeError, IndexError):
        return ""


class Sweeper:
    def __init__(self, store: JobStore, app: Celery, *, check_after: float) -> None:
        self.store = store
        self.app = app
        self.check_after = check_after

    def sweep(self) -> int:
        """One pass over the due jobs; the number queued again or failed."""
        acted = 0
        snapshot: BrokerSnapshot | None = None
        for job_id in self.store.due():
            outcome, delivery = self.store.expire(
                job_id, check_after=self.check_after, cap=MAX_ATTEMPTS
            )
            if outcome == "requeue":
                log.warning("job %s lost its worker; queued again", job_id)
                send_job(self.app, job_id, delivery)
                acted += 1
            elif outcome == "exhausted":
                self.store.fail_worker_lost(job_id)
                acted += 1
            elif outcome == "check":
                snapshot = snapshot or BrokerSnapshot.take(self.store.redis)
                if snapshot.holds(delivery, reserved_after=time.time() - self.check_after):
                    self.store.recheck_later(job_id, self.check_after)
                    continue
                renewed = self.store.redeliver(job_id, delivery, check_after=self.check_after)
                if renewed:
                    log.warning("job %s: its message was lost; sent again", job_id)
                    send_job(self.app, job_id, renewed)
                    acted += 1
        return acted
