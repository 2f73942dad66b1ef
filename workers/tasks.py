"""The Celery task: load the job, run the pipeline, write progress and the result.

Everything about translating lives in `workers.pipeline`; this module only moves a job record
through its statuses. Delivery is at-least-once (acks_late), so a job that is no longer active
when its message arrives is skipped.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from dataclasses import replace
from typing import Any

import redis
from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded

from workers.cache import ResultCache, SentenceCache, article_key
from workers.celery_app import TASK_NAME, settings_of
from workers.connections import redis_client
from workers.engines.factory import load_engines
from workers.engines.signature import worker_signature
from workers.errors import CancelledError, VertaalError
from workers.job_record import ACTIVE, JobError, JobStatus, Progress
from workers.jobs import JobStore, job_store
from workers.pipeline.run import RunOptions, translate_article
from workers.settings import Settings

log = logging.getLogger(__name__)

# A job whose article kills its worker process this many times fails instead of looping.
MAX_ATTEMPTS = 3
# At most one progress write per second; a batch is checked for cancellation every time.
PROGRESS_INTERVAL = 1.0


@functools.cache
def cached_signature(settings: Settings) -> dict[str, Any]:
    return worker_signature(settings)


class ProgressReporter:
    """The pipeline's progress callback: throttled writes, and a cancel check every batch."""

    def __init__(self, store: JobStore, job_id: str) -> None:
        self.store = store
        self.job_id = job_id
        self.last_write = 0.0
        self.last_stage = ""

    def __call__(self, done: int, total: int, stage: str) -> None:
        now = time.monotonic()
        if now - self.last_write >= PROGRESS_INTERVAL or stage != self.last_stage or done == total:
            status = self.store.record_progress(self.job_id, Progress(done, total, stage))
            self.last_write, self.last_stage = now, stage
        else:
            status = self.store.status(self.job_id)
        if status is not JobStatus.RUNNING:
            raise CancelledError(f"job {self.job_id} is {status or 'gone'}")


class JobTask(Task):
    """Marks the job failed for errors the task body did not handle itself. Celery also calls
    this, in the worker's main process, when it kills a job at the hard time limit."""

    def on_failure(self, exc: Exception, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        settings = settings_of(self.app)
        if isinstance(exc, TimeLimitExceeded):
            code = "timeout"
            message = f"the article was stopped after {settings.hard_time_limit} seconds"
        else:
            code, message = "internal_error", f"the worker failed: {type(exc).__name__}: {exc}"
        try:
            fail(job_store(settings), args[0], code, message)
        except redis.RedisError:
            log.exception("could not mark job %s failed", args[0])


@shared_task(name=TASK_NAME, base=JobTask, bind=True)
def translate_article_task(self: Task, job_id: str) -> None:
    run_job(job_id, settings_of(self.app), worker=f"{self.request.hostname} pid {os.getpid()}")


def run_job(job_id: str, settings: Settings, *, worker: str) -> None:
    store = job_store(settings)
    job = store.get(job_id)
    if job is None or job.status not in ACTIVE:
        return  # expired, cancelled while queued, or finished by an earlier delivery
    if store.add_attempt(job_id) > MAX_ATTEMPTS:
        return fail(
            store,
            job_id,
            "worker_lost",
            f"the worker process died {MAX_ATTEMPTS} times while translating this article "
            "(out of memory?); it will not be retried",
        )
    document = store.get_input(job_id)
    if document is None:
        # Its input key expired or was evicted (a maxmemory policy on the broker's Redis):
        # fail the job so it releases its dedupe claim rather than stay queued for a day.
        return fail(
            store, job_id, "input_lost", "the article's text is no longer stored; submit it again"
        )
    if not store.start(job_id, worker):
        return

    options = replace(
        RunOptions.from_settings(settings),
        summary=job.options.summary,
        check_language=job.options.check_language,
    )
    try:
        signature = cached_signature(settings)
        cache_client = redis_client(settings.cache_redis_url())
        results = ResultCache(cache_client, settings.cache_ttl)
        key = article_key(signature, document, job.options.summary)
        sentences = SentenceCache(cache_client, signature["translation"], settings.cache_ttl)
        engines = load_engines(settings, summary=job.options.summary)
        result = translate_article(
            document, engines, options, cache=sentences, on_progress=ProgressReporter(store, job_id)
        )
    except CancelledError:
        return  # the API already marked it cancelled; nothing is cached
    except SoftTimeLimitExceeded:
        return fail(
            store, job_id, "timeout", f"the article took longer than {settings.soft_time_limit} s"
        )
    except VertaalError as error:
        return fail(store, job_id, error.code, str(error))
    if not store.end(job_id, JobStatus.DONE, result=result):
        return  # cancelled after the last progress check: its result is not cached either
    if not engines.as_signed:
        log.warning("job %s ran on a fallback engine; its result is not cached", job_id)
        return
    try:
        sentences.flush()
        results.put(key, result)
    except redis.RedisError as error:  # unreachable, out of memory, read-only replica...
        log.warning("job %s is done but its result is not cached: %s", job_id, error)


def fail(store: JobStore, job_id: str, code: str, message: str) -> None:
    store.end(job_id, JobStatus.FAILED, error=JobError(code, message))
