"""The Celery task: claim the job for this delivery, run the pipeline under a lease, end it.

Everything about translating lives in `workers.pipeline`; this module only moves a job record
through its statuses. Delivery is at-least-once (acks_late), and a message may arrive after
the sweeper gave its job a new delivery: only the job's current delivery runs it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import redis
from billiard.exceptions import Terminated, WorkerLostError
from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded

from workers import replies
from workers.cache import ResultCache, SentenceCache, article_key, content_digest
from workers.celery_app import SHORT_TASK, TASK_NAME, settings_of
from workers.connections import RedisUnavailable, redis_client
from workers.errors import INTERRUPTIONS, CancelledError, VertaalError
from workers.jobs.record import JobRecord, JobStatus, Progress
from workers.jobs.store import MAX_ATTEMPTS, Claimed, JobStore, job_store
from workers.operations import heartbeats
from workers.pipeline.article import Result, SourceFile
from workers.settings import Settings
from workers.translating import (
    ArticleWork,
    Made,
    cached_signature,
    translate_job,
    translate_jobs,
    translate_texts,
)

log = logging.getLogger(__name__)

# At most one progress write per second; the lease is checked at every batch.
PROGRESS_INTERVAL = 1.0
# How often a worker waiting for company looks for more queued articles.
BATCH_POLL = 0.05


class Lease:
    """Holds a running job's lease: renewed by a thread while the pipeline works (a batch
    may take longer than the lease), and at each progress report, which it also stores.
    Once the job is no longer this delivery's to run (cancelled, or given to a new delivery
    after this one was thought dead), the next report raises CancelledError."""

    def __init__(
        self, store: JobStore, job_id: str, delivery: str, seconds: float, attempt: int
    ) -> None:
        self.store, self.job_id, self.delivery, self.seconds = store, job_id, delivery, seconds
        self.attempt = attempt
        self.found = "running"
        self.last_write, self.last_stage = 0.0, ""
        self.stopped = threading.Event()
        self.keeper = threading.Thread(target=self._keep, name=f"lease-{job_id}", daemon=True)

    def __enter__(self) -> Lease:
        self.keeper.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.keeper.join(timeout=5)

    def _renew(self, progress: Progress | None = None) -> None:
        try:
            self.found = self.store.renew(
                self.job_id, self.delivery, lease=self.seconds, progress=progress
            )
        except RedisUnavailable as error:  # keep working; the lease may lapse meanwhile
            log.warning("could not renew the lease of job %s: %s", self.job_id, error)

    def _keep(self) -> None:
        while not self.stopped.wait(self.seconds / 3):
            self._renew()

    def __call__(self, done: int, total: int, stage: str) -> None:
        now = time.monotonic()
        due = now - self.last_write >= PROGRESS_INTERVAL or stage != self.last_stage
        if due or done == total:
            self._renew(Progress(done, total, stage, self.attempt))
            self.last_write, self.last_stage = now, stage
        else:
            self._renew()
        if self.found != "running":
            raise CancelledError(f"job {self.job_id} is {self.found}")


class JobTask(Task):
    """Marks the job failed for errors the task body did not handle itself. Celery also calls
    this, in the worker's main process, when it kills a job at the hard time limit."""

    def on_failure(self, exc: Exception, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        settings = settings_of(self.app)
        if isinstance(exc, WorkerLostError | Terminated):
            # The process died or was stopped (a kill, the broker connection lost): the job's
            # lease runs out and the sweeper queues it again, counting the attempt.
            log.warning("job %s lost its worker process: %s", args[0], exc)
            return
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
def translate_article_task(self: Task, job_id: str, delivery: str) -> None:
    worker = f"{self.request.hostname} pid {os.getpid()}"
    run_job(job_id, delivery, settings_of(self.app), worker=worker)


# Inputs a worker takes together in one batch, in bytes: about 20 long news articles. A batch
# runs under one task's time limit, so a larger article runs alone.
BATCH_MAX_BYTES = 200_000


@dataclass(frozen=True)
class Taken:
    """A job this task runs: started by its own message, or claimed to run with it."""

    job_id: str
    delivery: str
    attempt: int
    source: SourceFile
    job: JobRecord


def run_job(job_id: str, delivery: str, settings: Settings, *, worker: str) -> None:
    store = job_store(settings)
    started = store.start(job_id, delivery, worker, lease=settings.lease_seconds, cap=MAX_ATTEMPTS)
    if started.outcome == "exhausted":
        store.fail_worker_lost(job_id)
        return
    if started.outcome != "running":
        log.info("skipping a message for job %s: it is %s", job_id, started.outcome)
        return  # expired, over, cancelled while queued, or another delivery is current
    own = _taken(store, job_id, delivery, started.attempt)
    if own is None:
        return
    batch = [own]
    # A job that started before (its worker died) runs alone: if its article is what kills
    # workers, it takes no other article down with it.
    if (
        own.job.options.kind == "article"
        and started.attempt == 1
        and len(own.source.data) <= BATCH_MAX_BYTES
    ):
        batch += _company(store, own, settings, worker)
    _run(store, batch, settings)


def _taken(store: JobStore, job_id: str, delivery: str, attempt: int) -> Taken | None:
    source = store.get_input(job_id)
    job = store.get(job_id)
    if source is None or job is None:
        # Its input key expired or was evicted: fail the job so it releases its dedupe
        # claim rather than stay queued for a day.
        fail(store, job_id, "input_lost", "the article's text is no longer stored; submit it again")
        return None
    return Taken(job_id, delivery, attempt, source, job)


def _company(store: JobStore, own: Taken, settings: Settings, worker: str) -> list[Taken]:
    """Queued articles to run with this one (their summaries batched), waiting up to
    VERTAAL_BATCH_WAIT once for more to arrive; none when batching is off."""
    wanted = settings.batch_articles - 1
    if wanted <= 0:
        return []
    budget = BATCH_MAX_BYTES - len(own.source.data)
    # With several workers, each takes its share of what waits, so none idles while another
    # holds the queue in its batch.
    processes = heartbeats.live_processes(store.redis, settings.heartbeat_seconds)
    claimed: list[Claimed] = []
    deadline = time.monotonic() + settings.batch_wait
    while wanted > len(claimed):
        claimed += store.claim_queued(
            worker, f"{own.delivery}.{len(claimed)}", lease=settings.lease_seconds,
            count=wanted - len(claimed), budget=budget - sum(c.size for c in claimed),
            processes=processes, held=len(claimed),
        )  # fmt: skip
        if time.monotonic() >= deadline:
            break
        time.sleep(min(BATCH_POLL, max(0.0, deadline - time.monotonic())))
    if claimed:
        log.info("job %s runs with %d queued articles", own.job_id, len(claimed))
    taken = [_taken(store, c.job_id, c.delivery, c.attempt) for c in claimed]
    return [t for t in taken if t is not None]


def _run(store: JobStore, batch: list[Taken], settings: Settings) -> None:
    """Run the jobs under their leases, then end each on its own."""
    with ExitStack() as leases:
        work = [
            ArticleWork(t.source, t.job.options, leases.enter_context(
                Lease(store, t.job_id, t.delivery, settings.lease_seconds, t.attempt)))
            for t in batch
        ]  # fmt: skip
        try:
            if len(batch) == 1:
                made: list[Made | Exception] = [_alone(work[0], settings)]
            else:
                made = translate_jobs(work, settings)
        except SoftTimeLimitExceeded:
            for taken in batch:
                fail(store, taken.job_id, "timeout",
                     f"the article took longer than {settings.soft_time_limit} s")  # fmt: skip
            return
    for taken, outcome in zip(batch, made, strict=True):
        _conclude(store, taken, outcome, settings)


def _alone(work: ArticleWork, settings: Settings) -> Made | Exception:
    try:
        return translate_job(work.source, work.options, settings, work.on_progress)
    except INTERRUPTIONS:
        raise
    except (CancelledError, VertaalError) as error:
        return error


def _conclude(store: JobStore, taken: Taken, outcome: Made | Exception, settings: Settings) -> None:
    job_id = taken.job_id
    if isinstance(outcome, CancelledError):
        return  # cancelled, or taken over by a new delivery: nothing is cached
    if isinstance(outcome, VertaalError):
        fail(store, job_id, outcome.code, str(outcome))
        return
    if isinstance(outcome, Exception):
        log.error("job %s failed", job_id, exc_info=outcome)
        fail(store, job_id, "internal_error",
             f"the worker failed: {type(outcome).__name__}: {outcome}")  # fmt: skip
        return
    made = outcome
    if made.file is not None:  # a document: the file is its download, nothing to cache
        store.keep_file(job_id, made.file.data, made.file.media_type)
        if store.end(job_id, JobStatus.DONE, result=made.result) and made.as_signed:
            _flush(made.sentences, job_id)
        return
    if not made.as_signed:
        log.warning("job %s ran on a fallback engine; its result is not cached", job_id)
        store.end(job_id, JobStatus.DONE, result=made.result)
        return
    key = article_key(cached_signature(settings), content_digest(taken.source), taken.job.options)
    _finish(store, job_id, key, made.result, made.sentences, settings)


def _flush(sentences: SentenceCache, job_id: str) -> None:
    try:
        sentences.flush()
    except redis.RedisError as error:
        log.warning("job %s: its sentences are not cached: %s", job_id, error)


def _finish(
    store: JobStore,
    job_id: str,
    key: str,
    result: Result,
    sentences: SentenceCache,
    settings: Settings,
) -> None:
    """Cache the result, then end the job pointing at it (or holding it, when it cannot be
    cached): a job record never copies a cached result. A job cancelled after its last batch
    wins, and what it cached is taken back."""
    results = ResultCache(redis_client(settings.cache_redis_url()), settings.cache_ttl)
    created = cached = False
    try:
        created = results.put(key, result)
        cached = created or results.has(key)
    except redis.RedisError as error:  # unreachable, out of memory, read-only replica...
        log.warning("job %s: its result is not cached: %s", job_id, error)
    if not store.end(job_id, JobStatus.DONE, result=result, result_key=key if cached else None):
        if created:
            results.delete(key)
        return
    _flush(sentences, job_id)


def fail(store: JobStore, job_id: str, code: str, message: str) -> None:
    store.fail(job_id, code, message)


@shared_task(name=SHORT_TASK, bind=True, acks_late=False)
def translate_texts_task(
    self: Task, reply_to: str, texts: list[str], html: bool, summary: bool
) -> None:
    """Short texts for a waiting request (LibreTranslate, DeepL): the answer goes to its
    reply list. At most once: the request waits only so long, then says 503, and the message
    expires with it (`send_texts`), so a lost worker costs no duplicate."""
    settings = settings_of(self.app)
    try:
        done = translate_texts(texts, html=html, summary=summary, settings=settings)
        reply: dict[str, Any] = {"texts": done.texts, "summary": done.summary}
    except VertaalError as error:
        reply = {"error": {"code": error.code, "message": str(error)}}
    except Exception:  # a bug: the waiting request hears of it now, not after its wait
        log.exception("short texts for %s failed", reply_to)
        reply = {
            "error": {"code": "internal_error", "message": "the texts could not be translated"}
        }
    replies.send(redis_client(settings.redis_url), reply_to, reply)
