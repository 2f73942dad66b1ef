"""What request handlers need (settings, Redis, job store, glossaries, cache, Celery), built once
per app."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import redis
from celery import Celery
from flask import current_app

from workers.cache import ResultCache
from workers.celery_app import create_celery
from workers.connections import redis_client
from workers.glossaries import GlossaryStore
from workers.jobs.store import JobStore, job_store
from workers.operations.metrics import MetricsRecorder
from workers.settings import Settings


@dataclass(frozen=True)
class Services:
    settings: Settings
    queue: redis.Redis
    jobs: JobStore
    glossaries: GlossaryStore
    results: ResultCache
    celery: Celery
    metrics: MetricsRecorder
    # (checked at, used bytes, maxmemory) of the queue's Redis, re-read at most every second.
    _memory: list[tuple[float, int, int]] = field(default_factory=list)
    _memory_lock: threading.Lock = field(default_factory=threading.Lock)

    MEMORY_CHECK_SECONDS = 1.0

    def queue_memory(self) -> tuple[int, int]:
        """(used, maxmemory) of the queue's Redis; maxmemory 0 means it has no limit."""
        with self._memory_lock:
            if self._memory and time.monotonic() - self._memory[0][0] < self.MEMORY_CHECK_SECONDS:
                return self._memory[0][1:]
            memory = self.queue.info("memory")
            reading = (time.monotonic(), int(memory["used_memory"]), int(memory["maxmemory"]))
            self._memory[:] = [reading]
            return reading[1:]

    @classmethod
    def build(cls, settings: Settings) -> Services:
        queue = redis_client(settings.redis_url)
        return cls(
            settings=settings,
            queue=queue,
            jobs=job_store(settings),
            glossaries=GlossaryStore(queue, settings.job_ttl),
            results=ResultCache(redis_client(settings.cache_redis_url()), settings.cache_ttl),
            celery=create_celery(settings),
            metrics=MetricsRecorder(redis_client(settings.redis_url)),
        )


def services() -> Services:
    """The current app's services."""
    found = current_app.extensions["vertaal"]
    assert isinstance(found, Services)
    return found
