"""Worker start-up, for `vertaal worker`: check the models, tell the web process what this
worker produces, then run Celery's prefork worker on the job queue."""

from __future__ import annotations

from workers.cache import publish_signature
from workers.celery_app import QUEUE, create_celery
from workers.connections import redis_client
from workers.engines.signature import worker_signature
from workers.settings import Settings


def run_worker(settings: Settings, loglevel: str = "INFO") -> None:
    """Runs until the worker is stopped. Models load later, in each process on its first job:
    Celery kills slow process-init handlers, and torch must not be touched before the fork."""
    app = create_celery(settings)
    publish_signature(redis_client(settings.redis_url), worker_signature(settings))
    app.worker_main(
        [
            "worker",
            f"--concurrency={settings.worker_processes}",
            "--pool=prefork",
            f"--loglevel={loglevel}",
            f"--queues={QUEUE}",
            "--without-gossip",
            "--without-mingle",
        ]
    )
