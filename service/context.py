"""What request handlers need (settings, Redis, job store, cache, Celery), built once per app."""

from __future__ import annotations

from dataclasses import dataclass

import redis
from celery import Celery
from flask import current_app

from workers.cache import ResultCache
from workers.celery_app import create_celery
from workers.connections import redis_client
from workers.jobs import JobStore, job_store
from workers.settings import Settings


@dataclass(frozen=True)
class Services:
    settings: Settings
    queue: redis.Redis
    jobs: JobStore
    results: ResultCache
    celery: Celery

    @classmethod
    def build(cls, settings: Settings) -> Services:
        return cls(
            settings=settings,
            queue=redis_client(settings.redis_url),
            jobs=job_store(settings),
            results=ResultCache(redis_client(settings.cache_redis_url()), settings.cache_ttl),
            celery=create_celery(settings),
        )


def services() -> Services:
    """The current app's services."""
    found = current_app.extensions["vertaal"]
    assert isinstance(found, Services)
    return found
